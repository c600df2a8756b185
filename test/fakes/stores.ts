// In-memory versions of the small ports: completion queue, image store, audit log, attempt limiter, subject quota,
// idempotency store, and the subject's rows in those (SubjectRows). Each copies its adapter's
// observable behaviour (src/adapters/storage/*) and carries the same test hooks. Like the Table adapters, the limiter,
// the quota and the idempotency store keep a subject's rows under its subject key, so SubjectRows finds them by key.
import { StorageUnavailableError } from '../../src/core/errors.js';
import type { AttemptLimitPolicy } from '../../src/core/attempt-limits.js';
import type {
  AttemptLimiter, AuditLog, CompletionMessage, CompletionQueue, IdempotencyRecord, IdempotencyStore, ImageStore, LimitKey, QuotaRefusal,
  SubjectQuota, SubjectRows,
} from '../../src/core/ports.js';
import type { SubjectRowsExport } from '../../src/core/subject.js';
import type { QuotaPolicy } from '../../src/adapters/storage/table-subject-quota.js';
import type { AuditEntry } from '../../src/core/session.js';
import { OperationHooks } from './hooks.js';

const clone = <T>(value: T): T => structuredClone(value);

export interface QueuedMessage { message: CompletionMessage; delaySeconds: number }

export class InMemoryCompletionQueue implements CompletionQueue {
  readonly hooks = new OperationHooks<'enqueue'>();
  private queued: QueuedMessage[] = [];
  private lostAnswers = 0;

  /** The next enqueue lands, but its caller sees StorageUnavailableError (a lost answer). */
  loseNextAnswer(times = 1): void {
    this.lostAnswers += times;
  }

  async enqueue(message: CompletionMessage, delaySeconds = 0): Promise<void> {
    await this.hooks.enter('enqueue');
    this.queued.push({ message: clone(message), delaySeconds });
    if (this.lostAnswers > 0) {
      this.lostAnswers--;
      throw new StorageUnavailableError('Queue request failed.');
    }
  }

  /** Messages waiting, oldest first. */
  peek(): QueuedMessage[] {
    return clone(this.queued);
  }

  /** Takes every waiting message off the queue (as the host would deliver them). */
  drain(): QueuedMessage[] {
    const taken = this.queued;
    this.queued = [];
    return taken;
  }
}

export interface StoredBlob { bytes: Uint8Array; contentType: string; metadata?: Record<string, string> }

export class InMemoryImageStore implements ImageStore {
  readonly hooks = new OperationHooks<'put' | 'get' | 'delete' | 'exists'>();
  readonly blobs = new Map<string, StoredBlob>();

  names(): string[] {
    return [...this.blobs.keys()].sort();
  }

  async put(blobName: string, bytes: Uint8Array, contentType: string, metadata?: Record<string, string>): Promise<void> {
    await this.hooks.enter('put');
    this.blobs.set(blobName, { bytes: new Uint8Array(bytes), contentType, ...(metadata ? { metadata: { ...metadata } } : {}) });
  }

  async get(blobName: string): Promise<Uint8Array | undefined> {
    await this.hooks.enter('get');
    const blob = this.blobs.get(blobName);
    return blob && new Uint8Array(blob.bytes);
  }

  async delete(blobName: string): Promise<void> {
    await this.hooks.enter('delete');
    this.blobs.delete(blobName);
  }

  async exists(blobName: string): Promise<boolean> {
    await this.hooks.enter('exists');
    return this.blobs.has(blobName);
  }
}

export class InMemoryAuditLog implements AuditLog {
  readonly hooks = new OperationHooks<'upsert' | 'list' | 'deleteAll'>();
  private readonly entries = new Map<string, Map<number, AuditEntry>>();

  /** Every entry of a session, oldest first, without counting a call. */
  peek(sessionId: string): AuditEntry[] {
    return [...(this.entries.get(sessionId)?.values() ?? [])].sort((a, b) => a.id - b.id).map(clone);
  }

  sessionIds(): string[] {
    return [...this.entries.keys()].filter((id) => (this.entries.get(id)?.size ?? 0) > 0);
  }

  async upsert(entries: AuditEntry[]): Promise<void> {
    await this.hooks.enter('upsert');
    for (const entry of entries) {
      const perSession = this.entries.get(entry.sessionId) ?? new Map<number, AuditEntry>();
      perSession.set(entry.id, clone(entry));
      this.entries.set(entry.sessionId, perSession);
    }
  }

  async list(sessionId: string): Promise<AuditEntry[]> {
    await this.hooks.enter('list');
    return this.peek(sessionId);
  }

  async deleteAll(sessionId: string): Promise<void> {
    await this.hooks.enter('deleteAll');
    this.entries.delete(sessionId);
  }
}

export const DEFAULT_LIMITS: AttemptLimitPolicy = { maxFailures: 5, windowSeconds: 180, lockoutSeconds: 1800 };

