import { readFileSync } from 'node:fs';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { contextLogger } from '../shared/logger.js';
import { json, toErrorResponse } from '../shared/http.js';

/** Written by `npm run build` (src/openapi/generate.ts) from the zod contract in src/contract. */
const DOCUMENT_FILE = new URL('../openapi/openapi.json', import.meta.url);
let document: unknown;

/** GET /api/openapi.json — the OpenAPI 3.1 description of this API (anonymous; nothing in it is secret). */
export async function getOpenApiDocument(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    document ??= JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8'));
    return json(200, document);
  } catch (error) {
    return toErrorResponse(error, contextLogger(context));
  }
}

app.http('openapi', { route: 'openapi.json', methods: ['GET'], authLevel: 'anonymous', handler: getOpenApiDocument });
