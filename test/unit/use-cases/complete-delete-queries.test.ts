// requestCompletion and deviceStatus (the device's side), deleteSession and the back-office queries, in-process.
import { describe, expect, it } from 'vitest';
import { handleCompletionMessage } from '../../../src/core/collect-result.js';
import { deviceStatus, requestCompletion } from '../../../src/core/complete-session.js';
import { deleteSession } from '../../../src/core/delete-session.js';
import { FaceUnavailableError, NotFoundError, StorageUnavailableError } from '../../../src/core/errors.js';
import { getSession, getSessionImage, listAuditEntries, listSessions } from '../../../src/core/queries.js';
import { sweepSessions } from '../../../src/core/sweep.js';
import { deliverQueued, fakeWorld, fixtureImage, startFor, type FakeWorld } from '../../fakes/index.js';

const alice = { subject: 'alice' };
const UNKNOWN = '019b78c9-0a80-7000-8000-000000000000';

describe('requestCompletion', () => {
  it('enqueues a completion message, then moves the session to Started', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.clock.advance({ seconds: 40 });
    await requestCompletion(world.deps, s.sessionId, alice);
    const [queued] = world.completions.peek();
    expect(queued).toEqual({ message: { sessionId: s.sessionId, try: 1, chainId: expect.any(String) }, delaySeconds: 0 });
    // The session records the chain its completion started: only that chain's messages will call Face.
    expect(world.sessions.peek(s.sessionId)).toMatchObject({
      status: 'Started', completionRequestedDateTime: '2026-01-01T09:00:40.000Z',
      collection: { chainId: queued!.message.chainId, try: 0, delivery: 0 },
    });
    expect(world.sessions.peek(s.sessionId)!.nextSweepDateTime).toBe(s.session.nextSweepDateTime);
    expect(world.logger.messages('info')).toContain('completion requested');
  });

  it('is idempotent: a second call enqueues and writes nothing', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    await requestCompletion(world.deps, s.sessionId, alice);
    const etag = world.sessions.peek(s.sessionId)!.etag;
    await requestCompletion(world.deps, s.sessionId, alice);
    expect(world.completions.peek()).toHaveLength(1);
    expect(world.sessions.peek(s.sessionId)!.etag).toBe(etag);
  });

  it.each<[string, (w: FakeWorld) => Promise<string>, { subject: string }]>([
    ['another subject', async (w) => (await startFor(w)).sessionId, { subject: 'mallory' }],
    ['an unknown session', async () => UNKNOWN, alice],
    ['a session being deleted', async (w) => w.sessions.tamper((await startFor(w)).sessionId, (c) => ({ ...c, deleting: true })).sessionId, alice],
  ])('is a 404 for %s, and enqueues nothing', async (_what, arrange, caller) => {
    const world = fakeWorld();
    const id = await arrange(world);
    await expect(requestCompletion(world.deps, id, caller)).rejects.toBeInstanceOf(NotFoundError);
    await expect(deviceStatus(world.deps, id, caller)).rejects.toBeInstanceOf(NotFoundError);
    expect(world.completions.peek()).toEqual([]);
  });

  it('when the queue fails, the session stays NotStarted (a 202 always means a message exists)', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.completions.hooks.failNext('enqueue', new StorageUnavailableError('down'));
    await expect(requestCompletion(world.deps, s.sessionId, alice)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(world.sessions.peek(s.sessionId)!.status).toBe('NotStarted');
  });

  it('a lost answer from the queue: the device retries, and only the recorded chain calls Face', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    world.completions.loseNextAnswer();
    await expect(requestCompletion(world.deps, s.sessionId, alice)).rejects.toBeInstanceOf(StorageUnavailableError);
    await requestCompletion(world.deps, s.sessionId, alice);
    expect(world.completions.peek()).toHaveLength(2);
    // The first message's chain never reached the session (its request failed): it is dropped without a Face call.
    expect(await deliverQueued(world)).toEqual(['stale-message', 'collected']);
    expect(world.face.hooks.calls('get')).toBe(1);
    expect(world.audit.peek(s.sessionId)).toHaveLength(1);
  });

  it('a message that arrives before its completion recorded the chain is looked at again, then collects', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    // The collector takes the message between the completion's enqueue and its status write.
    const early: string[] = [];
    world.sessions.hooks.beforeNext('write', async () => { early.push(...await deliverQueued(world)); });
    await requestCompletion(world.deps, s.sessionId, alice);
    expect(early).toEqual(['early']);
    expect(world.face.hooks.calls('get')).toBe(0);
    expect(world.completions.peek()).toEqual([{ message: expect.objectContaining({ try: 1, early: 1 }), delaySeconds: 1 }]);
    expect(await deliverQueued(world)).toEqual(['collected']);
    expect(world.sessions.peek(s.sessionId)!.status).toBe('ResultAvailable');
  });

  it('a message whose completion never recorded its chain is dropped after a bounded number of looks', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    const outcomes: string[] = [];
    await world.completions.enqueue({ sessionId: s.sessionId, try: 1, chainId: '0190f0f0-0000-7000-8000-000000000001' });
    for (let i = 0; i < 12 && world.completions.peek().length > 0; i++) outcomes.push(...await deliverQueued(world));
    expect(outcomes).toEqual([...Array(10).fill('early'), 'stale-message']);
    expect(world.face.hooks.calls('get')).toBe(0);
    expect(world.sessions.peek(s.sessionId)!.status).toBe('NotStarted');
  });

  it('a concurrent completion between read and write: one moves the session, both succeed', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.sessions.hooks.beforeNext('write', () => requestCompletion(world.deps, s.sessionId, alice));
    await requestCompletion(world.deps, s.sessionId, alice);
    expect(world.sessions.peek(s.sessionId)!.status).toBe('Started');
    expect(world.completions.peek()).toHaveLength(2); // the loser's message is dropped by the collector (another chain)
    expect(world.logger.messages('info').filter((m) => m === 'completion requested')).toHaveLength(1);
  });

  it('a delete between read and write: the completion changes nothing and the message finds no session', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.sessions.hooks.beforeNext('write', () => deleteSession(world.deps, s.sessionId));
    await expect(requestCompletion(world.deps, s.sessionId, alice)).resolves.toBeUndefined();
    expect(world.sessions.hooks.calls('delete')).toBe(1);
    expect(world.sessions.peek(s.sessionId)).toBeUndefined();
    expect(await deliverQueued(world)).toEqual(['session-gone']);
    expect(world.audit.sessionIds()).toEqual([]);
  });
});

