// Collection in-process: the queue trigger's handleCompletionMessage and collectOnce against a fake Face, with the
// outcomes the e2e suites script at the emulator, the backoff bound, and the races (duplicate messages, a concurrent
// writer, a lost answer, a delete during collection).
import { describe, expect, it } from 'vitest';
import { collectOnce, handleCompletionMessage, markFailed } from '../../../src/core/collect-result.js';
import { deleteSession } from '../../../src/core/delete-session.js';
import { FaceUnavailableError } from '../../../src/core/errors.js';
import { fakeWorld, fixtureImage, sha256Upper, startFor, type FakeWorld } from '../../fakes/index.js';

const capture = fixtureImage('face-astronaut.png');

async function startedAndCompleted(world: FakeWorld, fields: Record<string, string> = {}, subject = 'alice') {
  const s = await startFor(world, subject, fields);
  world.clock.advance({ seconds: 30 });
  await world.sessions.mutate(s.sessionId, (c) => ({ ...c, status: 'Started', completionRequestedDateTime: world.clock.now().toISOString() }));
  world.clock.advance({ seconds: 2 });
  return s;
}

const collect = (world: FakeWorld, sessionId: string, attempt = 1) => handleCompletionMessage(world.deps, { sessionId, try: attempt });

/** The lockout counters a failed check counts against: the subject's, and its device's within the subject's key. */
function limitKeysOf(world: FakeWorld, subject: string, device: string) {
  const subjectKey = world.subjects.keyOf(subject);
  return { subject: { kind: 'subject' as const, id: subjectKey, subjectKey }, device: { kind: 'device' as const, id: device, subjectKey } };
}

