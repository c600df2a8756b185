// SubjectRows over Table storage: a subject's lockout counters and quota row (the attempt-limits table) and its
// remembered Idempotency-Keys (the idempotency table) are each one partition, PK = subject key, so export and
// erasure are one partition read (and batch deletes) per table, whatever else the tables hold.
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { SubjectRows } from '../../core/ports.js';
import type { SubjectRowsExport } from '../../core/subject.js';
import { deleteInBatches, guardStorage, onceUntilFailure, type StorageClients } from './clients.js';
import { LIMIT_ROW_PREFIX } from './table-attempt-limiter.js';
import { tableNames } from './table-session-repository.js';
import { QUOTA_ROW_KEY } from './table-subject-quota.js';

const guard = <T>(work: () => Promise<T>) => guardStorage('Table storage request (subject rows)', work);

type Row = Record<string, unknown> & { rowKey?: string };

export class TableSubjectRows implements SubjectRows {
  private readonly limits: TableClient;
  private readonly idempotency: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string) {
    const names = tableNames(prefix);
    this.limits = clients.table(names.attemptLimits);
    this.idempotency = clients.table(names.idempotencyKeys);
    this.ensure = onceUntilFailure(() => Promise.all([this.limits.createTable(), this.idempotency.createTable()]));
  }

  async export(subjectKey: string): Promise<SubjectRowsExport> {
    return guard(async () => {
      await this.ensure();
      const [limits, keys] = await Promise.all([this.partition(this.limits, subjectKey), this.partition(this.idempotency, subjectKey)]);
      const quotaRow = limits.find((r) => r.rowKey === QUOTA_ROW_KEY);
      return {
        lockouts: limits.filter((r) => r.rowKey!.startsWith(LIMIT_ROW_PREFIX)).map((r) => ({
          kind: r.rowKey === `${LIMIT_ROW_PREFIX}subject` ? 'subject' as const : 'device' as const,
          recentFailures: (JSON.parse(String(r.failuresJson ?? '[]')) as unknown[]).length,
          ...(typeof r.lockedUntil === 'string' ? { lockedUntil: r.lockedUntil } : {}),
        })),
        ...(quotaRow ? {
          quota: {
            openSessions: (JSON.parse(String(quotaRow.openJson ?? '[]')) as unknown[]).length,
            recentCreates: (JSON.parse(String(quotaRow.createsJson ?? '[]')) as unknown[]).length,
          },
        } : {}),
        idempotencyKeys: keys.map((r) => ({
          state: String(r.state),
          ...(typeof r.sessionId === 'string' ? { sessionId: r.sessionId } : {}),
          createdDateTime: String(r.createdDateTime),
        })),
      };
    });
  }

  async erase(subjectKey: string): Promise<{ lockouts: number; quotas: number; idempotencyKeys: number }> {
    return guard(async () => {
      await this.ensure();
      const [limits, keys] = await Promise.all([this.partition(this.limits, subjectKey), this.partition(this.idempotency, subjectKey)]);
      await Promise.all([this.deleteRows(this.limits, subjectKey, limits), this.deleteRows(this.idempotency, subjectKey, keys)]);
      return {
        lockouts: limits.filter((r) => r.rowKey!.startsWith(LIMIT_ROW_PREFIX)).length,
        quotas: limits.filter((r) => r.rowKey === QUOTA_ROW_KEY).length,
        idempotencyKeys: keys.length,
      };
    });
  }

  private async partition(table: TableClient, subjectKey: string): Promise<Row[]> {
    const rows: Row[] = [];
    const filter = odata`PartitionKey eq ${subjectKey}`;
    for await (const e of table.listEntities<Row>({ queryOptions: { filter } })) rows.push(e);
    return rows;
  }

  private async deleteRows(table: TableClient, subjectKey: string, rows: Row[]): Promise<void> {
    const actions: TransactionAction[] = rows.map((r) => ['delete', { partitionKey: subjectKey, rowKey: r.rowKey! }]);
    await deleteInBatches(table, actions);
  }
}