describe('deviceStatus', () => {
  it.each([
    [{ matchConfidence: 0.95 }, 'pass'],
    [{ livenessDecision: 'spoofface' }, 'fail'],
    [{ livenessDecision: 'uncertain' }, 'retry'],
    [{ matchConfidence: 0.7 }, 'pending'], // the review band: a person decides
  ])('after %j the device learns only %s', async (attempt, status) => {
    const world = fakeWorld({ settings: { policy: { matchThreshold: 0.8, reviewLowerBound: 0.6 } } });
    const s = await startFor(world);
    expect(await deviceStatus(world.deps, s.sessionId, alice)).toEqual({ sessionId: s.sessionId, status: 'pending' });
    world.face.addSucceededAttempt(s.faceSessionId, attempt);
    await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 });
    expect(await deviceStatus(world.deps, s.sessionId, alice)).toEqual({ sessionId: s.sessionId, status });
  });

  it('an Expired session asks the device to retry', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.clock.advance({ minutes: 11 });
    await sweepSessions(world.deps);
    expect(await deviceStatus(world.deps, s.sessionId, alice)).toEqual({ sessionId: s.sessionId, status: 'retry' });
  });
});

describe('deleteSession', () => {
  it('removes the Face session, the images, the audit entries, the row and its index row', async () => {
    const world = fakeWorld();
    const s = await startFor(world, 'alice', { enableSessionImage: 'true' });
    world.face.addSucceededAttempt(s.faceSessionId, { sessionImage: fixtureImage('face-astronaut.png') });
    await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 });
    expect(world.images.names()).toHaveLength(2);
    world.clock.advance({ seconds: 5 });

    await deleteSession(world.deps, s.sessionId);

    expect(world.sessions.all()).toEqual([]);
    expect(world.sessions.sweepIndex()).toEqual([]);
    expect(world.images.names()).toEqual([]);
    expect(world.audit.sessionIds()).toEqual([]);
    expect(world.face.live()).toEqual([]);
    await expect(deleteSession(world.deps, s.sessionId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(getSession(world.deps, s.sessionId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(listAuditEntries(world.deps, s.sessionId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('is a 404 for an unknown session and for a create still in flight (which it leaves alone)', async () => {
    const world = fakeWorld();
    await expect(deleteSession(world.deps, UNKNOWN)).rejects.toBeInstanceOf(NotFoundError);
    world.face.hooks.beforeNext('create', () => new Promise<never>(() => undefined));
    void startFor(world).catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    const [creating] = world.sessions.all();
    await expect(deleteSession(world.deps, creating!.sessionId)).rejects.toBeInstanceOf(NotFoundError);
    expect(world.sessions.peek(creating!.sessionId)).toMatchObject({ status: 'Creating', deleting: false });
  });

  it('interrupted by a Face outage: the session is already invisible, and a second DELETE finishes it', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.face.hooks.failNext('delete', new FaceUnavailableError('busy', 1));
    await expect(deleteSession(world.deps, s.sessionId)).rejects.toBeInstanceOf(FaceUnavailableError);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ deleting: true });
    await expect(getSession(world.deps, s.sessionId)).rejects.toBeInstanceOf(NotFoundError);
    expect((await listSessions(world.deps, { top: 10 })).value.map((i) => i.id)).toEqual([s.sessionId]); // listed until purged
    await deleteSession(world.deps, s.sessionId);
    expect(world.sessions.all()).toEqual([]);
    expect(world.face.live()).toEqual([]);
  });

  it('two concurrent deletes both finish and leave nothing', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    await Promise.all([deleteSession(world.deps, s.sessionId), deleteSession(world.deps, s.sessionId)]);
    expect(world.sessions.all()).toEqual([]);
    expect(world.images.names()).toEqual([]);
    expect(world.face.live()).toEqual([]);
  });
});

describe('queries', () => {
  it('getSession: the back-office view, with sessionExpired by the clock and reviewRequired with a decision', async () => {
    const world = fakeWorld({ settings: { policy: { matchThreshold: 0.8, reviewLowerBound: 0.6 } } });
    const s = await startFor(world, 'alice', { deviceCorrelationId: 'dev-1' });
    expect(await getSession(world.deps, s.sessionId)).toEqual({
      id: s.sessionId, faceSessionId: s.faceSessionId, createdDateTime: '2026-01-01T09:00:00.000Z', sessionExpired: false,
      deviceCorrelationId: 'dev-1', authTokenTimeToLiveInSeconds: 600, authTokenExpiresDateTime: '2026-01-01T09:10:00.000Z',
      livenessOperationMode: 'Passive', status: 'NotStarted', modelVersion: '2025-05-20', verifyImage: s.session.verifyImage,
      consentVersion: world.settings.privacy.currentConsentVersion,
    });
    world.face.addSucceededAttempt(s.faceSessionId, { matchConfidence: 0.7 });
    await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 });
    world.clock.advance({ minutes: 10 });
    expect(await getSession(world.deps, s.sessionId)).toMatchObject({
      sessionExpired: true, status: 'ResultAvailable', reviewRequired: true, decision: { outcome: 'review' }, result: { id: 1 },
    });
  });

  it('listSessions: newest first, paged, filtered by status and device, without creates in flight', async () => {
    const world = fakeWorld({ quota: { maxOpenSessions: 10, maxCreates: 10, windowSeconds: 3600 } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await startFor(world, 'alice', { deviceCorrelationId: i % 2 ? 'odd' : 'even' })).sessionId);
      world.clock.advance({ seconds: 1 });
    }
    world.face.hooks.beforeNext('create', () => new Promise<never>(() => undefined));
    void startFor(world).catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    await requestCompletion(world.deps, ids[0]!, alice);

    const page1 = await listSessions(world.deps, { top: 2 });
    expect(page1.value.map((i) => i.id)).toEqual([ids[4], ids[3]]);
    expect(page1.continuationToken).toEqual(expect.any(String));
    const page2 = await listSessions(world.deps, { top: 2, continuationToken: page1.continuationToken });
    const page3 = await listSessions(world.deps, { top: 2, continuationToken: page2.continuationToken });
    expect([...page2.value, ...page3.value].map((i) => i.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(page3).not.toHaveProperty('continuationToken');
    expect((await listSessions(world.deps, { top: 10, deviceCorrelationId: 'odd' })).value.map((i) => i.id)).toEqual([ids[3], ids[1]]);
    expect((await listSessions(world.deps, { top: 10, status: 'Started' })).value).toEqual([
      { id: ids[0], createdDateTime: '2026-01-01T09:00:00.000Z', status: 'Started', deviceCorrelationId: 'even',
        authTokenTimeToLiveInSeconds: 600, authTokenExpiresDateTime: '2026-01-01T09:10:00.000Z', sessionExpired: false,
        completionRequestedDateTime: '2026-01-01T09:00:05.000Z' },
    ]);
  });

  it('listSessions: a decided session shows its outcome and whether it awaits review, never its scores', async () => {
    const world = fakeWorld({ settings: { policy: { matchThreshold: 0.8, reviewLowerBound: 0.6 } } });
    const review = await startFor(world, 'alice');
    const pass = await startFor(world, 'bob');
    world.face.addSucceededAttempt(review.faceSessionId, { matchConfidence: 0.7 });
    world.face.addSucceededAttempt(pass.faceSessionId, { matchConfidence: 0.95 });
    await requestCompletion(world.deps, review.sessionId, alice);
    world.clock.advance({ seconds: 2 });
    await handleCompletionMessage(world.deps, { sessionId: review.sessionId, try: 1 });
    await handleCompletionMessage(world.deps, { sessionId: pass.sessionId, try: 1 });
    const byId = new Map((await listSessions(world.deps, { top: 10 })).value.map((i) => [i.id, i]));
    expect(byId.get(review.sessionId)).toMatchObject({
      outcome: 'review', reviewRequired: true,
      completionRequestedDateTime: '2026-01-01T09:00:00.000Z', resultCollectedDateTime: '2026-01-01T09:00:02.000Z',
    });
    expect(byId.get(pass.sessionId)).toMatchObject({ outcome: 'pass', reviewRequired: false });
    expect(JSON.stringify([...byId.values()])).not.toMatch(/matchConfidence|livenessDecision/);
  });

  it('getSessionImage: the stored verify image and session images, 404 for anything not kept or removed', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    const capture = new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]);
    world.face.addSucceededAttempt(s.faceSessionId, { sessionImage: capture });
    await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 });

    const verify = await getSessionImage(world.deps, s.sessionId, { kind: 'verify' });
    expect(verify.contentType).toBe('image/jpeg');
    expect(Buffer.from(verify.bytes).equals(fixtureImage())).toBe(true);
    const frame = await getSessionImage(world.deps, s.sessionId, { kind: 'session', attemptId: 1 });
    expect(frame).toEqual({ bytes: capture, contentType: 'image/jpeg' });

    const missing = (ref: Parameters<typeof getSessionImage>[2], id = s.sessionId) => getSessionImage(world.deps, id, ref);
    await expect(missing({ kind: 'session', attemptId: 2 })).rejects.toMatchObject({ code: 'ImageNotFound' });
    await expect(missing({ kind: 'verify' }, UNKNOWN)).rejects.toMatchObject({ code: 'SessionNotFound' });
    await world.deps.sessions.mutate(s.sessionId, (current) => ({ ...current, imagesDeleted: true }));
    await expect(missing({ kind: 'verify' })).rejects.toMatchObject({ code: 'ImageNotFound' });
    await expect(missing({ kind: 'session', attemptId: 1 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('listAuditEntries: every attempt oldest first; 404 for a session no one may see', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.face.addFailedAttempt(s.faceSessionId);
    world.face.addSucceededAttempt(s.faceSessionId);
    await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 });
    expect((await listAuditEntries(world.deps, s.sessionId)).value.map((e) => [e.id, e.attemptStatus])).toEqual([[1, 'Failed'], [2, 'Succeeded']]);
    await expect(listAuditEntries(world.deps, UNKNOWN)).rejects.toBeInstanceOf(NotFoundError);
  });
});
