// The OpenAPI document: a valid OpenAPI 3.1 description, served by the app, covering exactly the registered HTTP
// functions, and strict enough that the response validator used by every end-to-end suite can fail.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/openapi/document.js';
import { bearer, deviceToken, getJson, startStack, type Stack } from '../support/liveness.js';
import { compileAllSchemas, documentedOperations, findOperation, responseProblems, validateResponse } from '../support/openapi.js';

const doc = openApiDocument as Record<string, any>;
const SESSION = '3f1c5a3e-0000-4000-8000-000000000000';
let stack: Stack;

beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.stop(); });

describe('the document', () => {
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
    for (const r of refs) {
      const target = r.slice(8, -1).replace(/^#\//, '').split('/').reduce<any>((o, k) => o?.[k], doc);
      expect(target, r).toBeDefined();
    }
  });

  it('gives every operation an id, a summary and a description, and every operation id is unique', () => {
    const ops = documentedOperations();
    for (const { path, method, operation } of ops) {
      expect(operation.operationId, `${method} ${path}`).toBeTruthy();
      expect(operation.summary, `${method} ${path}`).toBeTruthy();
      expect(operation.description, `${method} ${path}`).toBeTruthy();
    }
    expect(new Set(ops.map((o) => o.operation.operationId)).size).toBe(ops.length);
  });

  it('matches concrete paths before templated ones, and strips the /api server prefix', () => {
    expect(findOperation('GET', '/api/backoffice/liveness-sessions')?.pathTemplate).toBe('/backoffice/liveness-sessions');
    expect(findOperation('GET', `/api/liveness-sessions/${SESSION}`)?.pathTemplate).toBe('/liveness-sessions/{sessionId}');
    expect(findOperation('GET', `/api/backoffice/liveness-sessions/${SESSION}/audit-entries`)?.operation.operationId)
      .toBe('listLivenessAuditEntriesWithEntraId');
    expect(findOperation('GET', '/liveness-sessions')).toBeUndefined(); // no /api prefix: not the app's API
    expect(findOperation('PATCH', `/api/liveness-sessions/${SESSION}`)).toBeUndefined();
  });
});

describe('served by the app', () => {
  it('at GET /api/openapi.json, anonymously, exactly as in the source', async () => {
    const res = await getJson(`${stack.api}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
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
    const documented = documentedOperations();
    expect(documented.map((o) => `${o.method} ${o.path}`).sort()).toEqual(registered.map((r) => r.key).sort());

    for (const r of registered) {
      const op = documented.find((o) => `${o.method} ${o.path}` === r.key)!.operation;
      const schemes = (op.security as Array<Record<string, string[]>>).flatMap((s) => Object.keys(s));
      if (r.authLevel === 'admin') expect(schemes, r.key).toEqual(['functionsKeyHeader', 'functionsKeyQuery']);
      else expect(schemes, r.key).not.toContain('functionsKeyHeader');
      if (r.key.includes(' /backoffice/')) expect(schemes, r.key).toEqual(['backOfficeBearer']);
    }
  });
});

describe('the response validator', () => {
  it('accepts real answers: health, a 404, a back-office 401 with WWW-Authenticate, a device 401', async () => {
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

  it('rejects a deliberate mismatch: an extra field, a wrong enum value, a missing required field', () => {
    const url = `http://127.0.0.1:1/api/liveness-sessions/${SESSION}/status`;
    const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
    expect(responseProblems('GET', url, 200, headers, { sessionId: SESSION, status: 'pass' })).toEqual([]);
    expect(() => validateResponse('GET', url, 200, headers, { sessionId: SESSION, status: 'pass', matchConfidence: 0.9 }))
      .toThrow(/must NOT have additional properties \('matchConfidence'\)/);
    expect(() => validateResponse('GET', url, 200, headers, { sessionId: SESSION, status: 'review' })).toThrow(/allowed values/);
    expect(() => validateResponse('GET', url, 200, headers, { status: 'pass' })).toThrow(/sessionId/);
  });

  it('rejects an undocumented status, a missing Retry-After, a missing Location, a body on 204 and an unknown route', () => {
    const api = 'http://127.0.0.1:1/api';
    const json = { 'content-type': 'application/json', 'cache-control': 'no-store' };
    const err = { error: { code: 'X', message: 'x' } };
    expect(() => validateResponse('GET', `${api}/liveness-sessions/${SESSION}/status`, 418, json, err)).toThrow(/not documented/);
    expect(() => validateResponse('POST', `${api}/liveness-sessions`, 429, json, err)).toThrow(/Retry-After/);
    expect(() => validateResponse('POST', `${api}/liveness-sessions`, 503, { ...json, 'retry-after': 'soon' }, err)).toThrow(/Retry-After/);
    expect(() => validateResponse('POST', `${api}/liveness-sessions`, 201, json, {
      sessionId: SESSION, authToken: 't', authTokenExpiresDateTime: new Date().toISOString(), verifyImage: {},
    })).toThrow(/Location/);
    expect(() => validateResponse('DELETE', `${api}/liveness-sessions/${SESSION}`, 204, {}, { deleted: true })).toThrow(/no body/);
    expect(() => validateResponse('GET', `${api}/liveness-session`, 200, json, {})).toThrow(/no operation/);
    // An error body in the wrong shape (e.g. the host's own { error: 'Not Found' }) is caught too.
    expect(() => validateResponse('GET', `${api}/liveness-sessions/${SESSION}`, 404, json, { error: 'Not Found' })).toThrow(/must be object/);
  });

  it('holds a session body to the closed schema: dates, ids and the decision/reviewRequired pairing', () => {
    const url = `http://127.0.0.1:1/api/backoffice/liveness-sessions/${SESSION}`;
    const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
    const now = new Date().toISOString();
    const session = {
      id: SESSION, faceSessionId: 'f4ce5e55-1011-4000-8000-000000000001', createdDateTime: now, sessionExpired: false, authTokenTimeToLiveInSeconds: 600,
      authTokenExpiresDateTime: now, livenessOperationMode: 'Passive', status: 'ResultAvailable', verifyImage: {},
      decision: { outcome: 'pass', reasons: [], attemptId: 1, verifyImageHashMatches: true, policyVersion: 'v1', decidedDateTime: now },
      reviewRequired: false,
    };
    expect(responseProblems('GET', url, 200, headers, session)).toEqual([]);
    const { reviewRequired: _, ...withoutReview } = session;
    expect(() => validateResponse('GET', url, 200, headers, withoutReview)).toThrow(/reviewRequired/);
    expect(() => validateResponse('GET', url, 200, headers, { ...session, createdDateTime: 'yesterday' })).toThrow(/date-time/);
    expect(() => validateResponse('GET', url, 200, headers, { ...session, subject: 'device-1' })).toThrow(/must NOT have additional properties \('subject'\)/);
  });
});
