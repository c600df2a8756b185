// The trust model over the running stack: the server owns the policy, every failed attempt counts, lockouts hold at
// complete, quotas bound what one subject can hold open, a device id cannot be used against another subject, and a
// completion storm or duplicate messages cannot multiply Face calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import {
  bearer, complete, createSession, deviceToken, emulator, eventually, fixture, getJson, startForm, startStack,
  type CreatedSession, type Stack,
} from '../support/liveness.js';

const face = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
const MASTER_KEY = 'trust-master-key';
const admin = { 'x-functions-key': MASTER_KEY };
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ DEVHOST_MASTER_KEY: MASTER_KEY, ATTEMPT_LIMIT_MAX_FAILURES: '3', LIVENESS_MAX_OPEN_SESSIONS_PER_SUBJECT: '3' });
});
afterAll(async () => { await stack?.stop(); });

const uniqueDevice = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}`;

async function finished(created: CreatedSession) {
  return eventually(async () => {
    const r = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`, { headers: admin });
    return ['ResultAvailable', 'Failed', 'Expired'].includes(r.body?.status) ? r.body : undefined;
  }, `result of ${created.sessionId}`);
}

/** Scripts the emulator for this session's Face session (replacing any earlier script for it). */
async function script(created: CreatedSession, outcome: Record<string, unknown>) {
  expect((await emulator(stack, 'POST', '/emulator/scripts', { sessionId: created.faceSessionId, ...outcome })).status).toBe(201);
}

const create = (token: string, fields: Record<string, string> = {}) =>
  getJson(`${stack.api}/liveness-sessions`, { method: 'POST', body: startForm(face, fields), headers: bearer(token) });

describe('the server owns the policy', () => {
  it('refuses a longer token or no session image, naming the limit; accepts what is at least as strict', async () => {
    const token = await deviceToken();
    const long = await create(token, { authTokenTimeToLiveInSeconds: '601' });
    expect(long.status).toBe(400);
    expect(long.body.error).toMatchObject({ code: 'TokenLifetimeTooLong' });
    expect(long.body.error.message).toContain('600');
    const noImage = await create(token, { enableSessionImage: 'false' });
    expect(noImage.status).toBe(400);
    expect(noImage.body.error.code).toBe('SessionImageRequired');
    const strict = await create(token, { authTokenTimeToLiveInSeconds: '120', livenessOperationMode: 'PassiveActive', enableSessionImage: 'true' });
    expect(strict.status).toBe(201);
    const stored = (await stack.repository.get(strict.body.sessionId))!;
    expect(stored).toMatchObject({ authTokenTimeToLiveInSeconds: 120, livenessOperationMode: 'PassiveActive', enableSessionImage: true });
    // The server's default keeps the session image as capture evidence.
    const plain = await create(await deviceToken());
    expect((await stack.repository.get(plain.body.sessionId))!.enableSessionImage).toBe(true);
  });
});

