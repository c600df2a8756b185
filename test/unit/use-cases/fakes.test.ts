// The fakes keep the adapters' promises (so a use-case test that passes here means something): the session
// repository's conditional writes, bound, sweep index, subject index, review queue and paging; the limit stores
// keyed by subject key, as SubjectRows finds them; the hooks' failures and callbacks.
import { describe, expect, it } from 'vitest';
import { ConflictError, StorageUnavailableError, ValidationError } from '../../../src/core/errors.js';
import type { LivenessSession } from '../../../src/core/session.js';
import { attemptLimiter } from '../../../src/core/attempt-limits.js';
import { idempotencyStore } from '../../../src/core/idempotency.js';
import { subjectQuota } from '../../../src/core/quota.js';
import { subjectRows } from '../../../src/core/subject-rows.js';
import { DEFAULT_QUOTA, DEFAULT_SETTINGS, inMemoryRecordStores, InMemorySessionRepository, MAX_ROUNDS } from '../../fakes/index.js';
import { parseConfig } from '../../../src/config/config.js';

const id = (n: number) => `019b78c9-0a80-7000-8000-${String(n).padStart(12, '0')}`;

function session(n: number, due?: string): LivenessSession {
  return {
    sessionId: id(n), createdDateTime: '2026-01-01T09:00:00.000Z', authTokenTimeToLiveInSeconds: 600,
    authTokenExpiresDateTime: '2026-01-01T09:10:00.000Z', livenessOperationMode: 'Passive', enableSessionImage: false,
    status: 'NotStarted', verifyImage: {}, storedVerifyImage: { blobName: `b${n}`, contentType: 'image/jpeg', sizeInBytes: 2000, sha256: 'A'.repeat(64) },
    faceSessionDeleted: false, imagesDeleted: false, sessionImageBlobs: [], deleting: false, ...(due ? { nextSweepDateTime: due } : {}),
  };
}

