// End to end through the dev host, Azurite and the Face emulator: the C# sample's flow, outcomes, races, poison.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import {
  bearer, blobNames, complete, completionsDrained, createSession, deviceToken, emulator, eventually, faceSessionIds, fixture, getJson, sha256Upper, startStack,
  type Stack,
} from '../support/liveness.js';

const face = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
let stack: Stack;

beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.stop(); });

async function resultOf(sessionId: string) {
  return eventually(async () => {
    const r = await getJson(`${stack.api}/liveness-sessions/${sessionId}`);
    return r.body?.status === 'ResultAvailable' || r.body?.status === 'Failed' ? r.body : undefined;
  }, `result of ${sessionId}`);
}

describe('the sample flow', () => {
  it('creates, captures, completes, collects, reads, lists, audits and deletes a session', async () => {
    const device = `dev-${Date.now()}`;
    const created = await createSession(stack, face, { deviceCorrelationId: device, enableSessionImage: 'true' });
    expect(created.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.authToken.length).toBeGreaterThan(10);
    expect(Date.parse(created.authTokenExpiresDateTime) - Date.now()).toBeGreaterThan(590_000);
    expect(created.verifyImage.faceRectangle.width).toBeGreaterThan(50);
    expect(['low', 'medium', 'high']).toContain(created.verifyImage.qualityForRecognition);

    const stored = await stack.repository.get(created.sessionId);
    expect(stored?.status).toBe('NotStarted');
    expect(stored?.storedVerifyImage.sha256).toBe(sha256Upper(face));
    expect(await blobNames(stack)).toContain(stored!.storedVerifyImage.blobName);

    const attempt = await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    expect(attempt.status).toBeLessThan(300);

    const accepted = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/complete`, { method: 'POST', headers: bearer(created.deviceToken) });
    expect(accepted.status).toBe(202);
    expect(JSON.stringify(accepted.body)).not.toMatch(/confidence|realface|livenessDecision/i);

    const session = await resultOf(created.sessionId);
    expect(session).toMatchObject({
      id: created.sessionId,
      status: 'ResultAvailable',
      deviceCorrelationId: device,
      authTokenTimeToLiveInSeconds: 600,
      sessionExpired: false,
      verifyImage: created.verifyImage,
      result: {
        id: 1,
        sessionId: created.sessionId,
        attemptStatus: 'Succeeded',
        verifyImageHash: sha256Upper(face),
        response: { body: { livenessDecision: 'realface', target: { imageType: 'Color' }, verifyResult: { isIdentical: true } } },
      },
    });
    expect(session.result.digest).toMatch(/^[0-9A-F]{64}$/);
    expect(session.result.response.body.verifyResult.matchConfidence).toBeGreaterThan(0.5);
    expect(session.result.response.body.modelVersionUsed).toBeTruthy();
    // Face v1.2 reports no request details for an attempt; they are left out, not invented.
    expect(session.result).not.toHaveProperty('request');
    expect(session.result).not.toHaveProperty('requestId');

    // The Face session is deleted once the result is in (its token dies with it); the session image was copied.
    // The collector deletes it right after writing the result, so the result can be read a moment before that.
    const afterCollect = await eventually(async () => {
      const stored = await stack.repository.get(created.sessionId);
      return stored?.faceSessionDeleted ? stored : undefined;
    }, 'the Face session to be deleted after collection');
    expect((await faceSessionIds(stack)).has(created.faceSessionId)).toBe(false);
    expect(afterCollect?.sessionImageBlobs).toHaveLength(1);
    expect(await blobNames(stack)).toContain(afterCollect!.sessionImageBlobs[0]);
    const copied = await stack.blobs.getContainerClient(stack.container).getBlockBlobClient(afterCollect!.sessionImageBlobs[0]!).downloadToBuffer();
    expect(sha256Upper(copied)).toBe(sha256Upper(capture)); // byte for byte what the device captured

    const list = await getJson(`${stack.api}/liveness-sessions?deviceCorrelationId=${device}`);
    expect(list.status).toBe(200);
    expect(list.body.value).toEqual([expect.objectContaining({ id: created.sessionId, status: 'ResultAvailable', deviceCorrelationId: device })]);

    const audit = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/audit-entries`);
    expect(audit.status).toBe(200);
    expect(audit.body.value).toHaveLength(1);
    expect(audit.body.value[0]).toEqual(session.result);

    const del = await fetch(`${stack.api}/liveness-sessions/${created.sessionId}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await fetch(`${stack.api}/liveness-sessions/${created.sessionId}`, { method: 'DELETE' })).status).toBe(404);
    expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`)).status).toBe(404);
    expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/audit-entries`)).status).toBe(404);
    const remaining = await blobNames(stack);
    expect(remaining).not.toContain(stored!.storedVerifyImage.blobName);
    expect(remaining).not.toContain(afterCollect!.sessionImageBlobs[0]);
    expect(await stack.audit.list(created.sessionId)).toEqual([]);
    const listAfter = await getJson(`${stack.api}/liveness-sessions?deviceCorrelationId=${device}`);
    expect(listAfter.body.value).toEqual([]);
  });
});

describe('outcomes scripted at the emulator', () => {
  it('records a spoof', async () => {
    const device = `spoof-${Date.now()}`;
    expect((await emulator(stack, 'POST', '/emulator/scripts', { deviceCorrelationId: device, livenessDecision: 'spoofface' })).status).toBeLessThan(300);
    const created = await createSession(stack, face, { deviceCorrelationId: device });
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    await complete(stack, created);
    const session = await resultOf(created.sessionId);
    expect(session.result.response.body.livenessDecision).toBe('spoofface');
  });

  it('records a face mismatch', async () => {
    const device = `mismatch-${Date.now()}`;
    await emulator(stack, 'POST', '/emulator/scripts', { deviceCorrelationId: device, matchConfidence: 0.1 });
    const created = await createSession(stack, face, { deviceCorrelationId: device });
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    await complete(stack, created);
    const session = await resultOf(created.sessionId);
    expect(session.result.response.body.verifyResult).toMatchObject({ isIdentical: false, matchConfidence: 0.1 });
  });

  it('keeps every attempt as an audit entry and takes the latest by attempt id', async () => {
    const device = `retry-${Date.now()}`;
    await emulator(stack, 'POST', '/emulator/scripts', { deviceCorrelationId: device, attemptError: { code: 'FaceWithMaskDetected', message: 'Mask detected on face image.' } });
    const created = await createSession(stack, face, { deviceCorrelationId: device });
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    await emulator(stack, 'POST', '/emulator/scripts', { deviceCorrelationId: device, livenessDecision: 'realface' });
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    await complete(stack, created);
    const session = await resultOf(created.sessionId);
    expect(session.result.id).toBe(2);
    expect(session.result.response.body.livenessDecision).toBe('realface');
    const audit = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/audit-entries`);
    expect(audit.body.value.map((e: { id: number }) => e.id)).toEqual([1, 2]);
    expect(audit.body.value[0]).toMatchObject({ attemptStatus: 'Failed', response: { body: { error: { code: 'FaceWithMaskDetected' } } } });
  });
});