describe('every failed attempt counts', () => {
  it('spoof, spoof, then a real face in one session still fails, and the three attempts lock the subject out', async () => {
    const token = await deviceToken();
    const created = await createSession(stack, face, {}, token);
    await script(created, { livenessDecision: 'spoofface' });
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    await script(created, { livenessDecision: 'realface', matchConfidence: 0.97 });
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    await complete(stack, created);
    const session = await finished(created);
    expect(session.result.response.body.livenessDecision).toBe('realface'); // the latest attempt was real
    expect(session.decision.outcome).toBe('fail');
    expect(session.decision.reasons[0]).toMatch(/^SpoofAttempt:/);
    const device = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/status`, { headers: bearer(token) });
    expect(device.body.status).toBe('fail');
    // Two spoofs counted toward ATTEMPT_LIMIT_MAX_FAILURES=3 (the real one did not fail on its own): one more locks.
    expect((await create(token)).status).toBe(201);
  });

  it('sessions stockpiled before a lockout cannot be completed after it (429 with Retry-After)', async () => {
    const token = await deviceToken();
    const stockpiled = await createSession(stack, face, {}, token);
    const failing = await createSession(stack, face, {}, token);
    await script(failing, { livenessDecision: 'spoofface' });
    for (let i = 0; i < 3; i++) await performDeviceAttempt(stack.faceEndpoint, failing.authToken, capture);
    await complete(stack, failing);
    expect((await finished(failing)).decision.outcome).toBe('fail');
    await script(stockpiled, { livenessDecision: 'realface', matchConfidence: 0.99 });
    await performDeviceAttempt(stack.faceEndpoint, stockpiled.authToken, capture);
    const res = await getJson(`${stack.api}/liveness-sessions/${stockpiled.sessionId}/complete`, { method: 'POST', headers: bearer(token) });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('TooManyAttempts');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await stack.repository.get(stockpiled.sessionId))!.status).toBe('NotStarted');
    expect((await create(token)).status).toBe(429);
  });
});

describe('quotas', () => {
  it('caps the sessions one subject holds open (429 QuotaExceeded with Retry-After); a finished one frees its slot', async () => {
    const token = await deviceToken();
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await createSession(stack, face, {}, token));
    const refused = await create(token);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('QuotaExceeded');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await create(await deviceToken())).status).toBe(201); // another subject is not affected
    await script(open[0]!, { livenessDecision: 'realface', matchConfidence: 0.95 });
    await performDeviceAttempt(stack.faceEndpoint, open[0]!.authToken, capture);
    await complete(stack, open[0]!);
    await finished(open[0]!);
    // The slot is released by the collection that wrote the result (right after the write): poll for it.
    await eventually(async () => (await create(token)).status === 201, 'a create after the finished session freed its slot');
  });
});

describe('lockout keys', () => {
  it("one subject failing under another's device id does not lock the other subject out", async () => {
    const device = uniqueDevice('victim-device');
    const attacker = await deviceToken();
    for (let i = 0; i < 3; i++) {
      const created = await createSession(stack, face, { deviceCorrelationId: device }, attacker);
      await script(created, { livenessDecision: 'spoofface' });
      await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
      await complete(stack, created);
      await finished(created);
    }
    expect((await create(attacker, { deviceCorrelationId: device })).status).toBe(429);
    expect((await create(await deviceToken(), { deviceCorrelationId: device })).status).toBe(201);
  });
});

describe('Face calls are bounded', () => {
  it('30 concurrent completes and a duplicate message cost one collection chain at Face', async () => {
    const token = await deviceToken();
    const created = await createSession(stack, face, {}, token);
    await script(created, { livenessDecision: 'realface', matchConfidence: 0.95 });
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    const answers = await Promise.all(Array.from({ length: 30 }, () =>
      getJson(`${stack.api}/liveness-sessions/${created.sessionId}/complete`, { method: 'POST', headers: bearer(token) })));
    expect(answers.map((a) => a.status).every((s) => s === 202)).toBe(true);
    // Duplicate copies of the winning chain's first message, as an at-least-once queue may deliver them.
    const queue = stack.completionQueue;
    const { chainId } = (await stack.repository.get(created.sessionId))!.collection!;
    const copy = Buffer.from(JSON.stringify({ sessionId: created.sessionId, try: 1, chainId })).toString('base64');
    for (let i = 0; i < 5; i++) await queue.sendMessage(copy);
    const session = await finished(created);
    expect(session.decision.outcome).toBe('pass');
    // Every message (losing completions' and the copies) has been taken off the queue before counting.
    await eventually(async () => ((await queue.getProperties()).approximateMessagesCount === 0 ? true : undefined), 'an empty completion queue');
    const calls = (await emulator(stack, 'GET', '/emulator/calls')).body.byId[created.faceSessionId] as Record<string, number>;
    // create + one GET (the attempt was already there) + session image (counted under its own id) + delete
    expect(calls['POST detectlivenesswithverify-sessions'] ?? 0).toBe(0); // create is counted without an id
    expect(calls['GET detectlivenesswithverify-sessions/{id}']).toBe(1);
    expect(calls['DELETE detectlivenesswithverify-sessions/{id}']).toBe(1);
  });
});
