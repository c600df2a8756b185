import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { openApiDocument } from '../openapi/document.js';
import { json } from '../shared/http.js';

/** GET /api/openapi.json — the OpenAPI 3.1 description of this API (anonymous; nothing in it is secret). */
export async function getOpenApiDocument(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  return json(200, openApiDocument);
}

app.http('openapi', { route: 'openapi.json', methods: ['GET'], authLevel: 'anonymous', handler: getOpenApiDocument });
