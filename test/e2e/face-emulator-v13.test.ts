// Contract tests for the emulator's Face v1.3-preview.1 surface, through the official REST client
// @azure-rest/ai-vision-face@1.0.0-beta.3 with `apiVersion: 'v1.3-preview.1'` in its options (the client builds
// `{endpoint}/face/{apiVersion}`; its typed paths are v1.2's, so the operations v1.2 lacks go through pathUnchecked),
// plus the device call, abuse monitoring (scripted and derived from face templates) and the settings resource. The
// shared emulator (global setup) serves the session tests; the settings and template tests use private emulators so
// that toggling a resource-wide setting never disturbs another suite.
import { readFileSync } from 'node:fs';
import createClient, { isUnexpected } from '@azure-rest/ai-vision-face';
import { AzureKeyCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';

const endpoint = inject('faceEndpoint');
const apiKey = inject('faceApiKey');
const V13 = 'v1.3-preview.1';
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));
const GRACE = fixture('face-grace-hopper.jpg');
const ASTRONAUT = fixture('face-astronaut.png');

const clientFor = (url: string, key: string, apiVersion: string = V13) =>
  createClient(url, new AzureKeyCredential(key), { allowInsecureConnection: true, apiVersion: apiVersion as 'v1.2' });
const client = clientFor(endpoint, apiKey);
const v12 = clientFor(endpoint, apiKey, 'v1.2');

type Fields = Record<string, string | number | boolean>;
let counter = 0;
const parts = (fields: Fields, image: Uint8Array | null = GRACE) => [
  ...Object.entries({ livenessOperationMode: 'Passive', deviceCorrelationId: `v13-${process.pid}-${++counter}`, ...fields })
    .map(([name, body]) => ({ name, body })),
  ...(image ? [{ name: 'verifyImage', body: image, filename: 'verify.jpg', contentType: 'application/octet-stream' }] : []),
];

function createWith(c: ReturnType<typeof clientFor>, fields: Fields = {}, image: Uint8Array | null = GRACE) {
  return c.path('/detectLivenessWithVerify-sessions').post({ contentType: 'multipart/form-data', body: parts(fields, image) as never });
}

async function createOk(c: ReturnType<typeof clientFor>, fields: Fields = {}, image: Uint8Array | null = GRACE) {
  const res = await createWith(c, fields, image);
  if (isUnexpected(res)) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as typeof res.body & { isAbuseMonitoringEnabled?: boolean };
}

async function getAny(c: ReturnType<typeof clientFor>, sessionId: string): Promise<any> {
  const res = await c.path('/detectLivenessWithVerify-sessions/{sessionId}', sessionId).get();
  expect(res.status).toBe('200');
  return res.body;
}

function expectError(res: { status: string; headers: Record<string, string>; body: unknown }, status: string, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['x-ms-error-code']).toBe(code);
  expect((res.body as { error: { code: string } }).error.code).toBe(code);
}

describe('v1.3-preview.1 liveness with verify (official client, apiVersion in its options)', () => {
  it('numberOfClientAttemptsAllowed: 1 to 3, default 1; the allowance holds at the device', async () => {
    expectError(await createWith(client, { numberOfClientAttemptsAllowed: 0 }), '400', 'BadArgument');
    expectError(await createWith(client, { numberOfClientAttemptsAllowed: 4 }), '400', 'BadArgument');
    expectError(await createWith(client, { numberOfClientAttemptsAllowed: 'two' }), '400', 'BadArgument');
    expectError(await createWith(client, {}, null), '400', 'BadArgument');
    expectError(await createWith(client, { livenessModelVersion: '2023-12-20' }), '400', 'BadArgument');

    const single = await createOk(client);
    expect((await performDeviceAttempt(endpoint, single.authToken, GRACE, { apiVersion: V13 })).status).toBe(200);
    expect((await performDeviceAttempt(endpoint, single.authToken, GRACE, { apiVersion: V13 })).status).toBe(403);

    const two = await createOk(client, { numberOfClientAttemptsAllowed: 2 });
    for (let i = 0; i < 2; i++) expect((await performDeviceAttempt(endpoint, two.authToken, GRACE, { apiVersion: V13, metadata: `m${i}` })).status).toBe(200);
    expect((await performDeviceAttempt(endpoint, two.authToken, GRACE, { apiVersion: V13 })).body).toMatchObject({ error: { code: 'AttemptLimitExceeded' } });
  });

  it('reports the digest to the device as the client SDK does, and clientInformation per attempt; v1.2 reads omit v1.3 fields', async () => {
    const created = await createOk(client, { enableSessionImage: true, returnVerifyImageHash: true });
    expect(typeof created.isAbuseMonitoringEnabled).toBe('boolean');
    const device = await performDeviceAttempt(endpoint, created.authToken, GRACE, { apiVersion: V13, metadata: 'sdk-meta' });
    expect(device.status).toBe(200);
    const reported = device.body as { attemptId: number; digest: string };
    expect(reported.attemptId).toBe(1);

    const got = await getAny(client, created.sessionId);
    const attempt = got.results.attempts[0];
    expect(attempt.result.digest).toBe(reported.digest);
    expect(attempt.clientInformation).toEqual([{ ip: '127.0.0.1' }]);
    expect(got).toHaveProperty('isAbuseMonitoringEnabled');
    // The shared emulator's monitoring is on once a v1.3 app stack has started (other suites); then every attempt has a verdict.
    if (got.isAbuseMonitoringEnabled) expect(attempt.abuseMonitoringResult).toMatchObject({ isAbuseDetected: expect.any(Boolean), otherFlaggedSessions: expect.any(Array) });
    else expect(attempt).not.toHaveProperty('abuseMonitoringResult');

    const old = await getAny(v12, created.sessionId);
    expect(old).not.toHaveProperty('isAbuseMonitoringEnabled');
    expect(old.results.attempts[0]).not.toHaveProperty('clientInformation');
    expect(old.results.attempts[0].result.digest).toBe(reported.digest);
  });

  it('a v1.2 session answers its device with 204 and allows 3 attempts', async () => {
    const created = await createOk(v12);
    expect(await performDeviceAttempt(endpoint, created.authToken, GRACE)).toEqual({ status: 204 });
  });
});

