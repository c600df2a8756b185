// Access, abuse limits, idempotency, the decision policy with evidence binding, and secrets in logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { DEVICE_AUDIENCE, startDevIssuer } from '../../dev/oidc-issuer/issuer.js';
import {
  backOfficeToken, bearer, complete, createSession, deviceToken, emulator, eventually, faceSessionIds, fixture, getJson,
  issueToken, startForm, startStack, type CreatedSession, type Stack,
} from '../support/liveness.js';

const face = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
const MASTER_KEY = 'test-master-key';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    DEVHOST_MASTER_KEY: MASTER_KEY,
    DEVHOST_FUNCTION_KEY: 'test-function-key',
    ATTEMPT_LIMIT_MAX_FAILURES: '3',
    DECISION_MATCH_THRESHOLD: '0.8',
    DECISION_REVIEW_LOWER_BOUND: '0.6',
  });
});
afterAll(async () => { await stack?.stop(); });

const admin = { 'x-functions-key': MASTER_KEY };

async function finished(created: CreatedSession) {
  return eventually(async () => {
    const r = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`, { headers: admin });
    return ['ResultAvailable', 'Failed', 'Expired'].includes(r.body?.status) ? r.body : undefined;
  }, `result of ${created.sessionId}`);
}

async function runCheck(script: Record<string, unknown>, token?: string) {
  const device = `sec-${Math.random().toString(36).slice(2)}`;
  await emulator(stack, 'POST', '/emulator/scripts', { deviceCorrelationId: device, ...script });
  const created = await createSession(stack, face, { deviceCorrelationId: device }, token);
  await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
  await complete(stack, created);
  return { created, session: await finished(created) };
}

describe('device endpoints require a valid device token', () => {
  it('refuses missing, malformed, expired, wrong-audience and wrong-issuer tokens', async () => {
    const other = await startDevIssuer({ port: 0 });
    try {
      const cases: Record<string, Record<string, string>> = {
        missing: {},
        malformed: { authorization: 'Bearer not-a-jwt' },
        basic: { authorization: 'Basic dXNlcjpwYXNz' },
        expired: bearer(await issueToken({ sub: 'u1', aud: DEVICE_AUDIENCE, expires_in: -120 })),
        wrongAudience: bearer(await issueToken({ sub: 'u1', aud: 'api://someone-else' })),
        wrongIssuer: bearer(await other.issueToken({ sub: 'u1', aud: DEVICE_AUDIENCE })),
        backOfficeToken: bearer(await backOfficeToken()),
      };
      for (const [name, headers] of Object.entries(cases)) {
        const res = await getJson(`${stack.api}/liveness-sessions`, { method: 'POST', body: startForm(face), headers });
        expect(res.status, name).toBe(401);
        expect(res.body.error.code, name).toBe('Unauthorized');
        expect(res.headers.get('www-authenticate'), name).toBe('Bearer');
      }
    } finally {
      await other.close();
    }
  });

  it('another subject cannot complete or read a session (it looks like it does not exist)', async () => {
    const created = await createSession(stack, face);
    const stranger = bearer(await deviceToken());
    const completeRes = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/complete`, { method: 'POST', headers: stranger });
    expect(completeRes.status).toBe(404);
    expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/status`, { headers: stranger })).status).toBe(404);
    expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`, { method: 'DELETE', headers: stranger })).status).toBe(401);
    const own = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/status`, { headers: bearer(created.deviceToken) });
    expect(own).toMatchObject({ status: 200, body: { sessionId: created.sessionId, status: 'pending' } });
  });
});

describe('back-office endpoints', () => {
  it('need the admin key or a back-office token with the role; a device token never opens them', async () => {
    const created = await createSession(stack, face);
    const url = `${stack.api}/liveness-sessions/${created.sessionId}`;
    const entra = `${stack.api}/backoffice/liveness-sessions/${created.sessionId}`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: bearer(created.deviceToken) })).status).toBe(401);
    expect((await fetch(url, { headers: { 'x-functions-key': 'test-function-key' } })).status).toBe(401); // function key < admin
    expect((await fetch(url, { headers: admin })).status).toBe(200);
    // The key is refused in the URL (proxies and histories keep URLs), even when it is the right one.
    const inUrl = await getJson(`${url}?code=${MASTER_KEY}`);
    expect(inUrl.status).toBe(401);
    expect(inUrl.body.error.message).toContain('x-functions-key');
    expect((await fetch(entra, { headers: bearer(created.deviceToken) })).status).toBe(401);
    expect((await fetch(entra, { headers: bearer(await backOfficeToken([])) })).status).toBe(403);
    expect((await fetch(entra, { headers: bearer(await backOfficeToken(['Other.Role'])) })).status).toBe(403);
    const ok = await getJson(entra, { headers: bearer(await backOfficeToken()) });
    expect(ok.status).toBe(200);
    expect(ok.body.id).toBe(created.sessionId);
    const list = await getJson(`${stack.api}/backoffice/liveness-sessions?top=5`, { headers: bearer(await backOfficeToken()) });
    expect(list.status).toBe(200);
  });
});

describe('the decision policy', () => {
  it('passes a real face that matches, and the device learns only "pass"', async () => {
    const { created, session } = await runCheck({ livenessDecision: 'realface', matchConfidence: 0.93 });
    expect(session.status).toBe('ResultAvailable');
    expect(session.decision).toMatchObject({
      outcome: 'pass', reasons: [], livenessDecision: 'realface', matchConfidence: 0.93, attemptId: 1,
      verifyImageHashMatches: true, policyVersion: expect.stringMatching(/^auto-[0-9a-f]{12}$/),
    });
    expect(session.decision.digest).toMatch(/^[0-9A-F]{64}$/);
    expect(session.decision.modelVersion).toBeTruthy();
    const status = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/status`, { headers: bearer(created.deviceToken) });
    expect(status.body).toEqual({ sessionId: created.sessionId, status: 'pass' });
  });

  it('fails a spoof and a mismatch, flags the review band, asks for a retry when uncertain', async () => {
    const spoof = await runCheck({ livenessDecision: 'spoofface' });
    expect(spoof.session.decision).toMatchObject({ outcome: 'fail', reasons: ['Liveness:spoofface'] });
    const mismatch = await runCheck({ matchConfidence: 0.3 });
    expect(mismatch.session.decision).toMatchObject({ outcome: 'fail', reasons: ['MatchConfidenceBelowThreshold'] });
    const review = await runCheck({ matchConfidence: 0.7 });
    expect(review.session).toMatchObject({ reviewRequired: true, decision: { outcome: 'review', reasons: ['MatchConfidenceInReviewBand'] } });
    const uncertain = await runCheck({ livenessDecision: 'uncertain' });
    expect(uncertain.session.decision).toMatchObject({ outcome: 'retry', reasons: ['LivenessUncertain'] });
    const device = async (c: CreatedSession) =>
      (await getJson(`${stack.api}/liveness-sessions/${c.sessionId}/status`, { headers: bearer(c.deviceToken) })).body.status;
    expect(await device(spoof.created)).toBe('fail');
    expect(await device(review.created)).toBe('pending'); // a person decides; the device is not told about the band
    expect(await device(uncertain.created)).toBe('retry');
    const deviceBody = await getJson(`${stack.api}/liveness-sessions/${mismatch.created.sessionId}/status`, { headers: bearer(mismatch.created.deviceToken) });
    expect(Object.keys(deviceBody.body).sort()).toEqual(['sessionId', 'status']); // never scores or reasons
  });

  it('fails the session when Face compared against another verify image than the one stored', async () => {
    const created = await createSession(stack, face);
    // As if the stored evidence and what Face compared had diverged.
    await stack.repository.mutate(created.sessionId, (stored) => ({ ...stored, storedVerifyImage: { ...stored.storedVerifyImage, sha256: 'AB'.repeat(32) } }));
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    await complete(stack, created);
    const session = await finished(created);
    expect(session).toMatchObject({ status: 'Failed', failureReason: 'VerifyImageHashMismatch', decision: { outcome: 'fail', verifyImageHashMatches: false } });
  });
});

