// The sweep in-process, time moved by the fake clock: last collection at expiry, Face and image deletion, record
// retention, resumed deletes, abandoned creates, paging, carrying on past a failure, and a sweep racing a collector.
import { describe, expect, it } from 'vitest';
import { handleCompletionMessage } from '../../../src/core/collect-result.js';
import { FaceUnavailableError } from '../../../src/core/errors.js';
import { sweepSessions } from '../../../src/core/sweep.js';
import { consentEntry, withEvidence } from '../../../src/core/evidence.js';
import { fakeWorld, fixtureImage, startFor, type FakeWorld } from '../../fakes/index.js';

const capture = fixtureImage('face-astronaut.png');
const sweep = (world: FakeWorld) => sweepSessions(world.deps);

describe('the sweep', () => {
  it('collects a result nobody collected, then deletes the Face session and the images, and keeps the record', async () => {
    const world = fakeWorld({ settings: { recordRetentionDays: 1 } });
    const s = await startFor(world, 'alice', { enableSessionImage: 'true' });
    world.face.addSucceededAttempt(s.faceSessionId, { sessionImage: capture });
    world.clock.advance({ minutes: 11 }); // the 10-minute token expired a minute ago

    const report = await sweep(world);

    expect(report).toMatchObject({ due: 1, collected: 1, faceSessionsDeleted: 1, imagesDeleted: 1, recordsDeleted: 0, failures: 0, pages: 1 });
    const row = world.sessions.peek(s.sessionId)!;
    expect(row).toMatchObject({ status: 'ResultAvailable', result: { id: 1 }, faceSessionDeleted: true, imagesDeleted: true });
    expect(world.face.live()).toEqual([]);
    expect(world.images.names()).toEqual([]);
    // Next due: when record retention (1 day after expiry) ends.
    expect(row.nextSweepDateTime).toBe('2026-01-02T09:10:00.000Z');
    expect(world.sessions.sweepIndex()).toEqual([{ due: '2026-01-02T09:10:00.000Z', sessionId: s.sessionId }]);
    expect(world.metrics.sweeps).toEqual(expect.arrayContaining([{ kind: 'faceSession', count: 1 }, { kind: 'images', count: 1 }]));
    expect(world.logger.messages('info')).toContain('sweep finished');
  });

  it("sweeps one subject's expired sessions one after another (their evidence shares a chain), other subjects' alongside", async () => {
    const world = fakeWorld({ quota: { maxOpenSessions: 20, maxCreates: 20, windowSeconds: 3600 } });
    for (let i = 0; i < 6; i++) await startFor(world, 'alice');
    for (const subject of ['bob', 'carol', 'dave']) await startFor(world, subject);
    world.evidence.slowAppends = true;
    world.clock.advance({ minutes: 11 });
    expect(await sweep(world)).toMatchObject({ due: 9, expiredWithoutResult: 9, failures: 0 });
    // Each session's consent record, waiting in its outbox, went to the log without two appends racing on one chain.
    expect(world.evidence.all().filter((r) => r.record.type === 'consent.recorded')).toHaveLength(9);
    expect(world.evidence.maxConcurrentPerChain).toBe(1);
  });

  it("a record another writer adds to the outbox while the sweep appends (a collection's decision) is appended too, not left as a failure", async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.clock.advance({ minutes: 11 });
    // Just before the sweep's first session write (clearing the consent record it appended), a collection elsewhere
    // puts its decision's record into the outbox.
    world.sessions.hooks.beforeNext('mutate', async () => {
      await world.sessions.mutate(s.sessionId, (c) => withEvidence(c, { ...consentEntry(c), recordId: `session.decided|${c.sessionId}`, type: 'session.decided' }));
    });
    const report = await sweep(world);
    expect(report.failures).toBe(0);
    expect(world.evidence.all().map((r) => r.record.type).sort()).toEqual(['consent.recorded', 'session.decided']);
    expect(world.sessions.peek(s.sessionId)!.pendingEvidence ?? []).toEqual([]);
  });

  it('marks a session that never got an attempt Expired', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.clock.advance({ minutes: 11 });
    expect(await sweep(world)).toMatchObject({ expiredWithoutResult: 1, faceSessionsDeleted: 1 });
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'Expired', failureReason: 'NoFinishedAttemptBeforeExpiry', faceSessionDeleted: true });
    expect(world.sessions.peek(s.sessionId)).not.toHaveProperty('result');
    expect(world.face.live()).toEqual([]);
  });

  it('keeps a Failed session Failed (with its reason) when it expires', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    await world.face.delete(s.faceSessionId);
    await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 });
    world.clock.advance({ minutes: 11 });
    await sweep(world);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'Failed', failureReason: 'FaceSessionNotFound' });
  });

  it('keeps the images until image retention ends', async () => {
    const world = fakeWorld({ settings: { imageRetentionHours: 2 } });
    const s = await startFor(world);
    world.clock.advance({ minutes: 11 });
    expect(await sweep(world)).toMatchObject({ faceSessionsDeleted: 1, imagesDeleted: 0 });
    expect(world.images.names()).toEqual([s.session.storedVerifyImage.blobName]);
    expect(world.sessions.peek(s.sessionId)!.nextSweepDateTime).toBe('2026-01-01T11:10:00.000Z');
    world.clock.advance({ hours: 1 });
    expect(await sweep(world)).toMatchObject({ due: 0 });
    world.clock.set('2026-01-01T11:10:00.000Z');
    expect(await sweep(world)).toMatchObject({ due: 1, imagesDeleted: 1, faceSessionsDeleted: 0 });
    expect(world.images.names()).toEqual([]);
  });

  it('deletes the records once record retention ends', async () => {
    const world = fakeWorld({ settings: { recordRetentionDays: 1 } });
    const s = await startFor(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 });
    world.clock.advance({ minutes: 11 });
    await sweep(world);
    world.clock.advance({ days: 2 });
    expect(await sweep(world)).toMatchObject({ due: 1, recordsDeleted: 1 });
    expect(world.sessions.all()).toEqual([]);
    expect(world.sessions.sweepIndex()).toEqual([]);
    expect(world.audit.peek(s.sessionId)).toEqual([]);
    expect(world.images.names()).toEqual([]);
  });

  it('leaves live sessions alone and reads nothing else', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.clock.advance({ minutes: 9 });
    world.face.hooks.resetCalls();
    expect(await sweep(world)).toMatchObject({ due: 0, pages: 1 });
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'NotStarted', faceSessionDeleted: false, imagesDeleted: false });
    expect(world.face.hooks.allCalls()).toEqual({});
    expect(world.sessions.hooks.calls('get')).toBe(0);
  });

  it('finishes a delete that was interrupted', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    await world.sessions.mutate(s.sessionId, (c) => ({ ...c, deleting: true })); // as if the host died mid-delete
    world.clock.advance({ minutes: 11 });
    expect(await sweep(world)).toMatchObject({ resumedDeletes: 1 });
    expect(world.sessions.all()).toEqual([]);
    expect(world.images.names()).toEqual([]);
    expect(world.face.live()).toEqual([]);
  });

  it('undoes a create that never finished once its deadline passes, and not before', async () => {
    const world = fakeWorld({ settings: { abandonedCreateSeconds: 120 } });
    // A host that died while Face was working: the row (and the blob) exist, Face never answered.
    world.face.hooks.beforeNext('create', () => new Promise<never>(() => undefined));
    void startFor(world).catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    const [row] = world.sessions.all();
    expect(row).toMatchObject({ status: 'Creating', nextSweepDateTime: '2026-01-01T09:02:00.000Z' });
    expect(await sweep(world)).toMatchObject({ due: 0 });
    world.clock.advance({ minutes: 2 });
    expect(await sweep(world)).toMatchObject({ due: 1, abandonedCreatesUndone: 1 });
    expect(world.sessions.all()).toEqual([]);
    expect(world.images.names()).toEqual([]);
  });

  it('reads the due sessions page by page, oldest first, and visits each once', async () => {
    const world = fakeWorld({ settings: { sweepPageSize: 3, sweepConcurrency: 2 } });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await startFor(world, `user-${i}`)).sessionId);
      world.clock.advance({ seconds: 1 });
    }
    world.clock.advance({ minutes: 11 });
    const report = await sweep(world);
    expect(report).toMatchObject({ due: 7, pages: 3, expiredWithoutResult: 7, faceSessionsDeleted: 7, failures: 0 });
    expect(world.face.hooks.calls('get')).toBe(7);
    expect(world.sessions.all().every((s) => s.status === 'Expired')).toBe(true);
  });

  it('visits a session once even when its due time moves further along the scan during the sweep', async () => {
    const world = fakeWorld({ settings: { sweepPageSize: 1, sweepConcurrency: 1 } });
    const first = await startFor(world, 'a');
    world.clock.advance({ seconds: 1 });
    await startFor(world, 'b');
    world.clock.advance({ minutes: 11 });
    // Between the first and second page, a writer moves the first session's (now past) due time behind the second's.
    world.sessions.hooks.beforeNext('listDue', () => undefined);
    world.sessions.hooks.beforeNext('listDue', () => {
      world.sessions.tamper(first.sessionId, (c) => ({ ...c, nextSweepDateTime: '2026-01-01T09:10:05.000Z' }));
    });
    const report = await sweep(world);
    expect(report).toMatchObject({ due: 2, pages: 3 });
    expect(world.face.hooks.calls('get')).toBe(2);
  });

  it('carries on past a session it cannot finish, and the next sweep retries that one', async () => {
    const world = fakeWorld();
    const a = await startFor(world, 'a');
    const b = await startFor(world, 'b');
    world.clock.advance({ minutes: 11 });
    world.face.hooks.failNext('delete', new FaceUnavailableError('busy', 1));
    const first = await sweep(world);
    expect(first).toMatchObject({ due: 2, failures: 1, faceSessionsDeleted: 1 });
    expect(world.logger.messages('warn')).toContain('sweep could not finish a session; the next sweep retries it');
    expect(world.face.live()).toHaveLength(1);
    const second = await sweep(world);
    expect(second).toMatchObject({ due: 1, failures: 0, faceSessionsDeleted: 1 });
    expect(world.face.live()).toEqual([]);
    expect([a, b].map((s) => world.sessions.peek(s.sessionId)!.status)).toEqual(['Expired', 'Expired']);
  });

  it('drops an index row left behind by a lost answer, and does not visit the session before it is due', async () => {
    const world = fakeWorld({ settings: { imageRetentionHours: 24 } });
    const s = await startFor(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    // The write recording the Face session's deletion (which moves the due time a day on) lands, its answer is lost.
    world.face.hooks.beforeNext('delete', () => world.sessions.loseNextWriteAnswer());
    await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 });
    expect(world.sessions.sweepIndex().map((r) => r.due)).toEqual(['2026-01-01T09:10:00.000Z', '2026-01-02T09:10:00.000Z']);
    world.clock.advance({ minutes: 11 });
    expect(await sweep(world)).toMatchObject({ due: 0 });
    expect(world.sessions.sweepIndex().map((r) => r.due)).toEqual(['2026-01-02T09:10:00.000Z']);
  });
});

