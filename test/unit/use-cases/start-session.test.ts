// startSession in-process: what a create writes, what each failure undoes, lockouts, Idempotency-Key, and the races
// between a create and the sweep.
import { version as uuidVersion } from 'uuid';
import { describe, expect, it } from 'vitest';
import {
  ConflictError, FaceRejectedError, FaceUnavailableError, IdempotencyError, StorageUnavailableError, TooManyAttemptsError,
  ValidationError,
} from '../../../src/core/errors.js';
import { parseStartSessionForm as parseStartSessionFields } from '../../../src/contract/requests.js';
import { eraseSubject } from '../../../src/core/erase-subject.js';
import { startSession } from '../../../src/core/start-session.js';
import { handleCompletionMessage } from '../../../src/core/collect-result.js';
import { enrolReference } from '../../../src/core/references.js';
import { sweepSessions } from '../../../src/core/sweep.js';
import { deviceFields, fakeWorld, fixtureImage, FAKE_VERIFY_REFERENCE, sha256Upper, startFor, type FakeWorld } from '../../fakes/index.js';

const image = fixtureImage();

/** A create as the device sends it: the current consent version with the fields. */
function start(world: FakeWorld, options: { subject?: string; fields?: Record<string, string>; key?: string; bytes?: Uint8Array } = {}) {
  return startSession(world.deps, {
    caller: { subject: options.subject ?? 'alice' },
    fields: parseStartSessionFields(deviceFields(world, options.fields)),
    verifyImage: options.bytes ?? image,
    idempotencyKey: options.key,
  });
}

/**
 * Nothing a failed create may leave: no row, no blob, no live Face session. (An index row whose session is gone may
 * stay, as in the Table adapter: listDue drops it.)
 */
function expectNothingLeft(world: FakeWorld) {
  expect(world.sessions.all()).toEqual([]);
  expect(world.images.names()).toEqual([]);
  expect(world.face.live()).toEqual([]);
}