describe('v1.3-preview.1 plain liveness (JSON create, pathUnchecked)', () => {
  const createLiveness = (c: ReturnType<typeof clientFor>, body: Record<string, unknown>) =>
    c.pathUnchecked('/detectLiveness-sessions').post({ contentType: 'application/json', body });

  it('accepts the fields the spec declares, with their bounds', async () => {
    const res = await createLiveness(client, {
      livenessOperationMode: 'PassiveActive', deviceCorrelationId: 'plain-1', userCorrelationId: 'user-1',
      expectedClientIpAddress: '127.0.0.1', numberOfClientAttemptsAllowed: 1, authTokenTimeToLiveInSeconds: 60,
    });
    expect(res.status).toBe('200');
    const body = res.body as any;
    expect(body).toMatchObject({ status: 'NotStarted', expectedClientIpAddress: '127.0.0.1', results: { attempts: [] } });
    expect(body.results).not.toHaveProperty('verifyReferences');

    const device = await performDeviceAttempt(endpoint, body.authToken, GRACE, { apiVersion: V13, kind: 'liveness' });
    expect(device.status).toBe(200);
    const got = await client.pathUnchecked('/detectLiveness-sessions/{sessionId}', body.sessionId).get();
    const attempt = (got.body as any).results.attempts[0];
    expect(attempt.result.livenessDecision).toBe('realface');
    expect(attempt.result).not.toHaveProperty('verifyResult');
    // A plain session's token is not a with-verify token, and its id is not a with-verify session.
    expect((await performDeviceAttempt(endpoint, body.authToken, GRACE, { apiVersion: V13 })).status).toBe(401);
    expect((await client.path('/detectLivenessWithVerify-sessions/{sessionId}', body.sessionId).get()).status).toBe('404');
  });

  it.each([
    [{ livenessOperationMode: 'Passive', deviceCorrelationId: 'd', numberOfClientAttemptsAllowed: 4 }, 'BadArgument'],
    [{ livenessOperationMode: 'Passive', deviceCorrelationId: 'd', userCorrelationId: 'u', userCorrelationIdSetInClient: true }, 'BadArgument'],
    [{ livenessOperationMode: 'Passive', deviceCorrelationId: 'd', expectedClientIpAddress: 'not-an-ip' }, 'BadArgument'],
    [{ livenessOperationMode: 'Passive', deviceCorrelationId: 'd', expectedClientIpAddress: '10.0.0.0/33' }, 'BadArgument'],
    [{ livenessOperationMode: 'Passive', deviceCorrelationId: 'd', verifyImage: 'x' }, 'BadArgument'],
    [{ livenessOperationMode: 'Passive' }, 'InvalidDeviceCorrelationId'],
    [{ livenessOperationMode: 'Active', deviceCorrelationId: 'd' }, 'InvalidLivenessOperationMode'],
    [{ livenessOperationMode: 'Passive', deviceCorrelationId: 'd', authTokenTimeToLiveInSeconds: 59 }, 'InvalidTokenLifetime'],
  ])('refuses %j with %s', async (body, code) => {
    expectError(await createLiveness(client, body), '400', code);
  });

  it('v1.2 does not declare the v1.3 fields', async () => {
    expectError(await createLiveness(v12, { livenessOperationMode: 'Passive', deviceCorrelationId: 'd', userCorrelationId: 'u' }), '400', 'BadArgument');
    expect((await createLiveness(v12, { livenessOperationMode: 'Passive', deviceCorrelationId: 'd' })).status).toBe('200');
  });
});

