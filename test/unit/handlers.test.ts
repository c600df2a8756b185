// The HTTP handlers and triggers in-process: each route function wrapped by httpHandler with the real authenticators
// (deviceBearer, hostAdminKey, entraBackOffice), fed an HttpRequest, and given fake services through the resolver.
// Covers authentication, the error table (status, code, Retry-After, no stack traces, 500 for bugs), and the answers.
import { HttpRequest, InvocationContext, type HttpHandler, type HttpResponseInit, type Timer } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { FaceRejectedError, FaceUnavailableError, StorageUnavailableError } from '../../src/core/errors.js';
import { health } from '../../src/functions/health.js';
import { failPoisonedCompletion } from '../../src/functions/liveness-completions-poison.js';
import { collectLivenessResult } from '../../src/functions/liveness-completions.js';
import { listLivenessAuditEntries } from '../../src/functions/liveness-sessions-audit-entries.js';
import { completeLivenessSession } from '../../src/functions/liveness-sessions-complete.js';
import { createLivenessSession } from '../../src/functions/liveness-sessions-create.js';
import { deleteLivenessSession } from '../../src/functions/liveness-sessions-delete.js';
import { getLivenessSession } from '../../src/functions/liveness-sessions-get.js';
import { listLivenessSessions } from '../../src/functions/liveness-sessions-list.js';
import { getLivenessSessionStatus } from '../../src/functions/liveness-sessions-status.js';
import { sweepLivenessSessions } from '../../src/functions/liveness-sweep.js';
import { anonymous, deviceBearer, entraBackOffice, hostAdminKey } from '../../src/shared/auth.js';
import { httpHandler, triggerHandler, type Authenticate, type HttpRoute } from '../../src/shared/handler.js';
import {
  BACK_OFFICE_ROLE, CapturingLogger, deviceFields, fakeServices, fakeWorld, fixtureImage, startFor, type FakeServices, type FakeWorld,
} from '../fakes/index.js';

const BASE = 'http://localhost:7071/api';
const face = fixtureImage();

interface Harness {
  world: FakeWorld;
  fakes: FakeServices;
  log: CapturingLogger;
  deviceToken: string;
  call<C>(authenticate: Authenticate<C>, route: HttpRoute<C>, init: ConstructorParameters<typeof HttpRequest>[0]): Promise<Answer>;
}

interface Answer { status: number; headers: Record<string, string>; body: any }

function harness(options: { backOffice?: boolean } = {}): Harness {
  const world = fakeWorld();
  const fakes = fakeServices(world, options);
  const log = new CapturingLogger();
  const deviceToken = fakes.deviceAuth.issue('alice');
  return {
    world, fakes, log, deviceToken,
    async call(authenticate, route, init) {
      const handler: HttpHandler = httpHandler(authenticate, route, async () => fakes.services);
      const context = new InvocationContext({ invocationId: 'inv-123', functionName: 'test', logHandler: log.logHandler });
      const response = (await handler(new HttpRequest(init), context)) as HttpResponseInit;
      return { status: response.status ?? 200, headers: { ...(response.headers as Record<string, string> | undefined) }, body: response.jsonBody };
    },
  };
}

async function multipart(fields: Record<string, string>, image: Uint8Array | null = face): Promise<{ bytes: Uint8Array; contentType: string }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (image) form.append('verifyImage', new Blob([image]), 'face.jpg');
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { bytes: new Uint8Array(await request.arrayBuffer()), contentType: request.headers.get('content-type')! };
}

/** A create as the device sends it: the current consent version (from GET /api/privacy), the fields and the image. */
async function createRequest(h: Harness, fields: Record<string, string> = {}, headers: Record<string, string> = {}, image?: Uint8Array) {
  return createRequestWithForm(h, deviceFields(h.world, fields), headers, image);
}

/** A create with exactly these form fields. */
async function createRequestWithForm(h: Harness, fields: Record<string, string>, headers: Record<string, string> = {}, image?: Uint8Array) {
  const body = await multipart(fields, image ?? face);
  return h.call(deviceBearer, createLivenessSession, {
    method: 'POST', url: `${BASE}/liveness-sessions`, body: { bytes: body.bytes },
    headers: { authorization: `Bearer ${h.deviceToken}`, 'content-type': body.contentType, ...headers },
  });
}

