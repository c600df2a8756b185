// The fakes keep the adapters' promises (so a use-case test that passes here means something): the session
// repository's conditional writes, bound, sweep index and paging; the hooks' failures and callbacks.
import { describe, expect, it } from 'vitest';
import { ConflictError, StorageUnavailableError, ValidationError } from '../../../src/core/errors.js';
import type { LivenessSession } from '../../../src/core/session.js';
import { InMemorySessionRepository, MAX_ROUNDS } from '../../fakes/index.js';

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

  it('hooks: fail the next N calls, then work again; count every call', async () => {
    const repo = new InMemorySessionRepository();
    repo.hooks.failNext('get', () => new StorageUnavailableError('down'), 2);
    await expect(repo.get(id(1))).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(repo.get(id(1))).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(repo.get(id(1))).resolves.toBeUndefined();
    expect(repo.hooks.calls('get')).toBe(3);
  });
});
