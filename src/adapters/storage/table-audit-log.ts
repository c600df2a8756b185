// AuditLog over Table storage: LivenessAuditEntries, PK = sessionId, RK = attemptId (10 digits), so one session's
// attempts are one partition, oldest first by key order, and a redelivered attempt overwrites itself.
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { AuditLog } from '../../core/ports.js';
import type { AuditEntry } from '../../core/session.js';
import { guardStorage, isRestError, onceUntilFailure, partitionValues, type StorageClients } from './clients.js';
import { tableNames } from './table-names.js';

/** Entity group transactions take at most 100 operations. */
const BATCH = 100;

const guard = <T>(work: () => Promise<T>) => guardStorage('Table storage request (audit entries)', work);

export class TableAuditLog implements AuditLog {
  private readonly table: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string) {
    this.table = clients.table(tableNames(prefix).auditEntries);
    this.ensure = onceUntilFailure(() => this.table.createTable());
  }

  async upsert(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await guard(async () => {
      await this.ensure();
      // A transaction holds one partition: one session's entries at a time.
      for (const sessionId of new Set(entries.map((e) => e.sessionId))) {
        const actions: TransactionAction[] = entries.filter((e) => e.sessionId === sessionId).map((entry) => ['upsert', {
          partitionKey: entry.sessionId,
          rowKey: String(entry.id).padStart(10, '0'),
          entryJson: JSON.stringify(entry),
        }, 'Replace']);
        for (let i = 0; i < actions.length; i += BATCH) await this.table.submitTransaction(actions.slice(i, i + BATCH));
      }
    });
  }

  async list(sessionId: string): Promise<AuditEntry[]> {
    return guard(async () => {
      await this.ensure();
      const entries = await partitionValues<AuditEntry>(this.table, sessionId, 'entryJson'); // written by upsert, validated
      return entries.sort((a, b) => a.id - b.id);
    });
  }

  async deleteAll(sessionId: string): Promise<void> {
    await guard(async () => {
      await this.ensure();
      const filter = odata`PartitionKey eq ${sessionId}`;
      const keys: TransactionAction[] = [];
      for await (const e of this.table.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) {
        keys.push(['delete', { partitionKey: sessionId, rowKey: e.rowKey! }]);
      }
      for (let i = 0; i < keys.length; i += BATCH) {
        await this.table.submitTransaction(keys.slice(i, i + BATCH)).catch((error) => {
          if (!isRestError(error, 404)) throw error; // a concurrent delete got there first
        });
      }
    });
  }
}
