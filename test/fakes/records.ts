// An in-memory SubjectRecords: the storage port of the per-subject records (lockout counters, quotas,
// Idempotency-Keys), with ETags and conditional writes as the Table adapter (src/adapters/storage/
// table-subject-records.ts) has them, and nothing of the rules: the core's own rules (attempt-limits.ts, quota.ts,
// idempotency.ts) run over it, so a use-case test exercises the code that runs. Records live under their key's
// subject key; `name` tells records of one subject apart. Test hooks as the other fakes ('write' runs just before a
// conditional write, to slip a concurrent writer in).
import { ConflictError } from '../../src/core/errors.js';
import type {
  IdempotencyKeyRef, IdempotencyRecord, LimitKey, LimitRecord, QuotaKey, QuotaRecord, RecordSnapshot, RecordUpdate, SubjectRecords,
} from '../../src/core/ports.js';
import { OperationHooks } from './hooks.js';
import { MAX_ROUNDS } from './session-repository.js';

const clone = <T>(value: T): T => structuredClone(value);
/** What storage keeps of a record: no column for an undefined field. */
const asStored = <T>(record: T): T => JSON.parse(JSON.stringify(record)) as T;

export type RecordsOperation = 'get' | 'snapshot' | 'update' | 'delete' | 'listSubject' | 'eraseSubject' | 'write';

export class InMemorySubjectRecords<K extends { subjectKey: string }, T> implements SubjectRecords<K, T> {
  readonly hooks = new OperationHooks<RecordsOperation>();
  maxRounds = MAX_ROUNDS;
  /** Subject key -> record name -> stored record with its ETag. */
  private readonly partitions = new Map<string, Map<string, { record: T; etag: string }>>();
  private etags = 0;

  constructor(private readonly name: (key: K) => string) {}

  // ------------------------------------------------------------------------------------------------ test helpers

  /** The stored record, without counting a call or running hooks. */
  peek(key: K): T | undefined {
    const row = this.partitions.get(key.subjectKey)?.get(this.name(key));
    return row && clone(row.record);
  }

  /** Puts a record in place (a new ETag), bypassing hooks and conditions: for arranging a test. */
  seed(key: K, record: T): void {
    this.partition(key.subjectKey).set(this.name(key), { record: asStored(record), etag: this.nextEtag() });
  }

  // ------------------------------------------------------------------------------------------------ the port

  async get(key: K): Promise<T | undefined> {
    await this.hooks.enter('get');
    return this.peek(key);
  }

  async snapshot(key: K): Promise<RecordSnapshot<T>> {
    await this.hooks.enter('snapshot');
    const row = this.partitions.get(key.subjectKey)?.get(this.name(key));
    return { record: row && clone(row.record), ...(row ? { version: row.etag } : {}) };
  }

  async update<R>(key: K, decide: (current: T | undefined) => RecordUpdate<T, R>, from?: RecordSnapshot<T>): Promise<R> {
    await this.hooks.enter('update');
    for (let round = 1; ; round++) {
      // The first round may start from a snapshot taken earlier (maybe stale: then the write loses the round).
      const read = round === 1 && from
        ? (from.record === undefined ? undefined : { record: clone(from.record), etag: from.version ?? '' })
        : this.partitions.get(key.subjectKey)?.get(this.name(key));
      const { next, result } = decide(read && clone(read.record));
      if (next === undefined) return result;
      await this.hooks.enter('write');
      const stored = this.partitions.get(key.subjectKey)?.get(this.name(key));
      // Insert-if-absent, or replace-if-unchanged: anything else lost the round to a concurrent writer.
      if (read ? stored?.etag === read.etag : stored === undefined) {
        this.partition(key.subjectKey).set(this.name(key), { record: asStored(next), etag: this.nextEtag() });
        return result;
      }
      if (round >= this.maxRounds) throw new ConflictError('ConcurrentUpdate', 'The record is changing too often; try again.');
    }
  }

  async delete(key: K): Promise<void> {
    await this.hooks.enter('delete');
    this.partitions.get(key.subjectKey)?.delete(this.name(key));
  }

  async listSubject(subjectKey: string): Promise<T[]> {
    await this.hooks.enter('listSubject');
    return [...(this.partitions.get(subjectKey)?.entries() ?? [])].sort(([a], [b]) => a.localeCompare(b)).map(([, row]) => clone(row.record));
  }

  async eraseSubject(subjectKey: string): Promise<number> {
    await this.hooks.enter('eraseSubject');
    const n = this.partitions.get(subjectKey)?.size ?? 0;
    this.partitions.delete(subjectKey);
    return n;
  }

  private partition(subjectKey: string): Map<string, { record: T; etag: string }> {
    let p = this.partitions.get(subjectKey);
    if (!p) this.partitions.set(subjectKey, (p = new Map()));
    return p;
  }

  private nextEtag(): string {
    return `W/"${++this.etags}"`;
  }
}

/** The three stores of per-subject records, as the composition root wires their Table adapters. */
export interface InMemoryRecordStores {
  limits: InMemorySubjectRecords<LimitKey, LimitRecord>;
  quotas: InMemorySubjectRecords<QuotaKey, QuotaRecord>;
  idempotencyKeys: InMemorySubjectRecords<IdempotencyKeyRef, IdempotencyRecord>;
}

export function inMemoryRecordStores(): InMemoryRecordStores {
  return {
    limits: new InMemorySubjectRecords<LimitKey, LimitRecord>((k) => `${k.kind}:${k.kind === 'device' ? k.id : ''}`),
    quotas: new InMemorySubjectRecords<QuotaKey, QuotaRecord>(() => 'quota'),
    idempotencyKeys: new InMemorySubjectRecords<IdempotencyKeyRef, IdempotencyRecord>((k) => k.key),
  };
}