describe('collecting a result', () => {
  it('writes the latest attempt as the result, its audit entry and the decision, then deletes the Face session', async () => {
    const world = fakeWorld({ settings: { imageRetentionHours: 24 } });
    const s = await startedAndCompleted(world, { deviceCorrelationId: 'dev-1' });
    world.face.addSucceededAttempt(s.faceSessionId, { matchConfidence: 0.93 });

    expect(await collect(world, s.sessionId)).toBe('collected');

    const row = world.sessions.peek(s.sessionId)!;
    expect(row).toMatchObject({
      status: 'ResultAvailable', resultCollectedDateTime: '2026-01-01T09:00:32.000Z', faceSessionDeleted: true,
      result: {
        id: 1, sessionId: s.sessionId, attemptStatus: 'Succeeded', verifyImageHash: sha256Upper(fixtureImage()),
        response: { body: {
          livenessDecision: 'realface', modelVersionUsed: '2025-05-20', target: { imageType: 'Color' },
          verifyResult: { isIdentical: true, matchConfidence: 0.93, verifyImage: s.session.verifyImage },
        } },
        collectedDateTime: '2026-01-01T09:00:32.000Z',
      },
      decision: { outcome: 'pass', reasons: [], attemptId: 1, verifyImageHashMatches: true, matchConfidence: 0.93 },
    });
    expect(row.result!.digest).toMatch(/^[0-9A-F]{64}$/);
    expect(row).not.toHaveProperty('failureReason');
    expect(world.audit.peek(s.sessionId)).toEqual([row.result]);
    expect(world.face.live()).toEqual([]);
    // The Face session is gone, so the sweep's next work is the image deletion, 24 h after expiry.
    expect(row.nextSweepDateTime).toBe('2026-01-02T09:10:00.000Z');
    expect(world.sessions.sweepIndex()).toEqual([{ due: '2026-01-02T09:10:00.000Z', sessionId: s.sessionId }]);
    expect(world.metrics.decisions).toEqual(['pass']);
    expect(world.metrics.timesToResult).toEqual([{ milliseconds: 2000, outcome: 'pass' }]);
    expect(world.records.limits.peek(limitKeysOf(world, 'alice', 'dev-1').subject)?.failures ?? []).toHaveLength(0);
  });

  it('with a webhook configured, hands the decided event to the webhook queue (no scores) and leaves no outbox behind', async () => {
    const world = fakeWorld({ webhooks: true });
    const s = await startedAndCompleted(world, { deviceCorrelationId: 'dev-1' });
    world.face.addSucceededAttempt(s.faceSessionId, { matchConfidence: 0.93 });
    await collect(world, s.sessionId);
    expect(world.webhookQueue.events()).toEqual([expect.objectContaining({
      type: 'liveness.session.decided', data: expect.objectContaining({ sessionId: s.sessionId, outcome: 'pass', deviceCorrelationId: 'dev-1' }),
    })]);
    expect(world.webhookQueue.events()[0]!.data).not.toHaveProperty('scores');
    expect(world.sessions.peek(s.sessionId)!.pendingEvents ?? []).toEqual([]);
    // Without one (the default), no event is made.
    const quiet = fakeWorld();
    const q = await startedAndCompleted(quiet);
    quiet.face.addSucceededAttempt(q.faceSessionId);
    await collect(quiet, q.sessionId);
    expect(quiet.webhookQueue.peek()).toEqual([]);
  });

  it('keeps the Face session when told not to delete it after collection', async () => {
    const world = fakeWorld({ settings: { deleteFaceSessionAfterCollect: false } });
    const s = await startedAndCompleted(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    await collect(world, s.sessionId);
    expect(world.face.live()).toEqual([s.faceSessionId]);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'ResultAvailable', faceSessionDeleted: false });
  });

  it.each([
    [{ livenessDecision: 'spoofface' }, 'fail', ['Liveness:spoofface']],
    [{ matchConfidence: 0.1 }, 'fail', ['MatchConfidenceBelowThreshold']],
    [{ livenessDecision: 'uncertain' }, 'retry', ['LivenessUncertain']],
  ])('records %j as %s and counts a failed check for the subject and its device', async (attempt, outcome, reasons) => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world, { deviceCorrelationId: 'dev-1' });
    world.face.addSucceededAttempt(s.faceSessionId, attempt);
    await collect(world, s.sessionId);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'ResultAvailable', decision: { outcome, reasons } });
    expect(world.records.limits.peek(limitKeysOf(world, 'alice', 'dev-1').subject)?.failures ?? []).toHaveLength(1);
    expect(world.records.limits.peek(limitKeysOf(world, 'alice', 'dev-1').device)?.failures ?? []).toHaveLength(1);
  });

  it.each([
    ['another verify image', { verifyImageHash: 'AB'.repeat(32) }, 'VerifyImageHashMismatch'],
    ['no verify image hash', { verifyImageHash: null }, 'VerifyImageHashMissing'],
  ])('fails the session outright when Face reports %s', async (_what, attempt, reason) => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    world.face.addSucceededAttempt(s.faceSessionId, attempt);
    await collect(world, s.sessionId);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({
      status: 'Failed', failureReason: reason, decision: { outcome: 'fail', verifyImageHashMatches: false },
    });
  });

  it.each([
    ['newest first (as v1.2 does)', [3, 2, 1]],
    ['oldest first', [1, 2, 3]],
    ['in no order', [2, 3, 1]],
  ])('keeps every attempt as an audit entry and takes the latest by attempt id, with attempts listed %s', async (_order, order) => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    world.face.addFailedAttempt(s.faceSessionId, { code: 'FaceWithMaskDetected', message: 'Mask detected on face image.' });
    world.face.addFailedAttempt(s.faceSessionId, { code: 'FaceNotFrontal' });
    world.face.addSucceededAttempt(s.faceSessionId);
    world.face.answerNextGetWith((state) => ({ ...state, attempts: order.map((id) => state.attempts.find((a) => a.attemptId === id)!) }));
    await collect(world, s.sessionId);
    const row = world.sessions.peek(s.sessionId)!;
    expect(row.result).toMatchObject({ id: 3, attemptStatus: 'Succeeded' });
    expect(row.decision).toMatchObject({ outcome: 'pass', attemptId: 3 });
    expect(world.audit.peek(s.sessionId).map((e) => e.id)).toEqual([1, 2, 3]);
    expect(world.audit.peek(s.sessionId)[0]).toMatchObject({
      attemptStatus: 'Failed', response: { body: { error: { code: 'FaceWithMaskDetected', message: 'Mask detected on face image.' } } },
    });
  });

  it('a failed last attempt asks the device to retry', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    world.face.addFailedAttempt(s.faceSessionId, { code: 'FaceWithMaskDetected' });
    await collect(world, s.sessionId);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({
      status: 'ResultAvailable', decision: { outcome: 'retry', reasons: ['AttemptFailed:FaceWithMaskDetected'] },
    });
  });

  it('copies the session image byte for byte when the session asked for it', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world, { enableSessionImage: 'true' });
    world.face.addSucceededAttempt(s.faceSessionId, { sessionImage: capture });
    await collect(world, s.sessionId);
    const row = world.sessions.peek(s.sessionId)!;
    expect(row.sessionImageBlobs).toEqual([`session-images/${s.sessionId}/1.jpg`]);
    expect(sha256Upper(world.images.blobs.get(row.sessionImageBlobs[0]!)!.bytes)).toBe(sha256Upper(capture));
  });

  it('collects without the session image when Face no longer has it', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world, { enableSessionImage: 'true' });
    world.face.addSucceededAttempt(s.faceSessionId, { sessionImage: capture });
    world.face.sessionImages.clear();
    expect(await collect(world, s.sessionId)).toBe('collected');
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'ResultAvailable', sessionImageBlobs: [] });
    expect(world.logger.messages('warn')).toContain('session image no longer available at Face');
  });
});