describe('abuse limits', () => {
  it('locks a subject out after repeated failures, with 429 and Retry-After', async () => {
    const token = await deviceToken();
    for (let i = 0; i < 3; i++) await runCheck({ livenessDecision: 'spoofface' }, token);
    const res = await getJson(`${stack.api}/liveness-sessions`, { method: 'POST', body: startForm(face), headers: bearer(token) });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('TooManyAttempts');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(1700);
    // Another subject is not affected.
    expect((await getJson(`${stack.api}/liveness-sessions`, { method: 'POST', body: startForm(face), headers: bearer(await deviceToken()) })).status).toBe(201);
  });

  it("locks a subject's device out, for that subject only", async () => {
    const device = `locked-${Date.now()}`;
    const token = await deviceToken();
    await emulator(stack, 'POST', '/emulator/scripts', { deviceCorrelationId: device, livenessDecision: 'spoofface' });
    for (let i = 0; i < 3; i++) {
      const created = await createSession(stack, face, { deviceCorrelationId: device }, token);
      await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
      await complete(stack, created);
      await finished(created);
    }
    const same = await getJson(`${stack.api}/liveness-sessions`, { method: 'POST', body: startForm(face, { deviceCorrelationId: device }), headers: bearer(token) });
    expect(same.status).toBe(429);
    const other = await getJson(`${stack.api}/liveness-sessions`, { method: 'POST', body: startForm(face, { deviceCorrelationId: device }), headers: bearer(await deviceToken()) });
    expect(other.status).toBe(201);
  });
});

