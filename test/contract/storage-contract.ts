// The storage ports' contract: one set of cases, run against the in-memory fakes (test/unit/contract-fakes.test.ts,
// in the unit project) and against the Table/Blob/Queue adapters on Azurite (test/integration/adapters.test.ts, in
// the integration project), so a fake cannot drift from the adapter it stands for. Each case gets a fresh store from
// the factory it is given. `beforeNextWrite` runs a callback just before the store's next conditional write goes
// out (after its read): the way to slip a concurrent writer in between, for fakes and adapters alike.
import { describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { ConflictError, ValidationError } from '../../src/core/errors.js';
import type {
  AuditLog, CompletionMessage, CompletionQueue, DeadLetter, DeliveryAttempt, DeliveryLog, DeliveryMessage, DeliveryQueue, EventQueue,
  IdempotencyRecords, ImageStore, LimitKey, LimitRecords, LivenessEvent, Page, QuotaRecord, QuotaRecords, SessionRepository, SubjectStore,
  VerificationStore,
} from '../../src/core/ports.js';
import type { Verification } from '../../src/core/verification.js';
import type { AuditEntry, LivenessSession } from '../../src/core/session.js';
import type { DeletionReceipt } from '../../src/core/subject.js';

export type BeforeNextWrite = (callback: () => Promise<unknown>) => void;
export interface Harness<T> { store: T; beforeNextWrite: BeforeNextWrite }
type Make<T> = () => Promise<T>;

const T0 = Date.parse('2026-01-01T09:00:00.000Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const subjectKey = (n: number) => String(n).repeat(64).slice(0, 64);
/** A UUIDv7 with this creation time and a fixed tail: the same id every call. */
function idAt(ms: number, n = 0): string {
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7000-8000-${String(n).padStart(12, '0')}`;
}

// ---------------------------------------------------------------------------------------------- per-subject records

export interface RecordStoresHarness {
  limits: Harness<LimitRecords>;
  quotas: Harness<QuotaRecords>;
  idempotencyKeys: Harness<IdempotencyRecords>;
}

export function subjectRecordsContract(make: Make<RecordStoresHarness>): void {
  describe('SubjectRecords (lockout counters, quotas, Idempotency-Keys)', () => {
    const a = subjectKey(1);
    const subjectLimit: LimitKey = { kind: 'subject', id: a, subjectKey: a };
    const deviceLimit = (id: string, key = a): LimitKey => ({ kind: 'device', id, subjectKey: key });

    it('stores each record as decided and reads it back; a decision with nothing to write writes nothing', async () => {
      const { limits, quotas, idempotencyKeys } = await make();
      expect(await limits.store.get(subjectLimit)).toBeUndefined();
      expect(await limits.store.update(subjectLimit, () => ({ result: 'nothing' }))).toBe('nothing');
      expect(await limits.store.get(subjectLimit)).toBeUndefined();

      expect(await limits.store.update(subjectLimit, () => ({ next: { kind: 'subject', failures: [T0, T0 + 1] }, result: 1 }))).toBe(1);
      await limits.store.update(deviceLimit('phone'), () => ({ next: { kind: 'device', failures: [T0], lockedUntil: iso(1800), counted: ['s-1'] }, result: undefined }));
      expect(await limits.store.get(subjectLimit)).toEqual({ kind: 'subject', failures: [T0, T0 + 1] });
      expect(await limits.store.get(deviceLimit('phone'))).toEqual({ kind: 'device', failures: [T0], lockedUntil: iso(1800), counted: ['s-1'] });
      expect(await limits.store.get(deviceLimit('tablet'))).toBeUndefined();

      const quota = { open: [{ id: 's1', expires: T0 + 600_000 }], creates: [T0] };
      await quotas.store.update({ subjectKey: a }, () => ({ next: quota, result: undefined }));
      expect(await quotas.store.get({ subjectKey: a })).toEqual(quota);

      const claim = { requestHash: 'h', state: 'in-progress' as const, createdDateTime: iso(0), claimId: 'c1' };
      await idempotencyKeys.store.update({ subjectKey: a, key: 'k1' }, () => ({ next: claim, result: undefined }));
      expect(await idempotencyKeys.store.get({ subjectKey: a, key: 'k1' })).toEqual(claim);
      await idempotencyKeys.store.update({ subjectKey: a, key: 'k1' }, (c) => ({ next: { ...c!, state: 'done', sessionId: 's1' }, result: undefined }));
      expect(await idempotencyKeys.store.get({ subjectKey: a, key: 'k1' })).toEqual({ ...claim, state: 'done', sessionId: 's1' });
      expect(await idempotencyKeys.store.get({ subjectKey: subjectKey(2), key: 'k1' })).toBeUndefined();
    });

    it('writes conditionally: a writer slipping in between the read and the write makes the decision run again on its record', async () => {
      const { limits } = await make();
      await limits.store.update(subjectLimit, () => ({ next: { kind: 'subject', failures: [1] }, result: undefined }));
      limits.beforeNextWrite(() => limits.store.update(subjectLimit, (c) => ({ next: { kind: 'subject', failures: [...c!.failures, 2] }, result: undefined })));
      const seen: number[][] = [];
      const result = await limits.store.update(subjectLimit, (c) => {
        seen.push(c!.failures);
        return { next: { kind: 'subject', failures: [...c!.failures, 3] }, result: seen.length };
      });
      expect(seen).toEqual([[1], [1, 2]]);
      expect(result).toBe(2);
      expect(await limits.store.get(subjectLimit)).toEqual({ kind: 'subject', failures: [1, 2, 3] });
    });

    it('inserts only when there is nothing: a record inserted meanwhile makes the decision run again on it', async () => {
      const { quotas } = await make();
      quotas.beforeNextWrite(() => quotas.store.update({ subjectKey: a }, () => ({ next: { open: [], creates: [1] }, result: undefined })));
      const seen: unknown[] = [];
      await quotas.store.update({ subjectKey: a }, (c) => {
        seen.push(c);
        return { next: { open: [], creates: [...(c?.creates ?? []), 2] }, result: undefined };
      });
      expect(seen).toEqual([undefined, { open: [], creates: [1] }]);
      expect(await quotas.store.get({ subjectKey: a })).toEqual({ open: [], creates: [1, 2] });
    });

    it('starts from a snapshot read earlier: writes on it when it is current, decides again on the record when it is stale', async () => {
      const { quotas } = await make();
      const key = { subjectKey: a };
      const seen: unknown[] = [];
      const add = (n: number) => (c: QuotaRecord | undefined) => {
        seen.push(c?.creates);
        return { next: { open: [], creates: [...(c?.creates ?? []), n] }, result: undefined };
      };
      // Nothing yet: the snapshot says so, and the insert needs no read.
      const none = await quotas.store.snapshot(key);
      expect(none.record).toBeUndefined();
      await quotas.store.update(key, add(1), none);
      // Current: written on it, one decision.
      const current = await quotas.store.snapshot(key);
      expect(current.record).toEqual({ open: [], creates: [1] });
      await quotas.store.update(key, add(2), current);
      expect(seen).toEqual([undefined, [1]]);
      // Stale (the record changed since): the conditional write fails and the decision runs again on what is stored.
      seen.length = 0;
      await quotas.store.update(key, add(3), current);
      expect(seen).toEqual([[1], [1, 2]]);
      // A snapshot of nothing while a record exists: the insert fails and the decision runs again on the record.
      seen.length = 0;
      await quotas.store.update(key, add(4), none);
      expect(seen).toEqual([undefined, [1, 2, 3]]);
      expect(await quotas.store.get(key)).toEqual({ open: [], creates: [1, 2, 3, 4] });
    });

    it('a record deleted between the read and the write is decided again as absent', async () => {
      const { idempotencyKeys } = await make();
      const ref = { subjectKey: a, key: 'k' };
      const claim = (claimId: string) => ({ requestHash: 'h', state: 'in-progress' as const, createdDateTime: iso(0), claimId });
      await idempotencyKeys.store.update(ref, () => ({ next: claim('old'), result: undefined }));
      idempotencyKeys.beforeNextWrite(() => idempotencyKeys.store.delete(ref));
      const seen: Array<string | undefined> = [];
      await idempotencyKeys.store.update(ref, (c) => {
        seen.push(c?.claimId);
        return { next: claim('new'), result: undefined };
      });
      expect(seen).toEqual(['old', undefined]);
      expect(await idempotencyKeys.store.get(ref)).toEqual(claim('new'));
    });

    it('deletes idempotently', async () => {
      const { idempotencyKeys } = await make();
      const ref = { subjectKey: a, key: 'k' };
      await idempotencyKeys.store.delete(ref);
      await idempotencyKeys.store.update(ref, () => ({ next: { requestHash: 'h', state: 'done', createdDateTime: iso(0) }, result: undefined }));
      await idempotencyKeys.store.delete(ref);
      await idempotencyKeys.store.delete(ref);
      expect(await idempotencyKeys.store.get(ref)).toBeUndefined();
    });

    it("lists and erases a subject's records of one kind by subject key (its other kinds and other subjects untouched)", async () => {
      const { limits, quotas, idempotencyKeys } = await make();
      const b = subjectKey(2);
      for (const key of [subjectLimit, deviceLimit('phone'), deviceLimit('tablet'), deviceLimit('phone', b)]) {
        await limits.store.update(key, () => ({ next: { kind: key.kind, failures: [T0] }, result: undefined }));
      }
      await quotas.store.update({ subjectKey: a }, () => ({ next: { open: [], creates: [T0] }, result: undefined }));
      await quotas.store.update({ subjectKey: b }, () => ({ next: { open: [], creates: [T0] }, result: undefined }));
      for (const key of ['k1', 'k2', 'k3']) {
        await idempotencyKeys.store.update({ subjectKey: a, key }, () => ({ next: { requestHash: key, state: 'done', createdDateTime: iso(0) }, result: undefined }));
      }

      expect((await limits.store.listSubject(a)).map((r) => r.kind).sort()).toEqual(['device', 'device', 'subject']);
      expect(await quotas.store.listSubject(a)).toEqual([{ open: [], creates: [T0] }]);
      expect((await idempotencyKeys.store.listSubject(a)).map((r) => r.requestHash).sort()).toEqual(['k1', 'k2', 'k3']);
      expect(await idempotencyKeys.store.listSubject(b)).toEqual([]);

      expect(await limits.store.eraseSubject(a)).toBe(3);
      expect(await limits.store.listSubject(a)).toEqual([]);
      expect(await quotas.store.listSubject(a)).toHaveLength(1); // the quota row shares the partition, not the kind
      expect(await quotas.store.eraseSubject(a)).toBe(1);
      expect(await idempotencyKeys.store.eraseSubject(a)).toBe(3);
      expect(await limits.store.eraseSubject(a)).toBe(0);
      expect(await limits.store.get(deviceLimit('phone', b))).toEqual({ kind: 'device', failures: [T0] });
      expect(await quotas.store.get({ subjectKey: b })).toBeDefined();
    });
  });
}

// ---------------------------------------------------------------------------------------------- session repository

export function testSession(createdMs: number, extra: Partial<LivenessSession> = {}): LivenessSession {
  const sessionId = uuidv7({ msecs: createdMs });
  return {
    sessionId, createdDateTime: new Date(createdMs).toISOString(), authTokenTimeToLiveInSeconds: 600,
    authTokenExpiresDateTime: new Date(createdMs + 600_000).toISOString(), livenessOperationMode: 'Passive', enableSessionImage: false,
    status: 'NotStarted', verifyImage: {}, storedVerifyImage: { blobName: `verify-images/${sessionId}.jpg`, contentType: 'image/jpeg', sizeInBytes: 2000, sha256: 'A'.repeat(64) },
    faceSessionDeleted: false, imagesDeleted: false, sessionImageBlobs: [], deleting: false, ...extra,
  };
}

/** Every item of a paged listing, following its continuation tokens. */
async function allPages<T>(first: Page<T>, next: (token: string) => Promise<Page<T>>): Promise<T[]> {
  const items = [...first.items];
  let token = first.continuationToken;
  for (let pages = 0; token && pages < 50; pages++) {
    const page = await next(token);
    items.push(...page.items);
    token = page.continuationToken;
  }
  return items;
}

export function sessionRepositoryContract(make: Make<Harness<SessionRepository>>): void {
  describe('SessionRepository', () => {
    it('creates once (an existing id is a ConflictError) and reads back what it wrote, with an ETag; other ids read as absent', async () => {
      const { store } = await make();
      const s = testSession(T0, { subjectKey: subjectKey(1), deviceCorrelationId: 'd1' });
      const created = await store.create(s);
      expect(created.etag).toEqual(expect.any(String));
      await expect(store.create(testSession(T0, { sessionId: s.sessionId, storedVerifyImage: { ...s.storedVerifyImage, sha256: 'B'.repeat(64) } })))
        .rejects.toBeInstanceOf(ConflictError);
      const read = await store.get(s.sessionId);
      expect(read).toEqual({ ...s, etag: read!.etag });
      expect(await store.get(uuidv7({ msecs: T0 + 5 }))).toBeUndefined();
      expect(await store.get('3f1c5a3e-0000-4000-8000-000000000000')).toBeUndefined(); // not a UUIDv7: not ours
    });

    it('mutates conditionally: a writer slipping in makes the change be re-applied to its version; a stale snapshot is read again', async () => {
      const { store, beforeNextWrite } = await make();
      const s = await store.create(testSession(T0));
      beforeNextWrite(() => store.mutate(s.sessionId, (c) => ({ ...c, deviceCorrelationId: 'other-writer' })));
      const seen: Array<string | undefined> = [];
      const written = await store.mutate(s, (c) => {
        seen.push(c.deviceCorrelationId);
        return { ...c, status: 'Started' };
      });
      expect(seen).toEqual([undefined, 'other-writer']);
      expect(written).toMatchObject({ status: 'Started', deviceCorrelationId: 'other-writer' });
      // `s` is stale now: its ETag no longer matches, so mutate reads again rather than overwriting.
      const again = await store.mutate(s, (c) => ({ ...c, failureReason: 'x' }));
      expect(again).toMatchObject({ status: 'Started', deviceCorrelationId: 'other-writer', failureReason: 'x' });
      expect(await store.mutate(s.sessionId, () => undefined)).toEqual(again); // nothing to write
    });

    it('refuses a write without an ETag (never an unconditional overwrite)', async () => {
      const { store } = await make();
      const s = await store.create(testSession(T0));
      const { etag: _etag, ...noEtag } = s;
      await expect(store.mutate(noEtag, (c) => ({ ...c, status: 'Started' }))).rejects.toThrow(/ETag/);
      expect((await store.get(s.sessionId))!.status).toBe('NotStarted');
    });

    it('mutating or deleting a session that is gone: undefined, and deletes are idempotent', async () => {
      const { store } = await make();
      const s = await store.create(testSession(T0, { subjectKey: subjectKey(1), nextSweepDateTime: iso(600) }));
      await store.delete(s);
      await store.delete(s);
      expect(await store.get(s.sessionId)).toBeUndefined();
      expect(await store.mutate(s.sessionId, (c) => ({ ...c, status: 'Started' }))).toBeUndefined();
      expect(await store.listBySubject(subjectKey(1))).toEqual([]);
      expect((await store.listDue(new Date(T0 + 3_600_000), 10)).items).toEqual([]);
    });

    it('lists newest first in pages (Creating rows left out), every session once; a foreign token is a 400', async () => {
      const { store } = await make();
      const made = [];
      for (let i = 0; i < 5; i++) made.push(await store.create(testSession(T0 + i * 1000)));
      await store.create(testSession(T0 + 10_000, { status: 'Creating' }));
      const listed = await allPages(await store.list({ top: 2 }), (token) => store.list({ top: 2, continuationToken: token }));
      expect(listed.map((s) => s.id)).toEqual(made.map((s) => s.sessionId).reverse());
      const first = await store.list({ top: 2 });
      expect(first.items).toHaveLength(2);
      expect(first.continuationToken).toEqual(expect.any(String));
      const bad = Buffer.from(JSON.stringify({ nextPartitionKey: { $gt: '' } })).toString('base64');
      await expect(store.list({ top: 2, continuationToken: bad })).rejects.toBeInstanceOf(ValidationError);
    });

    it('lists due sessions by their sweep time (a key range: only those due, oldest first), and a subject\'s sessions', async () => {
      const { store } = await make();
      const key = subjectKey(3);
      const late = await store.create(testSession(T0, { nextSweepDateTime: iso(7200), subjectKey: key }));
      const soon = await store.create(testSession(T0 + 1000, { nextSweepDateTime: iso(60), subjectKey: key }));
      const sooner = await store.create(testSession(T0 + 2000, { nextSweepDateTime: iso(30) }));
      const due = await allPages(await store.listDue(new Date(T0 + 120_000), 1), (token) => store.listDue(new Date(T0 + 120_000), 1, token));
      expect(due.map((s) => s.sessionId)).toEqual([sooner.sessionId, soon.sessionId]);
      // Moving the due time moves the session in the index.
      await store.mutate(late, (c) => ({ ...c, nextSweepDateTime: iso(90) }));
      await store.mutate(soon.sessionId, (c) => ({ ...c, nextSweepDateTime: iso(7200) }));
      const dueNow = await allPages(await store.listDue(new Date(T0 + 120_000), 10), (token) => store.listDue(new Date(T0 + 120_000), 10, token));
      expect(dueNow.map((s) => s.sessionId)).toEqual([sooner.sessionId, late.sessionId]);
      expect((await store.listBySubject(key)).map((s) => s.sessionId).sort()).toEqual([late.sessionId, soon.sessionId].sort());
    });

    it("finds a session by its Face session id (any case), once the row names it; unknown and deleted ones are absent", async () => {
      const { store } = await make();
      const faceA = 'a1b2c3d4-0000-4000-8000-00000000000a';
      const faceB = 'a1b2c3d4-0000-4000-8000-00000000000b';
      const a = await store.create(testSession(T0, { faceSessionId: faceA }));
      const b = await store.create(testSession(T0 + 1000, { status: 'Creating' }));
      expect(await store.findByFaceSessionId(faceB)).toBeUndefined(); // b does not name its Face session yet
      await store.mutate(b, (c) => ({ ...c, status: 'NotStarted', faceSessionId: faceB }));
      expect((await store.findByFaceSessionId(faceA))?.sessionId).toBe(a.sessionId);
      expect((await store.findByFaceSessionId(faceB.toUpperCase()))?.sessionId).toBe(b.sessionId);
      expect(await store.findByFaceSessionId('a1b2c3d4-0000-4000-8000-00000000000c')).toBeUndefined();
      await store.delete((await store.get(a.sessionId))!);
      expect(await store.findByFaceSessionId(faceA)).toBeUndefined();
      expect((await store.findByFaceSessionId(faceB))?.sessionId).toBe(b.sessionId);
    });
  });
}

// ---------------------------------------------------------------------------------------------- subject store

export function subjectStoreContract(make: Make<Harness<SubjectStore>>): void {
  describe('SubjectStore', () => {
    it('keys subjects by a deterministic 64-hex-digit keyed hash, one per subject', async () => {
      const { store } = await make();
      expect(store.keyOf('alice')).toMatch(/^[0-9a-f]{64}$/);
      expect(store.keyOf('alice')).toBe(store.keyOf('alice'));
      expect(store.keyOf('alice')).not.toBe(store.keyOf('bob'));
    });

    it('mutates conditionally: creates the record when the change makes one, re-applies a change a concurrent writer beat', async () => {
      const { store, beforeNextWrite } = await make();
      const key = store.keyOf('alice');
      expect(await store.get(key)).toBeUndefined();
      expect(await store.mutate(key, () => undefined)).toBeUndefined();
      const created = await store.mutate(key, () => ({ subjectKey: key, createdDateTime: iso(0), retiredBlobs: [] }));
      expect(created).toMatchObject({ subjectKey: key, retiredBlobs: [], etag: expect.any(String) });
      beforeNextWrite(() => store.mutate(key, (c) => ({ ...c!, retiredBlobs: [...c!.retiredBlobs, 'other'] })));
      const seen: string[][] = [];
      const written = await store.mutate(key, (c) => {
        seen.push(c!.retiredBlobs);
        return { ...c!, retiredBlobs: [...c!.retiredBlobs, 'mine'] };
      });
      expect(seen).toEqual([[], ['other']]);
      expect(written!.retiredBlobs).toEqual(['other', 'mine']);
      expect((await store.get(key))!.retiredBlobs).toEqual(['other', 'mine']);
    });

    it('keeps the erasing index in step: a record marked erasing is listed until deleted; delete is idempotent', async () => {
      const { store } = await make();
      const key = store.keyOf('carol');
      await store.mutate(key, () => ({ subjectKey: key, createdDateTime: iso(0), retiredBlobs: [] }));
      expect(await store.listErasing()).toEqual([]);
      await store.mutate(key, (c) => ({ ...c!, erasure: { erasureId: 'e1', requestedDateTime: iso(1), requestedBy: 'ops', counts: {} } }));
      expect(await store.listErasing()).toEqual([key]);
      await store.delete(key);
      await store.delete(key);
      expect(await store.get(key)).toBeUndefined();
      expect(await store.listErasing()).toEqual([]);
    });

    it('records visits and consents (one per version, the latest time), lists and deletes consents by subject', async () => {
      const { store } = await make();
      const key = store.keyOf('dave');
      await store.recordVisit(key, new Date(T0), { version: 'v1', givenDateTime: iso(0) });
      await store.recordVisit(key, new Date(T0 + 1000), { version: 'v1', givenDateTime: iso(1) });
      await store.recordVisit(key, new Date(T0 + 2000), { version: 'v2', givenDateTime: iso(2) });
      await store.recordVisit(store.keyOf('erin'), new Date(T0), { version: 'v1', givenDateTime: iso(0) });
      expect((await store.get(key))!.lastSeenDateTime).toBe(iso(2));
      expect((await store.listConsents(key)).sort((x, y) => x.version.localeCompare(y.version)))
        .toEqual([{ version: 'v1', givenDateTime: iso(1) }, { version: 'v2', givenDateTime: iso(2) }]);
      expect(await store.deleteConsents(key)).toBe(2);
      expect(await store.listConsents(key)).toEqual([]);
      expect(await store.listConsents(store.keyOf('erin'))).toHaveLength(1);
    });

    it('keeps deletion receipts per subject, idempotent per receipt id, oldest first', async () => {
      const { store } = await make();
      const key = store.keyOf('frank');
      const receipt = (id: string, at: number): DeletionReceipt => ({
        receiptId: id, subjectKey: key, requestedDateTime: iso(at), completedDateTime: iso(at + 1), requestedBy: 'ops', deleted: { sessions: at },
      });
      await store.putReceipt(receipt('r2', 10));
      await store.putReceipt(receipt('r1', 0));
      await store.putReceipt(receipt('r1', 0));
      expect(await store.listReceipts(key)).toEqual([receipt('r1', 0), receipt('r2', 10)]);
      expect(await store.listReceipts(store.keyOf('someone'))).toEqual([]);
    });
  });
}

// ---------------------------------------------------------------------------------------------- delivery log

export function deliveryLogContract(make: Make<DeliveryLog>): void {
  describe('DeliveryLog', () => {
    const event = (n: number): LivenessEvent => ({
      id: `evt_${idAt(T0 + n * 1000, n)}`, type: 'liveness.session.decided', timestamp: iso(n), data: { sessionId: 's', outcome: 'pass' },
    });

    it('keeps attempts per event, oldest first; a repeated attempt replaces itself', async () => {
      const log = await make();
      const e = event(1);
      const attempt = (n: number, result: DeliveryAttempt['result']): DeliveryAttempt => ({
        eventId: e.id, eventType: e.type, sessionId: 's', attempt: n, attemptedDateTime: iso(n * 10), durationMs: 5, result,
        ...(result === 'retry-scheduled' ? { statusCode: 500, error: 'HttpStatus' as const, nextAttemptDateTime: iso(n * 10 + 10) } : { statusCode: 204 }),
      });
      await log.recordAttempt(attempt(2, 'delivered'));
      await log.recordAttempt(attempt(1, 'retry-scheduled'));
      await log.recordAttempt(attempt(1, 'retry-scheduled'));
      expect(await log.listAttempts(e.id)).toEqual([attempt(1, 'retry-scheduled'), attempt(2, 'delivered')]);
      expect(await log.listAttempts(event(2).id)).toEqual([]);
    });

    it('keeps one dead letter per event; gets, deletes idempotently, and lists them oldest first in pages', async () => {
      const log = await make();
      const letter = (n: number, attempts = 8): DeadLetter => ({
        event: event(n), attempts, firstAttemptDateTime: iso(n), deadLetteredDateTime: iso(n + 100), lastStatusCode: 500, lastError: 'HttpStatus',
      });
      for (const n of [3, 1, 5, 2, 4]) await log.putDeadLetter(letter(n));
      await log.putDeadLetter(letter(2, 9));
      expect(await log.getDeadLetter(event(2).id)).toEqual(letter(2, 9));
      expect(await log.getDeadLetter(event(9).id)).toBeUndefined();
      const first = await log.listDeadLetters(2);
      expect(first.items).toHaveLength(2);
      const all = await allPages(first, (token) => log.listDeadLetters(2, token));
      expect(all.map((d) => d.event.id)).toEqual([1, 2, 3, 4, 5].map((n) => event(n).id));
      await log.deleteDeadLetter(event(3).id);
      await log.deleteDeadLetter(event(3).id);
      expect((await log.listDeadLetters(10)).items.map((d) => d.event.id)).toEqual([1, 2, 4, 5].map((n) => event(n).id));
      await expect(log.listDeadLetters(2, 'not-a-token')).rejects.toBeInstanceOf(ValidationError);
    });
  });
}

// ---------------------------------------------------------------------------------------------- audit log, images

export function auditLogContract(make: Make<AuditLog>): void {
  describe('AuditLog', () => {
    const entry = (sessionId: string, id: number, status: AuditEntry['attemptStatus'] = 'Succeeded'): AuditEntry => ({
      id, sessionId, attemptStatus: status, response: { body: { livenessDecision: 'realface' } }, collectedDateTime: iso(id),
    });

    it('upserts by attempt id, lists oldest first per session, deletes all of a session idempotently', async () => {
      const log = await make();
      const [s1, s2] = [uuidv7({ msecs: T0 }), uuidv7({ msecs: T0 + 1 })];
      await log.upsert([entry(s1, 10), entry(s1, 2), entry(s2, 1)]);
      await log.upsert([entry(s1, 2, 'Failed')]);
      await log.upsert([]);
      expect(await log.list(s1)).toEqual([entry(s1, 2, 'Failed'), entry(s1, 10)]);
      await log.deleteAll(s1);
      await log.deleteAll(s1);
      expect(await log.list(s1)).toEqual([]);
      expect(await log.list(s2)).toEqual([entry(s2, 1)]);
    });
  });
}

export function imageStoreContract(make: Make<ImageStore>): void {
  describe('ImageStore', () => {
    it('puts, gets, tells existence, deletes idempotently; an absent blob reads as undefined', async () => {
      const images = await make();
      const bytes = new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]);
      expect(await images.get('verify-images/x.jpg')).toBeUndefined();
      expect(await images.exists('verify-images/x.jpg')).toBe(false);
      await images.put('verify-images/x.jpg', bytes, 'image/jpeg', { sha256: 'AB' });
      expect(Buffer.from((await images.get('verify-images/x.jpg'))!).equals(Buffer.from(bytes))).toBe(true);
      expect(await images.exists('verify-images/x.jpg')).toBe(true);
      await images.put('verify-images/x.jpg', new Uint8Array([9]), 'image/jpeg');
      expect([...(await images.get('verify-images/x.jpg'))!]).toEqual([9]);
      await images.delete('verify-images/x.jpg');
      await images.delete('verify-images/x.jpg');
      expect(await images.exists('verify-images/x.jpg')).toBe(false);
    });
  });
}

// ---------------------------------------------------------------------------------------------- queues

/** A queue and what a consumer could take off it right now (messages whose delay has not passed stay hidden). */
export interface QueueHarness<Q> { queue: Q; visible(): Promise<unknown[]> }

export function completionQueueContract(make: Make<QueueHarness<CompletionQueue>>): void {
  describe('CompletionQueue', () => {
    it('delivers a message as sent, at once; a delayed one stays hidden', async () => {
      const { queue, visible } = await make();
      const now: CompletionMessage = { sessionId: uuidv7({ msecs: T0 }), try: 1, chainId: 'c1' };
      await queue.enqueue(now);
      await queue.enqueue({ sessionId: uuidv7({ msecs: T0 + 1 }), try: 2, chainId: 'c1' }, 3600);
      expect(await visible()).toEqual([now]);
    });
  });
}

export function webhookQueueContract(make: Make<QueueHarness<EventQueue & DeliveryQueue>>): void {
  describe('EventQueue and DeliveryQueue (the webhook queue)', () => {
    it('a new event becomes its first delivery try, at once; a retry keeps its message and its delay', async () => {
      const { queue, visible } = await make();
      const event: LivenessEvent = { id: `evt_${uuidv7({ msecs: T0 })}`, type: 'liveness.session.expired', timestamp: iso(0), data: { sessionId: 's' } };
      await queue.enqueue(event);
      const retry: DeliveryMessage = { event, attempt: 3, firstAttemptDateTime: iso(0) };
      await queue.enqueue(retry, 600);
      const soon: DeliveryMessage = { event, attempt: 2, firstAttemptDateTime: iso(0) };
      await queue.enqueue(soon, 0);
      expect(await visible()).toEqual([{ event, attempt: 1 }, soon]);
    });
  });
}

// ---------------------------------------------------------------------------------------------------- verifications

export function testVerification(createdMs: number, extra: Partial<Verification> = {}): Verification {
  return {
    verificationId: idAt(createdMs, 7), owner: 'rp-app-1', subjectKey: subjectKey(3), clientReferenceId: 'order-1',
    createdDateTime: new Date(createdMs).toISOString(), linkTokenHash: 'a'.repeat(64),
    linkIssuedDateTime: new Date(createdMs).toISOString(), linkExpiresDateTime: new Date(createdMs + 900_000).toISOString(),
    linkState: 'sent', sweepDateTime: new Date(createdMs + 900_000).toISOString(), ...extra,
  };
}

export function verificationStoreContract(make: Make<Harness<VerificationStore>>): void {
  describe('VerificationStore', () => {
    const strip = ({ etag: _etag, ...v }: Verification) => v;

    it('creates, reads back by id (any case), refuses a second create of the id, and deletes idempotently', async () => {
      const { store } = await make();
      const v = testVerification(T0);
      const written = await store.create(v);
      expect(written.etag).toBeTruthy();
      expect(strip((await store.get(v.verificationId))!)).toEqual(v);
      expect(strip((await store.get(v.verificationId.toUpperCase()))!)).toEqual(v);
      expect(await store.get('not-an-id')).toBeUndefined();
      expect(await store.get(idAt(T0, 8))).toBeUndefined();
      await expect(store.create(v)).rejects.toBeInstanceOf(ConflictError);
      await store.delete(v);
      await store.delete(v);
      expect(await store.get(v.verificationId)).toBeUndefined();
    });

    it('mutates conditionally: a writer slipping in between makes the change run again on its version', async () => {
      const { store, beforeNextWrite } = await make();
      const v = testVerification(T0);
      await store.create(v);
      beforeNextWrite(() => store.mutate(v.verificationId, (c) => ({ ...c, linkState: 'opened', linkTokenHash: undefined })));
      const seen: string[] = [];
      const result = await store.mutate(v.verificationId, (c) => {
        seen.push(c.linkState);
        if (c.linkState !== 'sent') throw new ValidationError('LinkUsed', 'used');
        return { ...c, linkState: 'opened' };
      }).catch((error: Error) => error);
      expect(seen).toEqual(['sent', 'opened']);
      expect(result).toBeInstanceOf(ValidationError);
      expect(await store.mutate(idAt(T0, 9), (c) => c)).toBeUndefined();
      const unchanged = await store.mutate(v.verificationId, () => undefined);
      expect(unchanged?.linkState).toBe('opened');
    });

    it('lists newest first in pages, finds a subject\'s verifications by key and the due ones by time', async () => {
      const { store } = await make();
      const older = testVerification(T0, { sweepDateTime: iso(60) });
      const newer = testVerification(T0 + 5_000, { subjectKey: subjectKey(4), sweepDateTime: iso(3600) });
      await store.create(older);
      await store.create(newer);
      const first = await store.list(1);
      expect(first.items.map((v) => v.verificationId)).toEqual([newer.verificationId]);
      expect(first.continuationToken).toBeTruthy();
      const second = await store.list(1, first.continuationToken);
      expect(second.items.map((v) => v.verificationId)).toEqual([older.verificationId]);
      expect((await store.listBySubject(subjectKey(3))).map((v) => v.verificationId)).toEqual([older.verificationId]);
      expect((await store.listDue(new Date(T0 + 120_000), 10)).map((v) => v.verificationId)).toEqual([older.verificationId]);
      // Moving the due time moves it out of (and back into) the due list.
      await store.mutate(older.verificationId, (c) => ({ ...c, sweepDateTime: iso(7200) }));
      expect(await store.listDue(new Date(T0 + 120_000), 10)).toEqual([]);
      expect((await store.listDue(new Date(T0 + 7_200_000), 10)).map((v) => v.verificationId).sort()).toEqual([older.verificationId, newer.verificationId].sort());
      await store.delete((await store.get(older.verificationId))!);
      expect(await store.listBySubject(subjectKey(3))).toEqual([]);
      expect((await store.listDue(new Date(T0 + 7_200_000), 10)).map((v) => v.verificationId)).toEqual([newer.verificationId]);
    });
  });
}
