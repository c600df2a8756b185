import { openApiDocument } from '../openapi/document.js';
import { json } from '../shared/http.js';
import { app } from '@azure/functions';

/** GET /api/openapi.json — the OpenAPI 3.1 description of this API (anonymous; nothing in it is secret). */
app.http('openapi', { route: 'openapi.json', methods: ['GET'], authLevel: 'anonymous', handler: async () => json(200, openApiDocument) });
