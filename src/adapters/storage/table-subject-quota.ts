// SubjectQuota over Table storage: one row per subject (RK 'quota' in the subject's partition, PK = subject key, so
// the table holds no raw identifiers and erasure finds it by key) in the attempt-limits table, listing the subject's open sessions with their token expiry and the times
// of its recent creates. A reservation is a conditional read-modify-write of that one row, so concurrent creates of
// one subject cannot overshoot the cap; a slot whose release was lost frees itself when its token expires.
import type { TableClient } from '@azure/data-tables';
import type { QuotaRefusal, SubjectQuota } from '../../core/ports.js';
import { guardStorage, isRestError, onceUntilFailure, type StorageClients } from './clients.js';
import { withOptimisticConcurrency } from './optimistic.js';
import { tableNames } from './table-session-repository.js';

export interface QuotaPolicy { maxOpenSessions: number; maxCreates: number; windowSeconds: number }

interface QuotaEntity { partitionKey: string; rowKey: string; openJson: string; createsJson: string }
interface OpenSlot { id: string; expires: number }

export class TableSubjectQuota implements SubjectQuota {
  private readonly table: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string, private readonly policy: QuotaPolicy) {
    this.table = clients.table(tableNames(prefix).attemptLimits);
    this.ensure = onceUntilFailure(() => this.table.createTable());
  }

  async reserve(subject: string, sessionId: string, expiresAt: Date, now: Date): Promise<QuotaRefusal | undefined> {
    const t = now.getTime();
    return guardStorage('Checking the session quota', () => withOptimisticConcurrency(async () => {
      const row = await this.read(subject);
      const open = (row ? (JSON.parse(row.openJson) as OpenSlot[]) : []).filter((s) => s.expires > t && s.id !== sessionId);
      const creates = (row ? (JSON.parse(row.createsJson) as number[]) : []).filter((c) => c > t - this.policy.windowSeconds * 1000);
      if (open.length >= this.policy.maxOpenSessions) {
        const frees = Math.min(...open.map((s) => s.expires));
        return { reason: 'OpenSessions' as const, retryAfterSeconds: Math.max(1, Math.ceil((frees - t) / 1000)) };
      }
      if (creates.length >= this.policy.maxCreates) {
        const frees = Math.min(...creates) + this.policy.windowSeconds * 1000;
        return { reason: 'CreateRate' as const, retryAfterSeconds: Math.max(1, Math.ceil((frees - t) / 1000)) };
      }
      await this.write(subject, row?.etag, [...open, { id: sessionId, expires: expiresAt.getTime() }], [...creates, t]);
      return undefined;
    }, { what: 'The session quota' }));
  }

  async release(subject: string, sessionId: string): Promise<void> {
    await guardStorage('Releasing a session quota slot', () => withOptimisticConcurrency(async () => {
      const row = await this.read(subject);
      if (!row) return;
      const open = JSON.parse(row.openJson) as OpenSlot[];
      if (!open.some((s) => s.id === sessionId)) return;
      await this.write(subject, row.etag, open.filter((s) => s.id !== sessionId), JSON.parse(row.createsJson) as number[]);
    }, { what: 'The session quota' }));
  }

  private async read(subject: string): Promise<(QuotaEntity & { etag: string }) | undefined> {
    await this.ensure();
    const k = keyOf(subject);
    try {
      return await this.table.getEntity<QuotaEntity>(k.partitionKey, k.rowKey);
    } catch (error) {
      if (isRestError(error, 404)) return undefined;
      throw error;
    }
  }

  /** Conditional either way (ETag, or insert-if-absent): a concurrent writer makes this round lose and run again. */
  private async write(subject: string, etag: string | undefined, open: OpenSlot[], creates: number[]): Promise<void> {
    const entity: QuotaEntity = { ...keyOf(subject), openJson: JSON.stringify(open), createsJson: JSON.stringify(creates) };
    if (etag) await this.table.updateEntity(entity, 'Replace', { etag });
    else await this.table.createEntity(entity);
  }
}

export const QUOTA_ROW_KEY = 'quota';

function keyOf(subjectKey: string) {
  return { partitionKey: subjectKey, rowKey: QUOTA_ROW_KEY };
}