describe('Idempotency-Key on create', () => {
  it('a retried request returns the same session and creates no second Face session', async () => {
    const token = await deviceToken();
    const device = `idem-${Date.now()}`;
    const send = (fields: Record<string, string> = { deviceCorrelationId: device }) => getJson(`${stack.api}/liveness-sessions`, {
      method: 'POST', body: startForm(face, fields), headers: { ...bearer(token), 'idempotency-key': `key-${device}` },
    });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const sessions = await emulator(stack, 'GET', '/emulator/sessions');
    expect(sessions.body.sessions.filter((s: { deviceCorrelationId?: string }) => s.deviceCorrelationId === device)).toHaveLength(1);
    const changed = await send({ deviceCorrelationId: `${device}-other` });
    expect(changed.status).toBe(422);
    expect(changed.body.error.code).toBe('IdempotencyKeyReused');
    // The key is per subject: another device user with the same key gets its own session.
    const otherUser = await getJson(`${stack.api}/liveness-sessions`, {
      method: 'POST', body: startForm(face, { deviceCorrelationId: device }), headers: { ...bearer(await deviceToken()), 'idempotency-key': `key-${device}` },
    });
    expect(otherUser.status).toBe(201);
    expect(otherUser.body.sessionId).not.toBe(first.body.sessionId);
  });

  it('concurrent retries with one key still make one session', async () => {
    const token = await deviceToken();
    const key = `burst-${Date.now()}`;
    const results = await Promise.all(Array.from({ length: 5 }, () => getJson(`${stack.api}/liveness-sessions`, {
      method: 'POST', body: startForm(face, { deviceCorrelationId: key }), headers: { ...bearer(token), 'idempotency-key': key },
    })));
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.sessionId)).size).toBe(1);
    for (const r of results.filter((x) => x.status !== 201)) expect(r).toMatchObject({ status: 409, body: { error: { code: 'RequestInProgress' } } });
    const sessions = await emulator(stack, 'GET', '/emulator/sessions');
    expect(sessions.body.sessions.filter((s: { deviceCorrelationId?: string }) => s.deviceCorrelationId === key)).toHaveLength(1);
  });
});

describe('secrets and biometrics never reach the logs', () => {
  it('a whole flow logs no token, key or image bytes', async () => {
    const { created } = await runCheck({});
    await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/audit-entries`, { headers: admin });
    await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`, { method: 'DELETE', headers: admin });
    await getJson(`${stack.api}/liveness-sessions`, { method: 'POST', body: startForm(fixture('noface-coffee.png')), headers: bearer(created.deviceToken) });
    const logs = stack.logs();
    expect(logs).toMatch(/liveness session created/); // the logs were captured at all
    for (const secret of [created.authToken, created.deviceToken, stack.faceKey, MASTER_KEY, 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6']) {
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/); // no JWT at all
    for (const image of [face, capture]) {
      expect(logs).not.toContain(image.subarray(1000, 1032).toString('base64'));
      expect(logs).not.toContain(image.subarray(1000, 1032).toString('latin1'));
    }
    expect((await faceSessionIds(stack)).has(created.faceSessionId)).toBe(false);
  });
});
