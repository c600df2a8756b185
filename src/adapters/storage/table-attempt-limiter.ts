// AttemptLimiter over Table storage: one row per subject and per device of that subject, in the subject's partition
// (PK = subject key, a keyed hash: the table holds no raw identifiers, and erasure finds every row of a subject by
// key), holding recent failure times and a lockout deadline. Updates are ETag-guarded.
import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { AttemptLimitPolicy } from '../../core/attempt-limits.js';
import type { AttemptLimiter, LimitKey } from '../../core/ports.js';
import { guardStorage, isRestError, onceUntilFailure, type StorageClients } from './clients.js';
import { withOptimisticConcurrency } from './optimistic.js';
import { tableNames } from './table-session-repository.js';

interface LimitEntity { partitionKey: string; rowKey: string; failuresJson: string; lockedUntil?: string }

export class TableAttemptLimiter implements AttemptLimiter {
  private readonly table: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string, private readonly policy: AttemptLimitPolicy) {
    this.table = clients.table(tableNames(prefix).attemptLimits);
    this.ensure = onceUntilFailure(() => this.table.createTable());
  }

  async lockedFor(key: LimitKey, now: Date): Promise<number> {
    const row = await this.read(key);
    if (!row?.lockedUntil) return 0;
    const left = Date.parse(row.lockedUntil) - now.getTime();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  async recordFailure(key: LimitKey, now: Date, count = 1): Promise<void> {
    const windowStart = now.getTime() - this.policy.windowSeconds * 1000;
    await guardStorage('Recording a failed check', () => withOptimisticConcurrency(async () => {
      const row = await this.read(key);
      const failures = [...(row ? (JSON.parse(row.failuresJson) as number[]) : []), ...Array<number>(count).fill(now.getTime())]
        .filter((t) => t > windowStart)
        .slice(-this.policy.maxFailures * 2);
      const lock = failures.length >= this.policy.maxFailures
        ? new Date(now.getTime() + this.policy.lockoutSeconds * 1000).toISOString()
        : row?.lockedUntil;
      const entity: LimitEntity = { ...keyOf(key), failuresJson: JSON.stringify(failures), ...(lock ? { lockedUntil: lock } : {}) };
      // Conditional either way: a concurrent failure recorded first makes this round lose and run again.
      if (row) await this.table.updateEntity(entity, 'Replace', { etag: row.etag });
      else await this.table.createEntity(entity);
    }, { what: 'The attempt limit' }));
  }

  private async read(key: LimitKey): Promise<(LimitEntity & { etag: string }) | undefined> {
    return guardStorage('Reading attempt limits', async () => {
      await this.ensure();
      const k = keyOf(key);
      try {
        return await this.table.getEntity<LimitEntity>(k.partitionKey, k.rowKey);
      } catch (error) {
        if (isRestError(error, 404)) return undefined;
        throw error;
      }
    });
  }
}

/** Row keys of lockout counters start with this (the quota row of the same partition is 'quota'). */
export const LIMIT_ROW_PREFIX = 'limit-';

function keyOf(key: LimitKey) {
  const rowKey = key.kind === 'subject'
    ? `${LIMIT_ROW_PREFIX}subject`
    : `${LIMIT_ROW_PREFIX}device-${createHash('sha256').update(key.id).digest('hex').slice(0, 40)}`;
  return { partitionKey: key.subjectKey, rowKey };
}
