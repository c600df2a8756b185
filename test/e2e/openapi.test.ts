// The OpenAPI document as the app serves it: exactly the document generated from the zod contract (so the build
// step ran and is current), covering exactly the HTTP functions the host indexed, and in agreement with real answers
// to real requests; and valid OpenAPI 3.1 by the specification's own JSON Schema (here rather than in the unit run,
// where this one check took a third of the time). The checks' strictness is tested in-process
// (test/unit/openapi-contract.test.ts).
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_TYPES_FILE, WEB_TYPES_FILE, webTypesFor } from '../../scripts/generate-web-types.js';
import { backOfficeToken, bearer, deviceToken, getJson, startStack, type Stack } from '../support/liveness.js';
import { compileAllSchemas, exchangeProblems, registrationProblems, openApiDocument, responseProblems, validateResponse } from '../support/openapi.js';

const doc = openApiDocument as Record<string, any>;
const SESSION = '3f1c5a3e-0000-4000-8000-000000000000';
let stack: Stack;

beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.stop(); });

describe('the generated document', () => {
  it('is valid OpenAPI 3.1 (by the OpenAPI 3.1 JSON Schema)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });
  it('every schema in it compiles under JSON Schema 2020-12 (strict ajv), and every $ref resolves', () => {
    expect(compileAllSchemas()).toBeGreaterThan(20);
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(20);
    for (const r of refs) {
      const target = r.slice(8, -1).replace(/^#\//, '').split('/').reduce<any>((o, k) => o?.[k], doc);
      expect(target, r).toBeDefined();
    }
  });
});

describe("the pages' API types", () => {
  it('are what openapi-typescript makes of the current document (web/shared/api-schema.gen.ts is not stale)', async () => {
    expect(readFileSync(WEB_TYPES_FILE, 'utf8')).toBe(await webTypesFor(doc));
  });
});

describe("the relying parties' client types", () => {
  it('are what openapi-typescript makes of the current document (clients/typescript/api.gen.ts is not stale)', async () => {
    expect(readFileSync(CLIENT_TYPES_FILE, 'utf8')).toBe(await webTypesFor(doc));
  });
});

describe('served by the app', () => {
  it('at GET /api/openapi.json, anonymously, exactly as generated from the contract', async () => {
    const res = await getJson(`${stack.api}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual(doc);
  });

  it('describes exactly the registered HTTP functions: routes, methods and auth levels', async () => {
    const base = stack.api.replace(/\/api$/, '');
    const functions = (await (await fetch(`${base}/admin/functions`)).json()) as Array<{ name: string; bindings: Record<string, Record<string, any>> }>;
    const registered = functions.flatMap((f) => {
      const trigger = Object.values(f.bindings).find((b) => String(b.type).toLowerCase() === 'httptrigger');
      if (!trigger) return [];
      const path = `/${String(trigger.route ?? f.name).replace(/^\/+/, '')}`;
      return (trigger.methods as string[]).map((m) => ({ name: f.name, key: `${m.toLowerCase()} ${path}`, authLevel: String(trigger.authLevel ?? 'anonymous').toLowerCase() }));
    });
    expect(registered.length).toBeGreaterThan(10);
    expect(registrationProblems(registered)).toEqual([]);
  });
});

describe('real answers', () => {
  it('conform: health, a 404, a back-office 401 with WWW-Authenticate, a device 401', async () => {
    // getJson validates by itself; these are the explicit checks.
    const health = await fetch(`${stack.api}/health`);
    expect(responseProblems('GET', health.url, health.status, health.headers, await health.json())).toEqual([]);

    const missing = await getJson(`${stack.api}/liveness-sessions/${SESSION}`);
    expect(missing.status).toBe(404);
    validateResponse('GET', `${stack.api}/liveness-sessions/${SESSION}`, missing.status, missing.headers, missing.body);

    const unsigned = await getJson(`${stack.api}/backoffice/liveness-sessions`);
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('www-authenticate')).toBe('Bearer');

    const device = await getJson(`${stack.api}/liveness-sessions/${SESSION}/status`, { headers: bearer('not-a-jwt') });
    expect(device.status).toBe(401);

    const polled = await getJson(`${stack.api}/liveness-sessions/${SESSION}/status`, { headers: bearer(await deviceToken()) });
    expect(polled.status).toBe(404);
  });

  it('agree with the document on which list queries are valid: the app refuses exactly what it refuses', async () => {
    const headers = bearer(await backOfficeToken());
    const cases: Array<[query: string, valid: boolean]> = [
      ['top=5&status=Expired&deviceCorrelationId=d-1', true], ['top=1000', true], ['', true],
      ['top=0', false], ['top=1001', false], ['status=Creating', false], ['deviceCorrelationId=', false], ['color=red', false],
    ];
    for (const [query, valid] of cases) {
      const url = `${stack.api}/backoffice/liveness-sessions?${query}`;
      const res = await fetch(url, { headers });
      const body = await res.json();
      expect(res.status, query).toBe(valid ? 200 : 400);
      expect(await exchangeProblems({ method: 'GET', url, headers }, { status: res.status, headers: res.headers, body }), query).toEqual([]);
    }
  });
});