describe('InMemorySessionRepository', () => {
  it('create refuses an existing id; get knows only UUIDv7 ids', async () => {
    const repo = new InMemorySessionRepository();
    const created = await repo.create(session(1));
    expect(created.etag).toEqual(expect.any(String));
    await expect(repo.create(session(1))).rejects.toBeInstanceOf(ConflictError);
    expect(await repo.get('3f1c5a3e-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('mutate writes conditionally: a stale snapshot loses, is re-read and the change re-applied', async () => {
    const repo = new InMemorySessionRepository();
    const stale = await repo.create(session(1));
    await repo.mutate(stale.sessionId, (c) => ({ ...c, modelVersion: 'theirs' }));
    const seen: Array<string | undefined> = [];
    const written = await repo.mutate(stale, (c) => { seen.push(c.modelVersion); return { ...c, status: 'Started' }; });
    expect(seen).toEqual([undefined, 'theirs']);
    expect(written).toMatchObject({ status: 'Started', modelVersion: 'theirs' });
    expect(written!.etag).not.toBe(stale.etag);
  });

  it('gives up with ConflictError ConcurrentUpdate after the bound; a refusing change and a missing row are passed on', async () => {
    const repo = new InMemorySessionRepository();
    await repo.create(session(1));
    for (let i = 0; i < MAX_ROUNDS; i++) repo.hooks.beforeNext('write', () => { repo.tamper(id(1), (c) => c); });
    await expect(repo.mutate(id(1), (c) => ({ ...c, status: 'Started' }))).rejects.toMatchObject({ constructor: ConflictError, code: 'ConcurrentUpdate' });
    expect(repo.hooks.calls('write')).toBe(MAX_ROUNDS);
    await expect(repo.mutate(id(1), () => { throw new ValidationError('No', 'no'); })).rejects.toBeInstanceOf(ValidationError);
    expect(await repo.mutate(id(2), (c) => c)).toBeUndefined();
  });

  it('keeps the sweep index in step and lists due sessions oldest first, page by page', async () => {
    const repo = new InMemorySessionRepository();
    await repo.create(session(1, '2026-01-01T09:10:00.000Z'));
    await repo.create(session(2, '2026-01-01T09:05:00.000Z'));
    await repo.create(session(3, '2026-01-02T00:00:00.000Z'));
    await repo.mutate(id(1), (c) => ({ ...c, nextSweepDateTime: '2026-01-01T09:07:00.000Z' }));
    expect(repo.sweepIndex().map((r) => r.sessionId)).toEqual([id(2), id(1), id(3)]);
    const now = new Date('2026-01-01T12:00:00.000Z');
    const page1 = await repo.listDue(now, 1);
    expect(page1.items.map((s) => s.sessionId)).toEqual([id(2)]);
    const page2 = await repo.listDue(now, 1, page1.continuationToken);
    expect(page2.items.map((s) => s.sessionId)).toEqual([id(1)]);
    expect(page2.continuationToken).toBeUndefined();
    await expect(repo.listDue(now, 1, 'garbage')).rejects.toBeInstanceOf(ValidationError);
    await repo.delete((await repo.get(id(2)))!);
    expect(repo.sweepIndex().map((r) => r.sessionId)).toEqual([id(1), id(3)]);
  });

  it("keeps the subject index (written with the row, removed after it) and lists a subject's sessions by key", async () => {
    const repo = new InMemorySessionRepository();
    await repo.create({ ...session(1), subjectKey: 'k1' });
    await repo.create({ ...session(2), subjectKey: 'k2' });
    await repo.create({ ...session(3), subjectKey: 'k1' });
    expect((await repo.listBySubject('k1')).map((s) => s.sessionId)).toEqual([id(1), id(3)]);
    await repo.delete((await repo.get(id(1)))!);
    expect(repo.subjectIndex('k1')).toEqual([id(3)]);
    expect((await repo.listBySubject('k2')).map((s) => s.sessionId)).toEqual([id(2)]);
  });

  it('keeps the review queue in step with awaitingReview, oldest first, page by page', async () => {
    const repo = new InMemorySessionRepository();
    const decision = {
      outcome: 'review' as const, reasons: [], attemptId: 1, verifyImageHashMatches: true, policyVersion: 'p1', decidedDateTime: '2026-01-01T09:01:00.000Z',
    };
    for (const n of [2, 1, 3]) {
      await repo.create({ ...session(n), createdDateTime: `2026-01-01T09:0${n}:00.000Z` });
      await repo.mutate(id(n), (c) => ({ ...c, status: 'ResultAvailable', decision }));
    }
    const page1 = await repo.listAwaitingReview(2);
    expect(page1.items.map((s) => s.sessionId)).toEqual([id(1), id(2)]);
    expect((await repo.listAwaitingReview(2, page1.continuationToken)).items.map((s) => s.sessionId)).toEqual([id(3)]);
    await repo.mutate(id(1), (c) => ({ ...c, review: { outcome: 'pass', reason: 'ok', reviewer: 'r', reviewedDateTime: '2026-01-01T10:00:00.000Z' } }));
    await repo.delete((await repo.get(id(2)))!);
    expect((await repo.listAwaitingReview(10)).items.map((s) => s.sessionId)).toEqual([id(3)]);
  });

  it('hooks: fail the next N calls, then work again; count every call', async () => {
    const repo = new InMemorySessionRepository();
    repo.hooks.failNext('get', () => new StorageUnavailableError('down'), 2);
    await expect(repo.get(id(1))).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(repo.get(id(1))).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(repo.get(id(1))).resolves.toBeUndefined();
    expect(repo.hooks.calls('get')).toBe(3);
  });
});

describe('the limit stores and SubjectRows', () => {
  it("keep a subject's rows under its subject key (a device counts only within its subject); SubjectRows exports and erases them by key", async () => {
    const records = inMemoryRecordStores();
    const limiter = attemptLimiter(records.limits, { maxFailures: 2, windowSeconds: 180, lockoutSeconds: 1800 });
    const quota = subjectQuota(records.quotas, DEFAULT_QUOTA);
    const idempotency = idempotencyStore(records.idempotencyKeys, 86_400);
    const rows = subjectRows(records);
    const now = new Date('2026-01-01T09:00:00.000Z');
    await limiter.recordFailure({ kind: 'device', id: 'phone', subjectKey: 'a' }, now, 2);
    await limiter.recordFailure({ kind: 'subject', id: 'a', subjectKey: 'a' }, now);
    expect(await limiter.lockedFor({ kind: 'device', id: 'phone', subjectKey: 'a' }, now)).toBe(1800);
    expect(await limiter.lockedFor({ kind: 'device', id: 'phone', subjectKey: 'b' }, now)).toBe(0);
    await quota.reserve('a', id(1), new Date('2026-01-01T09:10:00.000Z'), now);
    await idempotency.claim('a', 'k', { requestHash: 'h', state: 'in-progress', createdDateTime: now.toISOString() }, now);
    await idempotency.claim('b', 'k', { requestHash: 'h', state: 'in-progress', createdDateTime: now.toISOString() }, now);

    expect(await rows.export('a')).toEqual({
      lockouts: [
        { kind: 'device', recentFailures: 2, lockedUntil: '2026-01-01T09:30:00.000Z' },
        { kind: 'subject', recentFailures: 1 },
      ],
      quota: { openSessions: 1, recentCreates: 1 },
      idempotencyKeys: [{ state: 'in-progress', createdDateTime: now.toISOString() }],
    });
    expect(await rows.erase('a')).toEqual({ lockouts: 2, quotas: 1, idempotencyKeys: 1 });
    expect(await rows.export('a')).toEqual({ lockouts: [], idempotencyKeys: [] });
    expect(records.idempotencyKeys.peek({ subjectKey: 'b', key: 'k' })).toBeDefined();
  });
});

describe('fakeWorld settings', () => {
  it("are the app's defaults, as the composition root hands them to the core", () => {
    const env = {
      AzureWebJobsStorage: 'UseDevelopmentStorage=true', FACE_ENDPOINT: 'http://127.0.0.1:7081',
      DEVICE_AUTH_ISSUER: 'http://127.0.0.1:7082', DEVICE_AUTH_AUDIENCE: 'api://x',
    };
    expect(DEFAULT_SETTINGS).toEqual(parseConfig(env).liveness);
  });
});
