import { readFileSync } from 'node:fs';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';

/** Written by `npm run build` (src/openapi/generate.ts) from the zod contract in src/contract. */
const DOCUMENT_FILE = new URL('../openapi/openapi.json', import.meta.url);
let document: unknown;

/** GET /api/openapi.json — the OpenAPI 3.1 description of this API (anonymous; nothing in it is secret). */
export const getOpenApiDocument: OperationHandler<'getOpenApiDocument'> = async () => {
  document ??= JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8'));
  return json(200, document);
};

httpOperation('getOpenApiDocument', getOpenApiDocument);