describe('startSession', () => {
  it('creates the Face session, stores the verify image and writes a NotStarted row due at token expiry', async () => {
    const world = fakeWorld();
    const started = await start(world, { fields: { deviceCorrelationId: 'device-1' } });

    expect(uuidVersion(started.sessionId)).toBe(7);
    expect(started).toEqual({
      sessionId: started.sessionId, authToken: 'face-token-1', replayed: false,
      authTokenExpiresDateTime: '2026-01-01T09:10:00.000Z', verifyImage: FAKE_VERIFY_REFERENCE,
    });
    const row = world.sessions.peek(started.sessionId)!;
    expect(row).toMatchObject({
      status: 'NotStarted', faceSessionId: 'face-0001', subject: 'alice', deviceCorrelationId: 'device-1',
      subjectKey: world.subjects.keyOf('alice'), consentVersion: world.settings.privacy.currentConsentVersion,
      livenessOperationMode: 'Passive', authTokenTimeToLiveInSeconds: 600, createdDateTime: '2026-01-01T09:00:00.000Z',
      enableSessionImage: true, modelVersion: '2025-05-20', faceSessionDeleted: false, imagesDeleted: false, deleting: false,
      storedVerifyImage: { contentType: 'image/jpeg', sizeInBytes: image.byteLength, sha256: sha256Upper(image) },
      nextSweepDateTime: '2026-01-01T09:10:00.000Z',
    });
    expect(world.sessions.sweepIndex()).toEqual([{ due: '2026-01-01T09:10:00.000Z', sessionId: started.sessionId }]);
    expect(world.sessions.subjectIndex(world.subjects.keyOf('alice'))).toEqual([started.sessionId]);
    expect(world.images.names()).toEqual([`verify-images/${started.sessionId}.jpg`]);
    expect(Buffer.from(world.images.blobs.get(row.storedVerifyImage.blobName)!.bytes).equals(image)).toBe(true);
    expect(world.face.createRequests).toHaveLength(1);
    expect(world.face.createRequests[0]).toMatchObject({
      livenessOperationMode: 'Passive', deviceCorrelationId: 'device-1', authTokenTimeToLiveInSeconds: 600, enableSessionImage: true,
      verifyImage: { contentType: 'image/jpeg', fileName: 'verify.jpg' },
    });
    expect(world.metrics.created).toEqual([{ livenessOperationMode: 'Passive' }]);
    expect(world.logger.text()).not.toContain(started.authToken);
  });

  it('takes the lifetime, mode and session-image choice from the fields', async () => {
    const world = fakeWorld();
    const started = await start(world, { fields: { authTokenTimeToLiveInSeconds: '120', livenessOperationMode: 'passiveactive', enableSessionImage: 'true' } });
    expect(started.authTokenExpiresDateTime).toBe('2026-01-01T09:02:00.000Z');
    expect(world.sessions.peek(started.sessionId)).toMatchObject({ livenessOperationMode: 'PassiveActive', enableSessionImage: true, authTokenTimeToLiveInSeconds: 120 });
    expect(world.face.createRequests[0]).toMatchObject({ livenessOperationMode: 'PassiveActive', authTokenTimeToLiveInSeconds: 120, enableSessionImage: true });
  });

  it.each([
    ['under 1 KB', image.subarray(0, 500), 'InvalidImageSize'],
    ['not an image', Buffer.from('not an image '.repeat(200)), 'InvalidImageFormat'],
  ])('refuses a verify image %s before Face or storage is touched', async (_name, bytes, code) => {
    const world = fakeWorld();
    await expect(start(world, { bytes })).rejects.toMatchObject({ constructor: ValidationError, code });
    expect(world.face.hooks.calls('create')).toBe(0);
    expect(world.sessions.hooks.calls('create')).toBe(0);
    expectNothingLeft(world);
  });

  it("keeps the consent's evidence record in the row's outbox (no write of its own), not bringing the sweep early; the decision appends it", async () => {
    const world = fakeWorld();
    const started = await start(world);
    expect(world.evidence.all()).toEqual([]);
    const row = world.sessions.peek(started.sessionId)!;
    expect(row.pendingEvidence?.map((e) => e.type)).toEqual(['consent.recorded']);
    expect(row.nextSweepDateTime).toBe(row.authTokenExpiresDateTime);
    await world.sessions.mutate(started.sessionId, (c) => ({ ...c, status: 'Started', completionRequestedDateTime: world.clock.now().toISOString() }));
    world.face.addSucceededAttempt(row.faceSessionId!, { matchConfidence: 0.93 });
    expect(await handleCompletionMessage(world.deps, { sessionId: started.sessionId, try: 1 })).toBe('collected');
    expect(world.evidence.all().map((r) => r.record.type)).toEqual(['consent.recorded', 'session.decided']);
    expect(world.sessions.peek(started.sessionId)!.pendingEvidence ?? []).toEqual([]);
  });

  it('a create that fails still appends the consent it was given, before its row goes', async () => {
    const world = fakeWorld();
    world.face.hooks.failNext('create', new FaceRejectedError('InvalidImage', 'No face detected.', 400));
    await expect(start(world)).rejects.toBeInstanceOf(FaceRejectedError);
    expect(world.evidence.all().map((r) => r.record.type)).toEqual(['consent.recorded']);
    expectNothingLeft(world);
  });

  it('reads the quota alongside the other reads and reserves on that read; concurrent creates still cannot overshoot it, nor call Face for the refused', async () => {
    const world = fakeWorld({ quota: { maxOpenSessions: 1, maxCreates: 10, windowSeconds: 3600 } });
    const results = await Promise.allSettled([start(world), start(world), start(world)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ constructor: TooManyAttemptsError, code: 'QuotaExceeded' });
    }
    expect(world.records.quotas.hooks.calls('snapshot')).toBe(3); // each create read it once, with its other reads
    expect(world.face.hooks.calls('create')).toBe(1);
    expect(world.records.quotas.peek({ subjectKey: world.subjects.keyOf('alice') })?.open).toHaveLength(1);
  });

  it('passes Face\'s refusal on and leaves nothing behind', async () => {
    const world = fakeWorld();
    world.face.hooks.failNext('create', new FaceRejectedError('InvalidImage', 'No face detected.', 400));
    await expect(start(world)).rejects.toMatchObject({ constructor: FaceRejectedError, code: 'InvalidImage' });
    expectNothingLeft(world);
  });

  it('when Face is unavailable: FaceUnavailableError and nothing left behind', async () => {
    const world = fakeWorld();
    world.face.hooks.failNext('create', new FaceUnavailableError('429', 7, 429));
    await expect(start(world)).rejects.toBeInstanceOf(FaceUnavailableError);
    expectNothingLeft(world);
  });

  it.each([
    ['the session row', (w: FakeWorld) => w.sessions.hooks.failNext('create', new StorageUnavailableError('down'))],
    ['the verify image', (w: FakeWorld) => w.images.hooks.failNext('put', new StorageUnavailableError('down'))],
    ['the update after Face answered', (w: FakeWorld) => w.sessions.hooks.failNext('write', new StorageUnavailableError('down'))],
  ])('when storage fails writing %s, the Face session and everything else is undone', async (_what, arrange) => {
    const world = fakeWorld();
    arrange(world);
    await expect(start(world)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(world.face.hooks.calls('create')).toBe(1);
    expectNothingLeft(world);
    expect(world.metrics.created).toEqual([]);
  });

  it('a lost answer from Face leaves storage clean (the Face session it made is unknown to us: Face expires it)', async () => {
    const world = fakeWorld();
    world.face.loseNextCreateAnswer();
    await expect(start(world)).rejects.toBeInstanceOf(FaceUnavailableError);
    expect(world.sessions.all()).toEqual([]);
    expect(world.images.names()).toEqual([]);
    expect(world.face.live()).toHaveLength(1); // the known window: nothing recorded its id
  });

  it('an undo step that fails does not stop the others, and is logged', async () => {
    const world = fakeWorld();
    world.images.hooks.failNext('put', new StorageUnavailableError('down'));
    world.face.hooks.failNext('delete', new FaceUnavailableError('down', 1));
    await expect(start(world)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(world.sessions.all()).toEqual([]);
    expect(world.logger.messages('error')).toEqual(['could not remove Face session after a failed create; the sweep will']);
  });

  it('a sweep that undoes the Creating row before Face answers makes the create fail cleanly', async () => {
    const world = fakeWorld({ settings: { abandonedCreateSeconds: 60 } });
    // Face is slow: by the time it answers, the row is past its abandoned-create deadline and the sweep removed it.
    world.face.hooks.beforeNext('create', async () => {
      world.clock.advance({ minutes: 2 });
      const report = await sweepSessions(world.deps);
      expect(report.abandonedCreatesUndone).toBe(1);
    });
    await expect(start(world)).rejects.toMatchObject({ constructor: ConflictError, code: 'SessionGone' });
    expectNothingLeft(world);
  });

  it("is refused with 429 semantics while the subject or the subject's device is locked out, before Face is called", async () => {
    const world = fakeWorld({ limits: { maxFailures: 2, windowSeconds: 180, lockoutSeconds: 1800 } });
    const now = world.clock.now();
    // A device key counts only within its subject (limitKeys): bob's device-9, under bob's subject key.
    const bobsDevice = { kind: 'device' as const, id: 'device-9', subjectKey: world.subjects.keyOf('bob') };
    await world.limiter.recordFailure(bobsDevice, now);
    await world.limiter.recordFailure(bobsDevice, now);
    world.clock.advance({ seconds: 100 });
    await expect(start(world, { subject: 'bob', fields: { deviceCorrelationId: 'device-9' } }))
      .rejects.toMatchObject({ constructor: TooManyAttemptsError, retryAfterSeconds: 1700 });
    expect(world.face.hooks.calls('create')).toBe(0);
    await expect(start(world, { subject: 'bob' })).resolves.toMatchObject({ replayed: false }); // another device is fine
    await expect(start(world, { subject: 'carol', fields: { deviceCorrelationId: 'device-9' } })).resolves.toMatchObject({ replayed: false }); // so is another subject
    world.clock.advance({ seconds: 1700 });
    await expect(start(world, { subject: 'bob', fields: { deviceCorrelationId: 'device-9' } })).resolves.toMatchObject({ replayed: false });
  });
});

describe('what a create leaves under the subject key', () => {
  it("its session, lockout counters, quota slot and Idempotency-Key are found by the subject's key and erased with it, and no one else's", async () => {
    const world = fakeWorld();
    const bob = await startFor(world, 'bob', { deviceCorrelationId: 'phone' }, 'k1');
    const carol = await startFor(world, 'carol', { deviceCorrelationId: 'phone' }, 'k1');
    await world.limiter.recordFailure({ kind: 'device', id: 'phone', subjectKey: bob.subjectKey }, world.clock.now());
    await world.limiter.recordFailure({ kind: 'device', id: 'phone', subjectKey: carol.subjectKey }, world.clock.now());
    expect(bob.subjectKey).toBe(world.subjects.keyOf('bob'));
    expect(bob.subjectKey).not.toBe(carol.subjectKey);
    expect(world.records.quotas.peek({ subjectKey: bob.subjectKey })?.open.map((s) => s.id)).toEqual([bob.sessionId]);
    expect(world.subjects.consents.get(bob.subjectKey)?.get(world.settings.privacy.currentConsentVersion)).toBeDefined();

    const receipt = await eraseSubject(world.deps, bob.subjectKey, 'ops');

    expect(receipt.deleted).toEqual({
      sessions: 1, faceSessions: 1, images: 1, consents: 1, lockouts: 1, quotas: 1, idempotencyKeys: 1,
    });
    expect(world.sessions.all().map((s) => s.sessionId)).toEqual([carol.sessionId]);
    expect(world.face.live()).toEqual([carol.faceSessionId]);
    expect(world.records.limits.peek({ kind: 'device', id: 'phone', subjectKey: carol.subjectKey })?.failures).toHaveLength(1);
    expect(world.records.quotas.peek({ subjectKey: carol.subjectKey })?.open.map((s) => s.id)).toEqual([carol.sessionId]);
    expect(world.records.idempotencyKeys.peek({ subjectKey: carol.subjectKey, key: 'k1' })).toMatchObject({ state: 'done', sessionId: carol.sessionId });
  });
});

describe('startSession against an enrolled reference', () => {
  it('sends no image of its own: Face gets the reference, and the session records which one', async () => {
    const world = fakeWorld();
    const reference = fixtureImage('face-astronaut.png');
    const enrolled = await enrolReference(world.deps, world.subjects.keyOf('alice'), reference, 'ops');
    const s = await startFor(world, 'alice', {}, undefined, null);
    expect(s.session).toMatchObject({ reference: { referenceId: enrolled.referenceId, sha256: sha256Upper(reference) } });
    expect(Buffer.from(world.face.createRequests[0]!.verifyImage.bytes).equals(reference)).toBe(true);
    await expect(startFor(world, 'alice')).rejects.toMatchObject({ constructor: ValidationError, code: 'ReferenceEnrolled' });
  });
});

describe('startSession with an Idempotency-Key', () => {
  it('a retried request returns the same session and makes no second Face session', async () => {
    const world = fakeWorld();
    const first = await start(world, { key: 'k1', fields: { deviceCorrelationId: 'd' } });
    const again = await start(world, { key: 'k1', fields: { deviceCorrelationId: 'd' } });
    expect(again).toEqual({ ...first, replayed: true });
    expect(world.face.hooks.calls('create')).toBe(1);
    expect(world.sessions.all()).toHaveLength(1);
  });

  it('the same key with another request is 422 IdempotencyKeyReused; another subject has its own keys', async () => {
    const world = fakeWorld();
    const first = await start(world, { key: 'k1', fields: { deviceCorrelationId: 'd' } });
    await expect(start(world, { key: 'k1', fields: { deviceCorrelationId: 'other' } }))
      .rejects.toMatchObject({ constructor: IdempotencyError, code: 'IdempotencyKeyReused', status: 422 });
    const bob = await start(world, { subject: 'bob', key: 'k1', fields: { deviceCorrelationId: 'd' } });
    expect(bob.sessionId).not.toBe(first.sessionId);
    expect(bob.replayed).toBe(false);
  });

  it('concurrent requests with one key make one session; the others are told it is in progress', async () => {
    const world = fakeWorld();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => start(world, { key: 'burst' })));
    const made = results.filter((r) => r.status === 'fulfilled');
    expect(made).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'RequestInProgress', status: 409 });
    }
    expect(world.face.hooks.calls('create')).toBe(1);
  });

  it('a failed create releases the key, so the retry creates', async () => {
    const world = fakeWorld();
    world.face.hooks.failNext('create', new FaceUnavailableError('busy', 1));
    await expect(start(world, { key: 'k' })).rejects.toBeInstanceOf(FaceUnavailableError);
    expect(world.records.idempotencyKeys.peek({ subjectKey: world.subjects.keyOf('alice'), key: 'k' })).toBeUndefined(); // keys are scoped by subject key
    const retried = await start(world, { key: 'k' });
    expect(retried.replayed).toBe(false);
    expect(world.records.idempotencyKeys.peek({ subjectKey: world.subjects.keyOf('alice'), key: 'k' })).toMatchObject({ state: 'done', sessionId: retried.sessionId });
  });

  it('a claim left in progress by a request that died is taken over after its timeout', async () => {
    const world = fakeWorld();
    // The claim's write lands; the completion's write (the second) fails.
    const keys = world.records.idempotencyKeys.hooks;
    keys.beforeNext('write', () => keys.beforeNext('write', () => { throw new StorageUnavailableError('down'); }));
    const first = await start(world, { key: 'k' });
    expect(world.logger.messages('warn')).toContain('could not record the idempotency key');
    await expect(start(world, { key: 'k' })).rejects.toMatchObject({ code: 'RequestInProgress' });
    world.clock.advance({ seconds: 121 });
    const retried = await start(world, { key: 'k' });
    expect(retried.replayed).toBe(false);
    expect(retried.sessionId).not.toBe(first.sessionId);
  });

  it('a replay after the Face session ended is 409 SessionNoLongerActive', async () => {
    const world = fakeWorld();
    const first = await startFor(world, 'alice', {}, 'k');
    await world.face.delete(first.faceSessionId);
    await expect(start(world, { key: 'k' })).rejects.toMatchObject({ constructor: ConflictError, code: 'SessionNoLongerActive' });
  });
});
