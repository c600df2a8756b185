import { readFileSync } from 'node:fs';
import { anonymousHttp } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json } from '../shared/http.js';

/** Written by `npm run build` (src/openapi/generate.ts) from the zod contract in src/contract. */
const DOCUMENT_FILE = new URL('../openapi/openapi.json', import.meta.url);
let document: unknown;

/** GET /api/openapi.json — the OpenAPI 3.1 description of this API (anonymous; nothing in it is secret). */
export const getOpenApiDocument: HttpRoute<undefined> = async () => {
  document ??= JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8'));
  return json(200, document);
};

anonymousHttp('openapi', { route: 'openapi.json', methods: ['GET'], handler: getOpenApiDocument });