function expectError(answer: Answer, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(JSON.stringify(answer.body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
  expect(answer.headers).toMatchObject({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
}

describe('POST /api/liveness-sessions', () => {
  it('201 with the session, its Location and the security headers', async () => {
    const h = harness();
    const answer = await createRequest(h, { deviceCorrelationId: 'dev-1' });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/), authToken: 'face-token-1',
      authTokenExpiresDateTime: '2026-01-01T09:10:00.000Z', verifyImage: expect.any(Object),
    });
    expect(answer.headers).toMatchObject({ location: `/api/liveness-sessions/${answer.body.sessionId}`, 'cache-control': 'no-store' });
    expect(answer.headers).not.toHaveProperty('idempotent-replayed');
    expect(h.world.sessions.peek(answer.body.sessionId)).toMatchObject({ subject: 'alice', deviceCorrelationId: 'dev-1' });
    expect(h.log.text()).not.toContain(answer.body.authToken);
    expect(h.log.text()).not.toContain(h.deviceToken);
  });

  it('a replay with the same Idempotency-Key says so', async () => {
    const h = harness();
    const first = await createRequest(h, {}, { 'idempotency-key': 'k-1' });
    const again = await createRequest(h, {}, { 'idempotency-key': 'k-1' });
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expectError(await createRequest(h, {}, { 'idempotency-key': 'k 1' }), 400, 'InvalidIdempotencyKey');
  });

  it.each([
    ['no Authorization', {}],
    ['an unknown token', { authorization: 'Bearer forged' }],
    ['a back-office token', { authorization: 'Bearer backoffice-token' }],
  ])('401 with WWW-Authenticate for %s, before anything is read or made', async (_what, headers) => {
    const h = harness();
    h.fakes.backOfficeAuth.issue('ops', [BACK_OFFICE_ROLE]);
    const body = await multipart({});
    const answer = await h.call(deviceBearer, createLivenessSession, {
      method: 'POST', url: `${BASE}/liveness-sessions`, body: { bytes: body.bytes }, headers: { 'content-type': body.contentType, ...headers },
    });
    expectError(answer, 401, 'Unauthorized');
    expect(answer.headers['www-authenticate']).toBe('Bearer');
    expect(h.world.face.hooks.allCalls()).toEqual({});
    expect(h.world.sessions.hooks.allCalls()).toEqual({});
  });

  it.each([
    [{ authTokenTimeToLiveInSeconds: '59' }, 'InvalidTokenLifetime'],
    [{ authTokenTimeToLiveInSeconds: 'ten' }, 'InvalidTokenLifetime'],
    [{ livenessOperationMode: 'Active' }, 'InvalidLivenessOperationMode'],
    [{ deviceCorrelationId: 'x'.repeat(65) }, 'InvalidDeviceCorrelationId'],
    [{ enableSessionImage: 'yes' }, 'InvalidEnableSessionImage'],
    [{ somethingElse: '1' }, 'UnknownField'],
  ])('400 for fields %j (%s), and nothing is made', async (fields, code) => {
    const h = harness();
    expectError(await createRequest(h, fields), 400, code);
    expect(h.world.face.hooks.calls('create')).toBe(0);
    expect(h.world.sessions.all()).toEqual([]);
  });

  it.each([
    ['without consentVersion', {}],
    ['with an older consent version', { consentVersion: '2025-01' }],
    ['with a malformed consent version', { consentVersion: 'not a version' }],
  ])('400 ConsentRequired %s, and nothing is read into storage or made', async (_what, fields) => {
    const h = harness();
    expectError(await createRequestWithForm(h, fields), 400, 'ConsentRequired');
    expect(h.world.face.hooks.allCalls()).toEqual({});
    expect(h.world.sessions.hooks.allCalls()).toEqual({});
    expect(h.world.images.hooks.allCalls()).toEqual({});
    expect(h.world.subjects.records.size).toBe(0);
  });

  it('415 for a body that is not multipart; 400 without a verify image; 400 for an image under 1 KB', async () => {
    const h = harness();
    expectError(await h.call(deviceBearer, createLivenessSession, {
      method: 'POST', url: `${BASE}/liveness-sessions`, body: { string: '{}' },
      headers: { authorization: `Bearer ${h.deviceToken}`, 'content-type': 'application/json' },
    }), 415, 'UnsupportedMediaType');
    const noImage = await multipart(deviceFields(h.world, { deviceCorrelationId: 'x' }), null);
    expectError(await h.call(deviceBearer, createLivenessSession, {
      method: 'POST', url: `${BASE}/liveness-sessions`, body: { bytes: noImage.bytes },
      headers: { authorization: `Bearer ${h.deviceToken}`, 'content-type': noImage.contentType },
    }), 400, 'MissingVerifyImage');
    expectError(await createRequest(h, {}, {}, face.subarray(0, 500)), 400, 'InvalidImageSize');
  });

  it('a body longer than its declared Content-Length is refused (400), never read as a cut-off image', async () => {
    const h = harness();
    const body = await multipart(deviceFields(h.world, {}));
    const answer = await createRequestWithForm(h, deviceFields(h.world, {}), { 'content-length': String(body.bytes.byteLength - 5000) });
    expectError(answer, 400, 'InvalidMultipartBody');
    expect(h.world.sessions.all()).toEqual([]);
    expect(h.world.face.hooks.calls('create')).toBe(0);
  });

  it('429 with Retry-After while locked out', async () => {
    const h = harness();
    const subjectKey = h.world.subjects.keyOf('alice');
    for (let i = 0; i < 5; i++) await h.world.limiter.recordFailure({ kind: 'subject', id: subjectKey, subjectKey }, h.world.clock.now());
    const answer = await createRequest(h);
    expectError(answer, 429, 'TooManyAttempts');
    expect(answer.headers['retry-after']).toBe('1800');
  });

  it('Face\'s refusal is a 400 with Face\'s code; Face busy is a 503 with Retry-After and no details', async () => {
    const h = harness();
    h.world.face.hooks.failNext('create', new FaceRejectedError('InvalidImage', 'No face found.', 400));
    expectError(await createRequest(h), 400, 'InvalidImage');
    h.world.face.hooks.failNext('create', new FaceUnavailableError('upstream said 429 with secret detail', 7, 429));
    const busy = await createRequest(h);
    expectError(busy, 503, 'FaceUnavailable');
    expect(busy.headers['retry-after']).toBe('7');
    expect(busy.body.error.message).not.toContain('secret detail');
    expect(h.world.sessions.all()).toEqual([]);
    expect(h.world.images.names()).toEqual([]);
  });

  it('storage down is a 503 with Retry-After; a bug is a 500 with the correlation id, never a 503', async () => {
    const h = harness();
    h.world.sessions.hooks.failNext('create', new StorageUnavailableError('Table storage request failed.'));
    const down = await createRequest(h);
    expectError(down, 503, 'StorageUnavailable');
    expect(down.headers['retry-after']).toBe('5');
    h.world.sessions.hooks.failNext('create', new TypeError("Cannot read properties of undefined (reading 'etag')"));
    const bug = await createRequest(h);
    expectError(bug, 500, 'InternalError');
    expect(bug.body.error.message).toContain('inv-123');
    expect(bug.body.error.message).not.toContain('etag');
    expect(bug.headers['x-correlation-id']).toBe('inv-123');
    expect(h.log.messages('error').some((m) => m.includes('unhandled error') && m.includes('inv-123') && m.includes('TypeError'))).toBe(true);
  });
});

describe('device routes for one session', () => {
  async function withSession() {
    const h = harness();
    const s = await startFor(h.world, 'alice');
    return { h, s, auth: { authorization: `Bearer ${h.deviceToken}` } };
  }

  it('POST complete: 202 Accepted, no scores; then GET status: only sessionId and status', async () => {
    const { h, s, auth } = await withSession();
    const accepted = await h.call(deviceBearer, completeLivenessSession, { method: 'POST', url: `${BASE}/liveness-sessions/${s.sessionId}/complete`, params: { sessionId: s.sessionId }, headers: auth });
    expect(accepted).toMatchObject({ status: 202, body: { sessionId: s.sessionId, status: 'Accepted' } });
    expect(h.world.completions.peek()).toHaveLength(1);
    h.world.face.addSucceededAttempt(s.faceSessionId, { matchConfidence: 0.95 });
    await h.world.completions.drain().reduce(async (p, { message }) => {
      await p;
      await triggerHandler(collectLivenessResult, async () => h.fakes.services)(message, new InvocationContext({ logHandler: h.log.logHandler }));
    }, Promise.resolve());
    const status = await h.call(deviceBearer, getLivenessSessionStatus, { method: 'GET', url: `${BASE}/liveness-sessions/${s.sessionId}/status`, params: { sessionId: s.sessionId }, headers: auth });
    expect(status).toMatchObject({ status: 200, body: { sessionId: s.sessionId, status: 'pass' } });
    expect(Object.keys(status.body).sort()).toEqual(['sessionId', 'status']);
  });

  it('another subject gets the same 404 as for no session; an id that is not a UUID never reaches storage', async () => {
    const { h, s } = await withSession();
    const mallory = { authorization: `Bearer ${h.fakes.deviceAuth.issue('mallory')}` };
    expectError(await h.call(deviceBearer, completeLivenessSession, { method: 'POST', url: `${BASE}/x`, params: { sessionId: s.sessionId }, headers: mallory }), 404, 'SessionNotFound');
    expectError(await h.call(deviceBearer, getLivenessSessionStatus, { method: 'GET', url: `${BASE}/x`, params: { sessionId: s.sessionId }, headers: mallory }), 404, 'SessionNotFound');
    expect(h.world.completions.peek()).toEqual([]);
    h.world.sessions.hooks.resetCalls();
    expectError(await h.call(deviceBearer, completeLivenessSession, { method: 'POST', url: `${BASE}/x`, params: { sessionId: '..%2F..%2Fetc' }, headers: mallory }), 404, 'SessionNotFound');
    expect(h.world.sessions.hooks.allCalls()).toEqual({});
  });
});

describe('back-office routes', () => {
  async function withResult() {
    const h = harness();
    const s = await startFor(h.world, 'alice', { deviceCorrelationId: 'dev-1' });
    h.world.face.addSucceededAttempt(s.faceSessionId);
    await triggerHandler(collectLivenessResult, async () => h.fakes.services)(JSON.stringify({ sessionId: s.sessionId, try: 1 }), new InvocationContext({ logHandler: h.log.logHandler }));
    return { h, s };
  }
  const get = (h: Harness, route: HttpRoute<any>, url: string, params: Record<string, string> = {}, query: Record<string, string> = {}) =>
    h.call(hostAdminKey, route, { method: 'GET', url: `${BASE}${url}`, params, query });

  it('GET one session, its audit entries, and the list (admin key checked by the host)', async () => {
    const { h, s } = await withResult();
    const session = await get(h, getLivenessSession, `/liveness-sessions/${s.sessionId}`, { sessionId: s.sessionId });
    expect(session).toMatchObject({ status: 200, body: { id: s.sessionId, status: 'ResultAvailable', result: { id: 1 }, decision: { outcome: 'pass' } } });
    const audit = await get(h, listLivenessAuditEntries, `/x`, { sessionId: s.sessionId });
    expect(audit.body.value).toEqual([session.body.result]);
    const list = await get(h, listLivenessSessions, '/liveness-sessions', {}, { deviceCorrelationId: 'dev-1' });
    expect(list).toMatchObject({ status: 200, body: { value: [{ id: s.sessionId, status: 'ResultAvailable', sessionExpired: false }] } });
  });

  it.each([
    ['top=0', { top: '0' }, 'BadArgument'],
    ['top=1001', { top: '1001' }, 'BadArgument'],
    ['top=abc', { top: 'abc' }, 'BadArgument'],
    ['status=Unknown', { status: 'Unknown' }, 'BadArgument'],
    ['status=Creating', { status: 'Creating' }, 'BadArgument'],
    ['continuationToken=garbage', { continuationToken: 'garbage' }, 'InvalidContinuationToken'],
    ['orderBy=name', { orderBy: 'name' }, 'BadArgument'],
  ])('list with %s: 400 %s', async (_q, query, code) => {
    const h = harness();
    expectError(await get(h, listLivenessSessions, '/liveness-sessions', {}, query), 400, code);
  });

  it('DELETE: 204, then 404; the session is gone everywhere', async () => {
    const { h, s } = await withResult();
    const del = () => h.call(hostAdminKey, deleteLivenessSession, { method: 'DELETE', url: `${BASE}/x`, params: { sessionId: s.sessionId } });
    const first = await del();
    expect(first.status).toBe(204);
    expect(first.body).toBeUndefined();
    expectError(await del(), 404, 'SessionNotFound');
    expectError(await get(h, getLivenessSession, '/x', { sessionId: s.sessionId }), 404, 'SessionNotFound');
    expect(h.world.images.names()).toEqual([]);
  });

  it('the Entra twin: 401 without a token or with a device token, 403 without the role, 200 with it', async () => {
    const { h, s } = await withResult();
    const call = (headers: Record<string, string>) => h.call(entraBackOffice, getLivenessSession, { method: 'GET', url: `${BASE}/backoffice/x`, params: { sessionId: s.sessionId }, headers });
    expectError(await call({}), 401, 'Unauthorized');
    expectError(await call({ authorization: `Bearer ${h.deviceToken}` }), 401, 'Unauthorized');
    expectError(await call({ authorization: `Bearer ${h.fakes.backOfficeAuth.issue('ops', [])}` }), 403, 'Forbidden');
    expect((await call({ authorization: `Bearer ${h.fakes.backOfficeAuth.issue('ops', [BACK_OFFICE_ROLE])}` })).status).toBe(200);
  });

  it('the Entra twin refuses everyone when no back-office issuer is configured', async () => {
    const h = harness({ backOffice: false });
    const token = h.fakes.backOfficeAuth.issue('ops', [BACK_OFFICE_ROLE]);
    expectError(await h.call(entraBackOffice, listLivenessSessions, { method: 'GET', url: `${BASE}/backoffice/liveness-sessions`, headers: { authorization: `Bearer ${token}` } }), 401, 'Unauthorized');
  });
});

describe('GET /api/health', () => {
  it('200 when storage and Face answer, from a cache (one Face probe for many callers)', async () => {
    const h = harness();
    const ok = await h.call(anonymous, health, { method: 'GET', url: `${BASE}/health` });
    expect(ok).toMatchObject({ status: 200, body: { status: 'healthy', checks: { storage: { status: 'healthy' }, face: { status: 'healthy' } } } });
    await Promise.all(Array.from({ length: 5 }, () => h.call(anonymous, health, { method: 'GET', url: `${BASE}/health` })));
    expect(h.world.face.hooks.calls('probe')).toBe(1);
  });

  it('503 naming only which dependency is unhealthy; the reason goes to the log, not to the caller', async () => {
    const h = harness();
    h.world.face.hooks.failNext('probe', new FaceUnavailableError('Face refused this app key 401', 0, 401));
    const bad = await h.call(anonymous, health, { method: 'GET', url: `${BASE}/health` });
    expect(bad).toMatchObject({ status: 503, body: { status: 'unhealthy', checks: { storage: { status: 'healthy' }, face: { status: 'unhealthy' } } } });
    expect(JSON.stringify(bad.body)).not.toContain('401');
  });
});

describe('queue and timer triggers', () => {
  const context = (log: CapturingLogger, dequeueCount = 1) => new InvocationContext({ logHandler: log.logHandler, triggerMetadata: { dequeueCount } });

  it('a malformed completion message is dropped with a warning (not poisoned)', async () => {
    const h = harness();
    const run = triggerHandler(collectLivenessResult, async () => h.fakes.services);
    await expect(run('not json', context(h.log))).resolves.toBeUndefined();
    await expect(run({ sessionId: 'nope' }, context(h.log))).resolves.toBeUndefined();
    expect(h.log.messages('warn').filter((m) => m.startsWith('ignoring malformed completion message'))).toHaveLength(2);
  });

  it('a Face outage during collection propagates, so the host retries the message', async () => {
    const h = harness();
    const s = await startFor(h.world);
    h.world.face.hooks.failNext('get', new FaceUnavailableError('busy', 1));
    await expect(triggerHandler(collectLivenessResult, async () => h.fakes.services)({ sessionId: s.sessionId, try: 1 }, context(h.log)))
      .rejects.toBeInstanceOf(FaceUnavailableError);
  });

  it('a poisoned message marks its session Failed; one without a session id is dropped', async () => {
    const h = harness();
    const s = await startFor(h.world);
    const run = triggerHandler(failPoisonedCompletion, async () => h.fakes.services);
    await run({ sessionId: s.sessionId, try: 3 }, context(h.log, 5));
    expect(h.world.sessions.peek(s.sessionId)).toMatchObject({ status: 'Failed', failureReason: 'CollectionFailedRepeatedly' });
    await run('garbage', context(h.log, 5));
    expect(h.log.messages('warn')).toContain('poison message without a session id dropped');
  });

  it('the sweep timer returns its report and warns when it runs late', async () => {
    const h = harness();
    await startFor(h.world);
    h.world.clock.advance({ minutes: 11 });
    const timer: Timer = { isPastDue: true, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
    const report = await triggerHandler(sweepLivenessSessions, async () => h.fakes.services)(timer, context(h.log));
    expect(report).toMatchObject({ due: 1, expiredWithoutResult: 1, faceSessionsDeleted: 1 });
    expect(h.log.messages('warn')).toContain('sweep is running late');
  });
});