describe('a sweep racing a collector', () => {
  it('both collecting at expiry write one result and one audit entry, and no Face session survives', async () => {
    const world = fakeWorld();
    const s = await startFor(world);
    world.face.addSucceededAttempt(s.faceSessionId);
    world.clock.advance({ minutes: 11 });
    const [report, outcome] = await Promise.all([sweep(world), handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 })]);
    expect(report.failures).toBe(0);
    expect(['collected', 'already-collected']).toContain(outcome);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'ResultAvailable', faceSessionDeleted: true, result: { id: 1 } });
    expect(world.audit.peek(s.sessionId)).toHaveLength(1);
    expect(world.face.live()).toEqual([]);
  });

  // Core bug: the collector copies the session image after the sweep collected, deleted the images and set
  // imagesDeleted; its own write then finds a result (src/core/collect-result.ts:86, outcome 'already-collected') and
  // returns at line 109 without recording or deleting the blob it just wrote. The blob (a biometric capture) outlives
  // image retention until the record purge (recordRetentionDays later). Only the 'deleting' case cleans up after itself.
  it('a session image the collector copies while the sweep deletes images is deleted by the next sweep', async () => {
    const world = fakeWorld();
    const s = await startFor(world, 'alice', { enableSessionImage: 'true' });
    world.face.addSucceededAttempt(s.faceSessionId, { sessionImage: capture });
    world.clock.advance({ minutes: 9 });
    // The collector has read Face and is about to copy the session image when the token expires and the sweep runs.
    world.images.hooks.beforeNext('put', async () => {
      world.clock.advance({ minutes: 2 });
      const report = await sweep(world);
      expect(report.imagesDeleted).toBe(1);
    });
    await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 });
    await sweep(world);
    expect(world.images.names()).toEqual([]);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ imagesDeleted: true });
  });
});
