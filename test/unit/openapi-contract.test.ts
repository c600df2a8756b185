// The contract, in-process: the OpenAPI document generated from the operation table and the zod schemas in
// src/contract describes exactly the HTTP functions src/functions registers, and is strict enough that the request and response
// checks every end-to-end suite runs (test/support/openapi.ts) can fail. The parse functions the handlers use keep
// the API's error codes and messages. (That the document is valid OpenAPI 3.1 by its meta-schema is checked in
// test/e2e/openapi.test.ts: the meta-validation alone took a third of the unit run.)
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { installCoreSeam, triggerOf } from '../../dev/host/core.js';
import { parseIdempotencyKey, parseListSessionsQuery, parseStartSessionForm } from '../../src/contract/index.js';
import { ValidationError } from '../../src/core/errors.js';
import { SESSION_STATUSES } from '../../src/core/session.js';
import { OPERATION_CONTRACTS } from '../../src/contract/operations.js';
import { createOpenApiDocument, documentPaths } from '../../src/openapi/document.js';
import { OPERATIONS } from '../../src/operations.js';
import {
  documentedOperations, exchangeProblems, findOperation, openApiDocument, registrationProblems,
  requestProblems, responseProblems, validateResponse,
} from '../support/openapi.js';

const doc = openApiDocument as Record<string, any>;
const SESSION = '3f1c5a3e-0000-4000-8000-000000000000';
const API = 'http://127.0.0.1:1/api';
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const here = path.dirname(fileURLToPath(import.meta.url));