describe('v1.3-preview.1 settings and abuse monitoring (private emulators)', () => {
  const key = 'v13-key';
  let stub: RunningFaceEmulator;
  let human: RunningFaceEmulator;
  beforeAll(async () => {
    [stub, human] = await Promise.all([
      startFaceEmulator({ port: 0, apiKey: key, engine: 'stub' }),
      startFaceEmulator({ port: 0, apiKey: key, engine: 'human', abuseEmbeddings: true, abuseMonitoringEnabled: true, abuseWindowSeconds: 3600 }),
    ]);
  }, 120_000);
  afterAll(async () => { await Promise.all([stub?.close(), human?.close()]); });

  it('GET and PATCH /settings; the client-assets token; none of it under v1.2', async () => {
    const c = clientFor(stub.url, key);
    expect((await c.pathUnchecked('/settings').get()).body).toEqual({ livenessAbuseMonitoring: { enabled: false } });
    const before = await createOk(c);
    expect(before.isAbuseMonitoringEnabled).toBe(false);
    const patched = await c.pathUnchecked('/settings').patch({ contentType: 'application/json', body: { livenessAbuseMonitoring: { enabled: true } } });
    expect(patched.status).toBe('200');
    expect(patched.body).toEqual({ livenessAbuseMonitoring: { enabled: true } });
    expect((await createOk(c)).isAbuseMonitoringEnabled).toBe(true);
    // A session records the setting as it was when it ran.
    expect((await getAny(c, before.sessionId)).isAbuseMonitoringEnabled).toBe(false);
    expect((await c.pathUnchecked('/settings').patch({ contentType: 'application/json', body: { enabled: true } })).status).toBe('400');
    expect((await c.pathUnchecked('/settings').patch({ contentType: 'application/json', body: { livenessAbuseMonitoring: { enabled: 'yes' } } })).status).toBe('400');

    const token = await c.pathUnchecked('/settings/getClientAssetsAccessToken').get();
    expect(token.status).toBe('200');
    const t = token.body as { expiry: string; accessToken: string; base64AccessToken: string };
    expect(Buffer.from(t.base64AccessToken, 'base64').toString()).toBe(t.accessToken);
    expect(Date.parse(t.expiry)).toBeGreaterThan(Date.now());

    expect((await clientFor(stub.url, key, 'v1.2').pathUnchecked('/settings').get()).status).toBe('404');
    expect((await clientFor(stub.url, 'wrong', V13).pathUnchecked('/settings').get()).status).toBe('401');
  });

  it('flags the same face under a second correlation id, naming the earlier session; not another face, not the same id', async () => {
    const c = clientFor(human.url, key);
    const attempt = async (correlationId: string, capture: Uint8Array) => {
      const s = await createOk(c, { deviceCorrelationId: correlationId, enableSessionImage: true });
      expect((await performDeviceAttempt(human.url, s.authToken, capture, { apiVersion: V13 })).status).toBe(200);
      const got = await getAny(c, s.sessionId);
      return { sessionId: s.sessionId, attempt: got.results.attempts[0] };
    };
    const first = await attempt('user-a', GRACE);
    expect(first.attempt.abuseMonitoringResult).toEqual({ isAbuseDetected: false, otherFlaggedSessions: [] });
    const again = await attempt('user-a', GRACE); // the same person under the same id: fine
    expect(again.attempt.abuseMonitoringResult.isAbuseDetected).toBe(false);
    const stranger = await attempt('user-c', ASTRONAUT); // another face under another id: fine
    expect(stranger.attempt.abuseMonitoringResult.isAbuseDetected).toBe(false);

    const second = await attempt('user-b', GRACE);
    expect(second.attempt.abuseMonitoringResult.isAbuseDetected).toBe(true);
    const named = second.attempt.abuseMonitoringResult.otherFlaggedSessions;
    expect(named.map((o: { sessionId: string }) => o.sessionId).sort()).toEqual([first.sessionId, again.sessionId].sort());
    expect(named[0]).toMatchObject({ attemptId: 1, sessionImageId: expect.any(String) });

    // Outside the window the earlier templates no longer count.
    expect((await fetch(`${human.url}/emulator/clock`, {
      method: 'POST', headers: { 'ocp-apim-subscription-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 7200 }),
    })).status).toBe(200);
    const later = await attempt('user-d', GRACE);
    expect(later.attempt.abuseMonitoringResult.isAbuseDetected).toBe(false);
  });

  it('a script forces the verdict (and the sessions it names)', async () => {
    const c = clientFor(human.url, key);
    const s = await createOk(c, { deviceCorrelationId: `scripted-${Date.now()}` });
    const res = await fetch(`${human.url}/emulator/scripts`, {
      method: 'POST', headers: { 'ocp-apim-subscription-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: s.sessionId, abuseDetected: true, otherFlaggedSessions: [{ sessionId: '00000000-0000-4000-8000-000000000001', attemptId: 1 }] }),
    });
    expect(res.status).toBe(201);
    await performDeviceAttempt(human.url, s.authToken, ASTRONAUT, { apiVersion: V13 });
    expect((await getAny(c, s.sessionId)).results.attempts[0].abuseMonitoringResult).toEqual({
      isAbuseDetected: true, otherFlaggedSessions: [{ sessionId: '00000000-0000-4000-8000-000000000001', attemptId: 1 }],
    });
  });
});