/**
 * The Table adapter's algorithm (src/adapters/storage/table-attempt-limiter.ts), in memory: one row per subject and
 * per device *of that subject*, in the subject key's partition.
 */
export class InMemoryAttemptLimiter implements AttemptLimiter {
  readonly hooks = new OperationHooks<'lockedFor' | 'recordFailure'>();
  /** Subject key -> row name ('subject' or 'device:<id>') -> row. */
  private readonly partitions = new Map<string, Map<string, LimitRow>>();

  constructor(private readonly policy: AttemptLimitPolicy = DEFAULT_LIMITS) {}

  /** Failures recorded in the window for a key, without counting a call. */
  failures(key: LimitKey): number {
    return this.row(key)?.failures.length ?? 0;
  }

  /** The rows of a subject key's partition, without counting a call (what SubjectRows exports and erases). */
  partition(subjectKey: string): Array<{ kind: LimitKey['kind']; row: LimitRow }> {
    return [...(this.partitions.get(subjectKey) ?? new Map<string, LimitRow>()).entries()]
      .map(([name, row]) => ({ kind: name === 'subject' ? 'subject' as const : 'device' as const, row: clone(row) }));
  }

  /** Deletes a subject key's partition. @returns how many rows it held */
  erasePartition(subjectKey: string): number {
    const n = this.partitions.get(subjectKey)?.size ?? 0;
    this.partitions.delete(subjectKey);
    return n;
  }

  async lockedFor(key: LimitKey, now: Date): Promise<number> {
    await this.hooks.enter('lockedFor');
    const lockedUntil = this.row(key)?.lockedUntil;
    if (!lockedUntil) return 0;
    const left = Date.parse(lockedUntil) - now.getTime();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  async recordFailure(key: LimitKey, now: Date, count = 1): Promise<void> {
    await this.hooks.enter('recordFailure');
    const row = this.row(key);
    const windowStart = now.getTime() - this.policy.windowSeconds * 1000;
    const failures = [...(row?.failures ?? []), ...Array<number>(count).fill(now.getTime())].filter((t) => t > windowStart).slice(-this.policy.maxFailures * 2);
    const lockedUntil = failures.length >= this.policy.maxFailures
      ? new Date(now.getTime() + this.policy.lockoutSeconds * 1000).toISOString()
      : row?.lockedUntil;
    const partition = this.partitions.get(key.subjectKey) ?? new Map<string, LimitRow>();
    partition.set(rowName(key), { failures, ...(lockedUntil ? { lockedUntil } : {}) });
    this.partitions.set(key.subjectKey, partition);
  }

  private row(key: LimitKey): LimitRow | undefined {
    return this.partitions.get(key.subjectKey)?.get(rowName(key));
  }
}

export interface LimitRow { failures: number[]; lockedUntil?: string }

const rowName = (key: LimitKey) => (key.kind === 'subject' ? 'subject' : `device:${key.id}`);

export const DEFAULT_QUOTA: QuotaPolicy = { maxOpenSessions: 3, maxCreates: 10, windowSeconds: 3600 };

/** The Table adapter's quota rules (src/adapters/storage/table-subject-quota.ts), in memory. */
export class InMemorySubjectQuota implements SubjectQuota {
  readonly hooks = new OperationHooks<'reserve' | 'release'>();
  private readonly rows = new Map<string, { open: Array<{ id: string; expires: number }>; creates: number[] }>();

  constructor(private readonly policy: QuotaPolicy = DEFAULT_QUOTA) {}

  /** The subject key's open session ids, without counting a call. */
  open(subjectKey: string): string[] {
    return (this.rows.get(subjectKey)?.open ?? []).map((s) => s.id);
  }

  /** The subject key's quota row as stored (expired slots and old creates included), without counting a call. */
  row(subjectKey: string): { open: number; creates: number } | undefined {
    const row = this.rows.get(subjectKey);
    return row && { open: row.open.length, creates: row.creates.length };
  }

  /** Deletes the subject key's quota row. @returns how many rows it deleted (0 or 1) */
  eraseRow(subjectKey: string): number {
    return this.rows.delete(subjectKey) ? 1 : 0;
  }

  async reserve(subjectKey: string, sessionId: string, expiresAt: Date, now: Date): Promise<QuotaRefusal | undefined> {
    await this.hooks.enter('reserve');
    const t = now.getTime();
    const row = this.rows.get(subjectKey);
    const open = (row?.open ?? []).filter((s) => s.expires > t && s.id !== sessionId);
    const creates = (row?.creates ?? []).filter((c) => c > t - this.policy.windowSeconds * 1000);
    if (open.length >= this.policy.maxOpenSessions) {
      return { reason: 'OpenSessions', retryAfterSeconds: Math.max(1, Math.ceil((Math.min(...open.map((s) => s.expires)) - t) / 1000)) };
    }
    if (creates.length >= this.policy.maxCreates) {
      return { reason: 'CreateRate', retryAfterSeconds: Math.max(1, Math.ceil((Math.min(...creates) + this.policy.windowSeconds * 1000 - t) / 1000)) };
    }
    this.rows.set(subjectKey, { open: [...open, { id: sessionId, expires: expiresAt.getTime() }], creates: [...creates, t] });
    return undefined;
  }