describe('no result yet', () => {
  it('waits with backoff (doubling, capped) while no attempt has finished, then gives up and says why', async () => {
    const world = fakeWorld({ settings: { collectMaxTries: 5, collectBackoffSeconds: 1, collectMaxBackoffSeconds: 4 } });
    const s = await startedAndCompleted(world);
    world.face.addAttempt(s.faceSessionId, { attemptId: 1, attemptStatus: 'Running' }); // started, not finished
    const delays: number[] = [];
    for (let attempt = 1; attempt < 5; attempt++) {
      expect(await collect(world, s.sessionId, attempt)).toBe('retry-scheduled');
      const [queued] = world.completions.drain();
      expect(queued!.message).toEqual({ sessionId: s.sessionId, try: attempt + 1 });
      delays.push(queued!.delaySeconds);
    }
    expect(delays).toEqual([1, 2, 4, 4]);
    expect(world.sessions.peek(s.sessionId)!.status).toBe('Started');
    expect(await collect(world, s.sessionId, 5)).toBe('failed-no-attempt');
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'Failed', failureReason: 'NoFinishedAttempt' });
    expect(world.sessions.peek(s.sessionId)).not.toHaveProperty('result');
    expect(world.completions.peek()).toEqual([]);
  });

  it('collects on a later try once the device\'s attempt reaches Face', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    expect(await collect(world, s.sessionId)).toBe('retry-scheduled');
    world.face.addSucceededAttempt(s.faceSessionId);
    const [next] = world.completions.drain();
    expect(await handleCompletionMessage(world.deps, next!.message)).toBe('collected');
    expect(world.sessions.peek(s.sessionId)!.status).toBe('ResultAvailable');
  });

  it('fails the session when Face no longer knows its session', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    await world.face.delete(s.faceSessionId);
    expect(await collect(world, s.sessionId)).toBe('failed-face-session-gone');
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'Failed', failureReason: 'FaceSessionNotFound' });
  });

  it('lets a Face outage reach the host (which retries the message) and changes nothing', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    const before = world.sessions.peek(s.sessionId);
    world.face.hooks.failNext('get', new FaceUnavailableError('503', 2, 503));
    await expect(collect(world, s.sessionId)).rejects.toBeInstanceOf(FaceUnavailableError);
    expect(world.sessions.peek(s.sessionId)).toEqual(before);
  });

  it('a poisoned message marks the session failed, but never over a result', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    await markFailed(world.deps, s.sessionId, 'CollectionFailedRepeatedly');
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'Failed', failureReason: 'CollectionFailedRepeatedly' });

    const other = await startedAndCompleted(world);
    world.face.addSucceededAttempt(other.faceSessionId);
    await collect(world, other.sessionId);
    await markFailed(world.deps, other.sessionId, 'CollectionFailedRepeatedly');
    expect(world.sessions.peek(other.sessionId)).toMatchObject({ status: 'ResultAvailable' });
    expect(world.sessions.peek(other.sessionId)).not.toHaveProperty('failureReason');
  });
});