describe('completion', () => {
  it('waits with backoff when the device completes before its attempt reaches Face', async () => {
    const created = await createSession(stack, face);
    expect((await complete(stack, created)).status).toBe(202);
    // The collector has looked at Face once, found no finished attempt and scheduled another try...
    await eventually(() => stack.logs().split('\n').some((l) => l.includes('no finished attempt yet') && l.includes(created.sessionId)),
      'a collection that found no finished attempt');
    // ...and that did not end the session: it is still waiting for the attempt.
    expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`)).body.status).toBe('Started');
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    const session = await resultOf(created.sessionId);
    expect(session.status).toBe('ResultAvailable');
  });

  it('gives up within its bound and says why when no attempt ever arrives', async () => {
    const created = await createSession(stack, face);
    await complete(stack, created);
    const session = await resultOf(created.sessionId); // 4 tries at 0.5, 1, 2 s
    expect(session).toMatchObject({ status: 'Failed', failureReason: 'NoFinishedAttempt' });
    expect(session).not.toHaveProperty('result');
  });

  it('ten concurrent completes write one result', async () => {
    const created = await createSession(stack, face);
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    const statuses = await Promise.all(Array.from({ length: 10 }, () =>
      complete(stack, created).then((r) => r.status)));
    expect(statuses).toEqual(Array(10).fill(202));
    const session = await resultOf(created.sessionId);
    await completionsDrained(stack); // every duplicate message has run
    const audit = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/audit-entries`);
    expect(audit.body.value).toHaveLength(1);
    const again = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`);
    expect(again.body.result).toEqual(session.result);
    expect(again.body.resultCollectedDateTime).toBe(session.resultCollectedDateTime);
  });

  it('a delete during collection leaves nothing behind', async () => {
    const created = await createSession(stack, face, { enableSessionImage: 'true' });
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    const before = await stack.repository.get(created.sessionId);
    // Hold the collector at Face: its copy of this session's image (read before it writes anything) answers only after
    // HOLD_MS, so a delete sent once the collection has started lands while it is in flight. Nothing else reads that image.
    const HOLD_MS = 4_000;
    const faceSession = await emulator(stack, 'GET', `/face/v1.2/detectLivenessWithVerify-sessions/${created.faceSessionId}`);
    const sessionImageId = (faceSession.body.results.attempts as Array<{ result?: { sessionImageId?: string } }>).at(-1)?.result?.sessionImageId;
    expect(sessionImageId).toBeTruthy();
    expect((await emulator(stack, 'PUT', '/emulator/faults', { latencyMs: HOLD_MS, paths: [`sessionImages/${sessionImageId}$`] })).status).toBeLessThan(300);
    try {
      // This session's handled completion messages (the app logs each with its session id): other sessions' delayed
      // messages (backoff retries, early redeliveries) may run meanwhile and must not count.
      const executed = new RegExp(`completion message handled[^\\n]*${created.sessionId}`, 'g');
      const collectionsBefore = stack.logs().match(executed)?.length ?? 0;
      const logBefore = stack.logs().length;
      const completed = await complete(stack, created);
      await eventually(() => stack.logs().slice(logBefore).includes("Executing 'Functions.liveness-completions'"), 'the collection to start');
      const del = await fetch(`${stack.api}/liveness-sessions/${created.sessionId}`, { method: 'DELETE' });
      expect([202, 404]).toContain(completed.status);
      expect(del.status).toBe(204);
      // The delete finished while the collection was still held at Face.
      expect(stack.logs().match(executed)?.length ?? 0, 'collections finished before the delete returned').toBe(collectionsBefore);
      await completionsDrained(stack); // the collector has finished; it must have cleaned up after itself
    } finally {
      await emulator(stack, 'DELETE', '/emulator/faults');
    }
    expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`)).status).toBe(404);
    expect(await stack.repository.get(created.sessionId)).toBeUndefined();
    expect(await stack.audit.list(created.sessionId)).toEqual([]);
    const names = await blobNames(stack);
    expect(names).not.toContain(before!.storedVerifyImage.blobName);
    expect(names.filter((n) => n.includes(created.sessionId))).toEqual([]);
    expect((await faceSessionIds(stack)).has(created.faceSessionId)).toBe(false);
  });

  it('a message that keeps failing ends in the poison queue and marks its session failed', async () => {
    const created = await createSession(stack, face);
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    // Face fails every read of this one session; other suites' traffic is untouched.
    await emulator(stack, 'PUT', '/emulator/faults', { errorRate: 1, errorStatus: 500, paths: [`detectLivenessWithVerify-sessions/${created.faceSessionId}$`] });
    try {
      await complete(stack, created);
      const session = await eventually(async () => {
        const r = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`);
        return r.body?.status === 'Failed' ? r.body : undefined;
      }, 'poisoned session', 55_000);
      expect(session.failureReason).toBe('CollectionFailedRepeatedly');
      expect(stack.logs()).toMatch(/MaxDequeueCount|poison/i);
    } finally {
      await emulator(stack, 'DELETE', '/emulator/faults');
    }
  }, 70_000);
});

describe('Face v1.3-preview.1 stack: digest binding, abuse verdicts, the correlation-id reset', () => {
  let v13: Stack;
  beforeAll(async () => { v13 = await startStack({ FACE_API_VERSION: 'v1.3-preview.1', LIVENESS_CLIENT_ATTEMPTS: '2' }); });
  afterAll(async () => { await v13?.stop(); });

  const completeWith = (session: { sessionId: string; deviceToken: string }, body: unknown) =>
    getJson(`${v13.api}/liveness-sessions/${session.sessionId}/complete`, {
      method: 'POST', headers: { ...bearer(session.deviceToken), 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
  const decided = (sessionId: string) => eventually(async () => {
    const r = await getJson(`${v13.api}/liveness-sessions/${sessionId}`);
    return r.body?.decision ? r.body : undefined;
  }, `the decision of ${sessionId}`);

  it('a complete with a wrong digest ends the session fail with DigestMismatch; the reported one passes', async () => {
    const wrong = await createSession(v13, face, { deviceCorrelationId: `digest-${Date.now()}` });
    const attempt = await performDeviceAttempt(v13.faceEndpoint, wrong.authToken, capture, { apiVersion: 'v1.3-preview.1' });
    expect(attempt.status).toBe(200);
    const reported = (attempt.body as { digest: string }).digest;
    const forged = reported.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await completeWith(wrong, { digest: forged })).status).toBe(202);
    const failed = await decided(wrong.sessionId);
    expect(failed).toMatchObject({ status: 'Failed', failureReason: 'DigestMismatch', clientDigest: forged, decision: { outcome: 'fail', digestMatches: false } });
    expect(failed.decision.reasons).toContain('DigestMismatch');
    expect((await getJson(`${v13.api}/liveness-sessions/${wrong.sessionId}/status`, { headers: bearer(wrong.deviceToken) })).body.status).toBe('fail');

    const right = await createSession(v13, face, { deviceCorrelationId: `digest-ok-${Date.now()}` });
    const ok = await performDeviceAttempt(v13.faceEndpoint, right.authToken, capture, { apiVersion: 'v1.3-preview.1' });
    expect((await completeWith(right, { digest: (ok.body as { digest: string }).digest.toLowerCase() })).status).toBe(202);
    const passed = await decided(right.sessionId);
    expect(passed.decision).toMatchObject({ digestMatches: true });
    expect(passed.result.clientInformation).toEqual([{ ip: '127.0.0.1' }]);
    // The server set two attempts per token (LIVENESS_CLIENT_ATTEMPTS), whatever the device wanted.
    expect(passed.result.abuseMonitoringResult).toBeDefined();
  });

  it('refuses a malformed digest body with 400 and leaves the session as it was', async () => {
    const created = await createSession(v13, face);
    for (const body of [{ digest: 'not-hex' }, { digest: 12 }, { digest: 'AB'.repeat(32), extra: 1 }]) {
      const res = await completeWith(created, body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/digest|extra|Unrecognized/i);
    }
    expect((await v13.repository.get(created.sessionId))?.status).toBe('NotStarted');
  });

  it('a scripted abuse flag sends the session to review with AbuseDetected; the back office resets the correlation id', async () => {
    const deviceId = `abuse-${Date.now()}`;
    const device = await deviceToken();
    const created = await createSession(v13, face, { deviceCorrelationId: deviceId }, device);
    // With v1.3 the app sends the subject's correlation GUID as Face's deviceCorrelationId, never the device's own id.
    const faceSide = (await emulator(v13, 'GET', '/emulator/sessions')).body.sessions.find((s: { sessionId: string }) => s.sessionId === created.faceSessionId);
    expect(faceSide.deviceCorrelationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(faceSide.deviceCorrelationId).not.toBe(deviceId);
    expect((await emulator(v13, 'POST', '/emulator/scripts', { sessionId: created.faceSessionId, abuseDetected: true, otherFlaggedSessions: [] })).status).toBe(201);
    await performDeviceAttempt(v13.faceEndpoint, created.authToken, capture, { apiVersion: 'v1.3-preview.1' });
    await complete(v13, created);
    const flagged = await decided(created.sessionId);
    expect(flagged.decision).toMatchObject({ outcome: 'review', reasons: ['AbuseDetected'], abuse: { attemptIds: [1], otherFlaggedSessions: [] } });
    const audit = await getJson(`${v13.api}/liveness-sessions/${created.sessionId}/audit-entries`);
    expect(audit.body.value[0].abuseMonitoringResult).toEqual({ isAbuseDetected: true, otherFlaggedSessions: [] });

    const sub = JSON.parse(Buffer.from(device.split('.')[1]!, 'base64url').toString()).sub as string;
    const key = (await getJson(`${v13.api}/subject-keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: sub }) })).body.subjectKey;
    const reset = await getJson(`${v13.api}/subjects/${key}/correlation-id/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ subjectKey: key, issuedBy: 'admin-key' });
    expect(JSON.stringify(reset.body)).not.toContain(faceSide.deviceCorrelationId);
    const next = await createSession(v13, face, {}, device);
    const nextFaceSide = (await emulator(v13, 'GET', '/emulator/sessions')).body.sessions.find((s: { sessionId: string }) => s.sessionId === next.faceSessionId);
    expect(nextFaceSide.deviceCorrelationId).not.toBe(faceSide.deviceCorrelationId);
    expect((await getJson(`${v13.api}/subjects/${'0'.repeat(64)}/correlation-id/reset`, { method: 'POST' })).status).toBe(404);
  });
});