  async release(subjectKey: string, sessionId: string): Promise<void> {
    await this.hooks.enter('release');
    const row = this.rows.get(subjectKey);
    if (row) row.open = row.open.filter((s) => s.id !== sessionId);
  }
}

/** The Table adapter's in-progress timeout (src/adapters/storage/table-idempotency-store.ts). */
export const IN_PROGRESS_TIMEOUT_MS = 120_000;

/** The Table adapter's claim rules (src/adapters/storage/table-idempotency-store.ts), in memory. */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly hooks = new OperationHooks<'claim' | 'complete' | 'release'>();
  private readonly records = new Map<string, IdempotencyRecord>();

  constructor(private readonly ttlSeconds = 86_400) {}

  peek(scope: string, key: string): IdempotencyRecord | undefined {
    const record = this.records.get(recordKey(scope, key));
    return record && clone(record);
  }

  /** Every record under a scope (a subject key), without counting a call. */
  scope(scope: string): IdempotencyRecord[] {
    return [...this.records.entries()].filter(([k]) => k.startsWith(`${scope}\n`)).map(([, r]) => clone(r));
  }

  /** Deletes every record under a scope. @returns how many it deleted */
  eraseScope(scope: string): number {
    const keys = [...this.records.keys()].filter((k) => k.startsWith(`${scope}\n`));
    keys.forEach((k) => this.records.delete(k));
    return keys.length;
  }

  async claim(scope: string, key: string, record: IdempotencyRecord, now: Date): Promise<IdempotencyRecord | undefined> {
    await this.hooks.enter('claim');
    const existing = this.records.get(recordKey(scope, key));
    if (existing) {
      const age = now.getTime() - Date.parse(existing.createdDateTime);
      const expired = age > this.ttlSeconds * 1000 || (existing.state !== 'done' && age > IN_PROGRESS_TIMEOUT_MS);
      if (!expired) return clone(existing);
    }
    this.records.set(recordKey(scope, key), { requestHash: record.requestHash, state: record.state, createdDateTime: record.createdDateTime });
    return undefined;
  }

  async complete(scope: string, key: string, sessionId: string): Promise<void> {
    await this.hooks.enter('complete');
    const existing = this.records.get(recordKey(scope, key));
    // The adapter merges into the row; a row that is gone makes the merge fail.
    if (!existing) throw new StorageUnavailableError('Recording the Idempotency-Key failed.');
    this.records.set(recordKey(scope, key), { ...existing, state: 'done', sessionId });
  }

  async release(scope: string, key: string): Promise<void> {
    await this.hooks.enter('release');
    this.records.delete(recordKey(scope, key));
  }
}

const recordKey = (scope: string, key: string) => `${scope}\n${key}`;

/**
 * The Table adapter's SubjectRows (src/adapters/storage/table-subject-rows.ts), over the in-memory limiter, quota and
 * idempotency store: a subject's rows are the ones under its subject key, exported and erased by key.
 */
export class InMemorySubjectRows implements SubjectRows {
  readonly hooks = new OperationHooks<'export' | 'erase'>();

  constructor(
    private readonly limiter: InMemoryAttemptLimiter,
    private readonly quota: InMemorySubjectQuota,
    private readonly idempotency: InMemoryIdempotencyStore,
  ) {}

  async export(subjectKey: string): Promise<SubjectRowsExport> {
    await this.hooks.enter('export');
    const quota = this.quota.row(subjectKey);
    return {
      lockouts: this.limiter.partition(subjectKey).map(({ kind, row }) => ({
        kind, recentFailures: row.failures.length, ...(row.lockedUntil ? { lockedUntil: row.lockedUntil } : {}),
      })),
      ...(quota ? { quota: { openSessions: quota.open, recentCreates: quota.creates } } : {}),
      idempotencyKeys: this.idempotency.scope(subjectKey).map((r) => ({
        state: r.state, ...(r.sessionId ? { sessionId: r.sessionId } : {}), createdDateTime: r.createdDateTime,
      })),
    };
  }

  async erase(subjectKey: string): Promise<{ lockouts: number; quotas: number; idempotencyKeys: number }> {
    await this.hooks.enter('erase');
    return {
      lockouts: this.limiter.erasePartition(subjectKey),
      quotas: this.quota.eraseRow(subjectKey),
      idempotencyKeys: this.idempotency.eraseScope(subjectKey),
    };
  }
}