describe('duplicates and races', () => {
  it('a message for a session that has a result, or none, does not call Face', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    await collect(world, s.sessionId);
    world.face.hooks.resetCalls();
    expect(await collect(world, s.sessionId)).toBe('already-collected');
    expect(await collect(world, '019b78c9-0a80-7000-8000-000000000000')).toBe('session-gone');
    expect(world.face.hooks.allCalls()).toEqual({});
  });

  it('ten concurrent messages write one result, one audit entry and count one failed check', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world, { deviceCorrelationId: 'dev-1' });
    world.face.addSucceededAttempt(s.faceSessionId, { livenessDecision: 'spoofface' });
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => collect(world, s.sessionId)));
    expect(outcomes.filter((o) => o === 'collected')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'collected').every((o) => o === 'already-collected')).toBe(true);
    expect(world.audit.peek(s.sessionId)).toHaveLength(1);
    expect(world.records.limits.peek(limitKeysOf(world, 'alice', 'dev-1').subject)?.failures ?? []).toHaveLength(1);
    expect(world.records.limits.peek(limitKeysOf(world, 'alice', 'dev-1').device)?.failures ?? []).toHaveLength(1);
    expect(world.metrics.decisions).toEqual(['fail']);
  });

  it('a concurrent writer between read and write: the result is re-applied on top of the other change', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    world.sessions.hooks.beforeNext('write', () => world.sessions.mutate(s.sessionId, (c) => ({ ...c, modelVersion: 'changed-meanwhile' })));
    expect(await collect(world, s.sessionId)).toBe('collected');
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'ResultAvailable', modelVersion: 'changed-meanwhile', result: { id: 1 } });
    expect(world.sessions.hooks.calls('write')).toBeGreaterThanOrEqual(3); // ours, theirs, ours again
  });

  it('writers that keep winning past the bound: ConflictError ConcurrentUpdate reaches the host, which retries', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    for (let i = 0; i < world.sessions.maxRounds; i++) {
      world.sessions.hooks.beforeNext('write', () => { world.sessions.tamper(s.sessionId, (c) => ({ ...c })); });
    }
    await expect(collect(world, s.sessionId)).rejects.toMatchObject({ code: 'ConcurrentUpdate' });
    expect(world.sessions.peek(s.sessionId)!.result).toBeUndefined();
    expect(await collect(world, s.sessionId)).toBe('collected'); // the redelivery
  });

  // Core bug: a lost answer on the result write (the write landed; the SDK's retry got 412; mutate re-read and re-applied)
  // makes collectOnce read its own result as a duplicate's: src/core/collect-result.ts:86 sets outcome
  // 'already-collected', so line 109 returns before the failed check is counted (abuse limits undercount) and before
  // the Face session is deleted after collection (its token stays valid until the sweep reaches expiry).
  it('a lost answer on the result write still counts the failed check and deletes the Face session', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world, { deviceCorrelationId: 'dev-1' });
    world.face.addSucceededAttempt(s.faceSessionId, { livenessDecision: 'spoofface' });
    world.sessions.loseNextWriteAnswer();
    await collect(world, s.sessionId);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'ResultAvailable', decision: { outcome: 'fail' } });
    expect(world.records.limits.peek(limitKeysOf(world, 'alice', 'dev-1').subject)?.failures ?? []).toHaveLength(1);
    expect(world.face.live()).toEqual([]);
  });

  // Race seen in the e2e lockout test: the failures were counted after the result write, so a device that polled its
  // outcome the moment the result landed (fail) could start again before the failure counted towards the lockout.
  it('a failed check counts before its result is visible to the device, and counts once however often it is collected', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world, { deviceCorrelationId: 'dev-1' });
    world.face.addSucceededAttempt(s.faceSessionId, { livenessDecision: 'spoofface' });
    const keys = limitKeysOf(world, 'alice', 'dev-1');
    const seenWithResult: number[] = [];
    const mutate = world.sessions.mutate.bind(world.sessions);
    world.sessions.mutate = async (target, change) => {
      const written = await mutate(target, change);
      if (written?.result) seenWithResult.push(world.records.limits.peek(keys.subject)?.failures.length ?? 0);
      return written;
    };
    world.sessions.loseNextWriteAnswer(); // the result write lands, its answer is lost: the collection runs on
    await collect(world, s.sessionId);
    await collect(world, s.sessionId); // a duplicate message
    expect(seenWithResult.length).toBeGreaterThan(0);
    expect(seenWithResult.every((n) => n === 1)).toBe(true);
    expect(world.records.limits.peek(keys.subject)?.failures).toHaveLength(1);
    expect(world.records.limits.peek(keys.device)?.failures).toHaveLength(1);
  });

  it('a lost answer on the result write still leaves one result and one audit entry', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    world.sessions.loseNextWriteAnswer();
    await collect(world, s.sessionId);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'ResultAvailable', result: { id: 1 } });
    expect(world.audit.peek(s.sessionId)).toHaveLength(1);
  });
});