describe('the generated document', () => {
  it('is deterministic: two generations give the same JSON', () => {
    expect(JSON.stringify(createOpenApiDocument())).toBe(JSON.stringify(doc));
  });

  it('gives every operation an id, a summary and a description, and every operation id is unique', () => {
    const ops = documentedOperations();
    for (const { path: p, method, operation } of ops) {
      expect(operation.operationId, `${method} ${p}`).toBeTruthy();
      expect(operation.summary, `${method} ${p}`).toBeTruthy();
      expect(operation.description, `${method} ${p}`).toBeTruthy();
    }
    expect(new Set(ops.map((o) => o.operation.operationId)).size).toBe(ops.length);
  });

  it('defines each enumeration once, as a component, from the core lists', () => {
    const schemas = doc.components.schemas;
    expect(schemas.SessionStatus.enum).toEqual([...SESSION_STATUSES]);
    expect(schemas.LivenessOperationMode.enum).toEqual(['Passive', 'PassiveActive']);
    const text = JSON.stringify(doc);
    expect(text.match(/"enum":\["NotStarted"/g)).toHaveLength(1);
    expect(text.match(/"enum":\["Passive"/g)).toHaveLength(1);
    const list = findOperation('GET', '/api/liveness-sessions')!.operation;
    expect(list.parameters.find((p: any) => p.name === 'status').schema.$ref).toBe('#/components/schemas/SessionStatus');
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

/**
 * Imports every function file into the dev host's seam, which receives app.* registrations as the worker would. The
 * seam is installed by the unit setup (test/setup/unit-setup.ts) before any file can load @azure/functions, so a
 * function module another file imported first has registered there already, once.
 */
async function registerAll() {
  const registry = installCoreSeam();
  const dir = path.join(here, '../../src/functions');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) await import(pathToFileURL(path.join(dir, file)).href);
  return registry;
}

function httpRoutes(registrations: ReturnType<typeof installCoreSeam>['registrations']) {
  return registrations.flatMap(({ metadata }) => {
    const trigger = triggerOf(metadata);
    if (trigger?.type.toLowerCase() !== 'httptrigger') return [];
    const route = `/${String(trigger.route ?? metadata.name).replace(/^\/+/, '')}`;
    return (trigger.methods as string[]).map((m) => ({ name: metadata.name, key: `${m.toLowerCase()} ${route}`, authLevel: String(trigger.authLevel ?? 'anonymous').toLowerCase() }));
  });
}

describe('the operation table, the document and the registered functions', () => {
  it('has exactly the routes and methods src/functions registers with app.http, with matching auth', async () => {
    const registered = httpRoutes((await registerAll()).registrations);
    expect(registered.length).toBeGreaterThan(10);
    expect(registrationProblems(registered)).toEqual([]);
  });

  it('registers every row of the table exactly once (twice for the back office: admin key and Entra ID)', async () => {
    const names = httpRoutes((await registerAll()).registrations).map((r) => r.name).sort();
    const expected = Object.values(OPERATIONS).flatMap((row) => (row.auth === 'backOffice' ? [row.name, `${row.name}-entra`] : [row.name])).sort();
    expect(names).toEqual(expected);
  });

  it('catches a function registered the old way, past the table', async () => {
    const registry = await registerAll();
    const { app } = await import('@azure/functions');
    app.http('rogue', { route: 'liveness-sessions/{sessionId}/rogue', methods: ['POST'], authLevel: 'anonymous', handler: async () => ({ status: 204 }) });
    try {
      expect(registrationProblems(httpRoutes(registry.registrations))).toEqual(['post /liveness-sessions/{sessionId}/rogue is registered but not documented']);
    } finally {
      // The unit files share one registry (isolate: false): the other checks must not see the rogue function.
      registry.registrations.splice(registry.registrations.findIndex((r) => r.metadata.name === 'rogue'), 1);
    }
  });

  it('refuses a row of the table without a contract, and a contract without a row', () => {
    expect(() => documentPaths({ ...OPERATIONS, getThing: { name: 'thing', route: 'thing', method: 'GET', auth: 'anonymous' } }, OPERATION_CONTRACTS))
      .toThrow(/getThing has a row in src\/operations.ts but no contract/);
    const { getHealth: _, ...withoutHealth } = OPERATIONS;
    expect(() => documentPaths(withoutHealth, OPERATION_CONTRACTS)).toThrow(/getHealth has a contract but no row/);
    expect(() => documentPaths({ ...OPERATIONS, getHealthAgain: { ...OPERATIONS.getHealth } }, { ...OPERATION_CONTRACTS, getHealthAgain: OPERATION_CONTRACTS.getHealth }))
      .toThrow(/GET \/health is in the operation table twice/);
  });

  it('derives each back-office operation twice, from one row: admin key at /x, Entra ID at /backoffice/x', () => {
    const paths = documentPaths() as Record<string, Record<string, any>>;
    expect(paths['/subjects/{subjectKey}']!.get.security).toEqual([{ functionsKeyHeader: [] }]);
    expect(paths['/backoffice/subjects/{subjectKey}']!.get.operationId).toBe('exportSubjectWithEntraId');
    expect(Object.keys(paths['/backoffice/subjects/{subjectKey}']!.get.responses).sort()).toEqual(['200', '401', '403', '404', '500', '503']);
    expect(paths['/liveness-sessions']!.post.security).toEqual([{ deviceBearer: [] }]);
  });
});

describe('the response check', () => {
  it('rejects a deliberate mismatch: an extra field, a wrong enum value, a missing required field', () => {
    const url = `${API}/liveness-sessions/${SESSION}/status`;
    expect(responseProblems('GET', url, 200, JSON_HEADERS, { sessionId: SESSION, status: 'pass' })).toEqual([]);
    expect(() => validateResponse('GET', url, 200, JSON_HEADERS, { sessionId: SESSION, status: 'pass', matchConfidence: 0.9 }))
      .toThrow(/must NOT have additional properties \('matchConfidence'\)/);
    expect(() => validateResponse('GET', url, 200, JSON_HEADERS, { sessionId: SESSION, status: 'review' })).toThrow(/allowed values/);
    expect(() => validateResponse('GET', url, 200, JSON_HEADERS, { status: 'pass' })).toThrow(/sessionId/);
  });

  it('rejects an undocumented status, a missing Retry-After, a missing Location, a body on 204 and an unknown route', () => {
    const err = { error: { code: 'X', message: 'x' } };
    expect(() => validateResponse('GET', `${API}/liveness-sessions/${SESSION}/status`, 418, JSON_HEADERS, err)).toThrow(/not documented/);
    expect(() => validateResponse('POST', `${API}/liveness-sessions`, 429, JSON_HEADERS, err)).toThrow(/Retry-After/);
    expect(() => validateResponse('POST', `${API}/liveness-sessions`, 503, { ...JSON_HEADERS, 'retry-after': 'soon' }, err)).toThrow(/Retry-After/);
    expect(() => validateResponse('POST', `${API}/liveness-sessions`, 201, JSON_HEADERS, {
      sessionId: SESSION, authToken: 't', authTokenExpiresDateTime: new Date().toISOString(), verifyImage: {},
    })).toThrow(/Location/);
    expect(() => validateResponse('DELETE', `${API}/liveness-sessions/${SESSION}`, 204, {}, { deleted: true })).toThrow(/no body/);
    expect(() => validateResponse('GET', `${API}/liveness-session`, 200, JSON_HEADERS, {})).toThrow(/no operation/);
    // An error body in the wrong shape (e.g. the host's own { error: 'Not Found' }) is caught too.
    expect(() => validateResponse('GET', `${API}/liveness-sessions/${SESSION}`, 404, JSON_HEADERS, { error: 'Not Found' })).toThrow(/must be object/);
  });

  it('holds a session body to the closed schema: dates, ids and the decision/reviewRequired pairing', () => {
    const url = `${API}/backoffice/liveness-sessions/${SESSION}`;
    const now = new Date().toISOString();
    const session = {
      id: SESSION, faceSessionId: 'f4ce5e55-1011-4000-8000-000000000001', createdDateTime: now, sessionExpired: false, authTokenTimeToLiveInSeconds: 600,
      authTokenExpiresDateTime: now, livenessOperationMode: 'Passive', status: 'ResultAvailable', verifyImage: {},
      decision: { outcome: 'pass', reasons: [], attemptId: 1, verifyImageHashMatches: true, policyVersion: 'v1', decidedDateTime: now },
      reviewRequired: false,
    };
    expect(responseProblems('GET', url, 200, JSON_HEADERS, session)).toEqual([]);
    const { reviewRequired: _, ...withoutReview } = session;
    expect(() => validateResponse('GET', url, 200, JSON_HEADERS, withoutReview)).toThrow(/reviewRequired/);
    expect(() => validateResponse('GET', url, 200, JSON_HEADERS, { ...session, createdDateTime: 'yesterday' })).toThrow(/date-time/);
    expect(() => validateResponse('GET', url, 200, JSON_HEADERS, { ...session, subject: 'device-1' })).toThrow(/must NOT have additional properties \('subject'\)/);
  });
});

const image = new Uint8Array(2048);
function form(fields: Record<string, string>, file: Uint8Array | null = image): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  if (file) f.append('verifyImage', new File([file], 'verify.jpg', { type: 'image/jpeg' }));
  return f;
}
const create = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', url: `${API}/liveness-sessions`, headers, body });

describe('the request check', () => {
  it('accepts the requests the document describes', async () => {
    expect(await requestProblems(create(form({})))).toEqual([]);
    expect(await requestProblems(create(form({
      deviceCorrelationId: 'kiosk-1', livenessOperationMode: 'PassiveActive', authTokenTimeToLiveInSeconds: '600', enableSessionImage: 'true',
    }), { 'idempotency-key': 'key-1' }))).toEqual([]);
    expect(await requestProblems({ method: 'GET', url: `${API}/liveness-sessions?top=10&status=Expired&deviceCorrelationId=d&continuationToken=abc` })).toEqual([]);
    expect(await requestProblems({ method: 'POST', url: `${API}/liveness-sessions/${SESSION}/complete` })).toEqual([]);
    expect(await requestProblems({ method: 'GET', url: `${API}/liveness-session` })).toBeUndefined();
  });

  it.each([
    ['a token lifetime below 60', form({ authTokenTimeToLiveInSeconds: '59' }), {}, /authTokenTimeToLiveInSeconds/],
    ['a token lifetime that is not a number', form({ authTokenTimeToLiveInSeconds: 'ten' }), {}, /authTokenTimeToLiveInSeconds/],
    ['an unknown operation mode', form({ livenessOperationMode: 'Active' }), {}, /livenessOperationMode/],
    ['a device id of 65 characters', form({ deviceCorrelationId: 'x'.repeat(65) }), {}, /deviceCorrelationId/],
    ['a device id with a space', form({ deviceCorrelationId: 'a b' }), {}, /deviceCorrelationId/],
    ['enableSessionImage=yes', form({ enableSessionImage: 'yes' }), {}, /enableSessionImage/],
    ['an unknown form field', form({ somethingElse: '1' }), {}, /additional properties/],
    // No verify image is a valid request now (an enrolled reference is used); the app refuses it without one.
    ['a consent version with a space', form({ consentVersion: 'a b' }), {}, /consentVersion/],
    ['the verify image as a text part', form({ verifyImage: 'abc' }, null), {}, /must be a file part/],
    ['the verify image twice', (() => { const f = form({}); f.append('verifyImage', new File([image], 'again.jpg')); return f; })(), {}, /more than once/],
    ['an Idempotency-Key with a space', form({}), { 'idempotency-key': 'a b' }, /Idempotency-Key/],
    ['a JSON body', '{}', { 'content-type': 'application/json' }, /content-type 'application\/json' is not documented/],
    ['no body', undefined, {}, /body is required/],
  ])('refuses %s', async (_name, body, headers, problem) => {
    const problems = await requestProblems(create(body, headers));
    expect(problems?.join('; ')).toMatch(problem);
  });

  it.each([
    ['top=0', /top/], ['top=1001', /top/], ['top=ten', /top/], ['status=Creating', /status/], ['deviceCorrelationId=', /deviceCorrelationId/],
    [`continuationToken=${'x'.repeat(1025)}`, /continuationToken/], ['color=red', /'color' is not documented/], ['top=1&top=2', /appears 2 times/],
  ])('refuses the list query %s', async (query, problem) => {
    const problems = await requestProblems({ method: 'GET', url: `${API}/backoffice/liveness-sessions?${query}` });
    expect(problems?.join('; ')).toMatch(problem);
  });

  it('refuses a body where none is documented', async () => {
    expect((await requestProblems({ method: 'POST', url: `${API}/subjects/${'a'.repeat(64)}/correlation-id/reset`, body: 'x' }))?.join()).toMatch(/none is documented/);
  });

  it('reads a hand-built multipart body as a form', async () => {
    const boundary = 'b0undary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="authTokenTimeToLiveInSeconds"\r\n\r\n59\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="verifyImage"; filename="v.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
      Buffer.from(image), Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const problems = await requestProblems(create(body, { 'content-type': `multipart/form-data; boundary=${boundary}` }));
    expect(problems?.join()).toMatch(/authTokenTimeToLiveInSeconds/);
    expect(await requestProblems(create(Buffer.from('not a form'), { 'content-type': `multipart/form-data; boundary=${boundary}` })))
      .toEqual(['the body is not a readable multipart/form-data form']);
  });
});

describe('the exchange check catches drift between the document and the app', () => {
  const started = { sessionId: SESSION, authToken: 't', authTokenExpiresDateTime: new Date().toISOString(), verifyImage: {} };
  const createdHeaders = { ...JSON_HEADERS, location: `/api/liveness-sessions/${SESSION}` };
  const badRequest = (code: string) => ({ status: 400, headers: JSON_HEADERS, body: { error: { code, message: 'm' } } });

  it('when the app accepts a request the document refuses', async () => {
    expect(await exchangeProblems(create(form({})), { status: 201, headers: createdHeaders, body: started })).toEqual([]);
    const drift = await exchangeProblems(create(form({ authTokenTimeToLiveInSeconds: '30' })), { status: 201, headers: createdHeaders, body: started });
    expect(drift.join()).toMatch(/accepted a request the document refuses/);
    expect(await exchangeProblems(create(form({ authTokenTimeToLiveInSeconds: '30' })), badRequest('InvalidTokenLifetime'))).toEqual([]);
  });

  it('when the app refuses, for a documented reason, a request the document allows', async () => {
    const drift = await exchangeProblems(create(form({ authTokenTimeToLiveInSeconds: '600' })), badRequest('InvalidTokenLifetime'));
    expect(drift.join()).toMatch(/document allows the request but the app refused it: InvalidTokenLifetime/);
    // A refusal the document cannot foresee (Face found no face in the image) is not drift.
    expect(await exchangeProblems(create(form({})), badRequest('InvalidImage'))).toEqual([]);
    expect(await exchangeProblems({ method: 'GET', url: `${API}/liveness-sessions?continuationToken=abc` }, badRequest('InvalidContinuationToken'))).toEqual([]);
  });
});

describe('the parse functions the handlers use', () => {
  const refusal = (run: () => unknown) => {
    try { run(); } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return { code: (error as ValidationError).code, message: (error as ValidationError).message };
    }
    throw new Error('expected a ValidationError');
  };

  it('parse the start form into typed values, with the old leniency', () => {
    expect(parseStartSessionForm({})).toEqual({});
    expect(parseStartSessionForm({
      deviceCorrelationId: 'kiosk-1', livenessOperationMode: ' passiveactive ', authTokenTimeToLiveInSeconds: '0600', enableSessionImage: 'false',
    })).toEqual({ deviceCorrelationId: 'kiosk-1', livenessOperationMode: 'PassiveActive', authTokenTimeToLiveInSeconds: 600, enableSessionImage: false });
  });

  it.each([
    [{ deviceCorrelationId: '' }, 'InvalidDeviceCorrelationId', 'deviceCorrelationId must not be empty'],
    [{ deviceCorrelationId: 'x'.repeat(65) }, 'InvalidDeviceCorrelationId', 'deviceCorrelationId must be at most 64 characters'],
    [{ deviceCorrelationId: 'a b' }, 'InvalidDeviceCorrelationId', 'deviceCorrelationId must be printable ASCII without spaces'],
    [{ livenessOperationMode: 'Active' }, 'InvalidLivenessOperationMode', "livenessOperationMode must be 'Passive' or 'PassiveActive'"],
    [{ authTokenTimeToLiveInSeconds: 'ten' }, 'InvalidTokenLifetime', 'authTokenTimeToLiveInSeconds must be a whole number of seconds from 60 to 86400'],
    [{ authTokenTimeToLiveInSeconds: '1234567' }, 'InvalidTokenLifetime', 'authTokenTimeToLiveInSeconds must be a whole number of seconds from 60 to 86400'],
    [{ authTokenTimeToLiveInSeconds: '59' }, 'InvalidTokenLifetime', 'authTokenTimeToLiveInSeconds must be at least 60'],
    [{ authTokenTimeToLiveInSeconds: '86401' }, 'InvalidTokenLifetime', 'authTokenTimeToLiveInSeconds must be at most 86400'],
    [{ enableSessionImage: 'yes' }, 'InvalidEnableSessionImage', "enableSessionImage must be 'true' or 'false'"],
    [{ enableSessionImage: 'yes', deviceCorrelationId: '' }, 'InvalidDeviceCorrelationId', 'deviceCorrelationId must not be empty'],
  ])('refuse the start form %j with %s', (fields, code, message) => {
    expect(refusal(() => parseStartSessionForm(fields))).toEqual({ code, message });
  });

  it('parse the list query with the old codes and messages; the admin key is not a query parameter', () => {
    expect(parseListSessionsQuery(new URLSearchParams(''))).toEqual({ top: 50 });
    expect(() => parseListSessionsQuery(new URLSearchParams('code=k'))).toThrow("Unknown query parameter 'code'.");
    expect(parseListSessionsQuery(new URLSearchParams('top=7&status=Failed&deviceCorrelationId=d&continuationToken=t')))
      .toEqual({ top: 7, status: 'Failed', deviceCorrelationId: 'd', continuationToken: 't' });
    const bad = (q: string) => refusal(() => parseListSessionsQuery(new URLSearchParams(q)));
    expect(bad('color=red&top=0')).toEqual({ code: 'BadArgument', message: "Unknown query parameter 'color'." });
    expect(bad('top=0')).toEqual({ code: 'BadArgument', message: "'top' must be a whole number from 1 to 1000." });
    expect(bad('top=12345')).toEqual({ code: 'BadArgument', message: "'top' must be a whole number from 1 to 1000." });
    expect(bad('status=Creating')).toEqual({ code: 'BadArgument', message: `'status' must be one of ${SESSION_STATUSES.join(', ')}.` });
    expect(bad('deviceCorrelationId=')).toEqual({ code: 'BadArgument', message: "'deviceCorrelationId' must be 1 to 64 characters." });
    expect(bad(`continuationToken=${'x'.repeat(1025)}`)).toEqual({ code: 'InvalidContinuationToken', message: 'continuationToken is not one this API returned.' });
  });

  it('parse the Idempotency-Key header', () => {
    expect(parseIdempotencyKey(new Headers())).toBeUndefined();
    expect(parseIdempotencyKey(new Headers({ 'Idempotency-Key': 'k-1' }))).toBe('k-1');
    expect(refusal(() => parseIdempotencyKey(new Headers({ 'idempotency-key': 'a b' }))))
      .toEqual({ code: 'InvalidIdempotencyKey', message: 'Idempotency-Key must be 1 to 255 printable ASCII characters.' });
  });
});
