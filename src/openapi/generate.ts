// Build step (`npm run build`, after tsc): writes the OpenAPI document generated from the zod contract next to this
// file in dist/, where GET /api/openapi.json reads it. Generating at build time keeps zod-openapi out of the function
// app (a devDependency) and makes a schema the generator cannot render fail the build, not a request.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createOpenApiDocument } from './document.js';

const target = fileURLToPath(new URL('./openapi.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(createOpenApiDocument(), null, 2)}\n`);
console.log(`OpenAPI document written to ${target}`);