describe('a delete during collection leaves nothing behind', () => {
  async function expectGone(world: FakeWorld, sessionId: string, faceSessionId: string) {
    expect(world.sessions.peek(sessionId)).toBeUndefined();
    expect(world.audit.peek(sessionId)).toEqual([]);
    expect(world.images.names().filter((n) => n.includes(sessionId))).toEqual([]);
    expect(world.face.live()).not.toContain(faceSessionId);
  }

  it('when the delete finishes between the audit write and the result write', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world, { enableSessionImage: 'true' });
    world.face.addSucceededAttempt(s.faceSessionId, { sessionImage: capture });
    world.audit.hooks.beforeNext('upsert', () => deleteSession(world.deps, s.sessionId));
    expect(await collect(world, s.sessionId)).toBe('session-gone');
    await expectGone(world, s.sessionId, s.faceSessionId);
  });

  it('when the delete has marked the session but not yet purged it', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world, { enableSessionImage: 'true' });
    world.face.addSucceededAttempt(s.faceSessionId, { sessionImage: capture });
    // The delete marks the session, then (before its Face call) the whole collection runs.
    let collected: string | undefined;
    world.face.hooks.beforeNext('delete', async () => { collected = await collectOnce(world.deps, world.sessions.peek(s.sessionId)!).then((o) => o.kind); });
    await deleteSession(world.deps, s.sessionId);
    expect(collected).toBe('session-gone'); // it collected, saw the mark at its write and removed what it wrote
    await expectGone(world, s.sessionId, s.faceSessionId);
  });

  it('when the collector read the session before the delete marked it', async () => {
    const world = fakeWorld();
    const s = await startedAndCompleted(world, { enableSessionImage: 'true' });
    world.face.addSucceededAttempt(s.faceSessionId, { sessionImage: capture });
    const stale = world.sessions.peek(s.sessionId)!;
    let collected: string | undefined;
    world.face.hooks.beforeNext('delete', async () => { collected = (await collectOnce(world.deps, stale)).kind; });
    await deleteSession(world.deps, s.sessionId);
    expect(collected).toBe('session-gone');
    await expectGone(world, s.sessionId, s.faceSessionId);
  });
});
