// SubjectActivity over Table storage, `<prefix>LivenessSubjectActivity`: PK = the day of the subject's last
// interaction (yyyyMMdd), RK = subject key; one row per subject (a new day's row is written, then the previous day's
// removed). The sweep's only query is the key range `PartitionKey lt '<cutoff day>'`, so finding idle subjects costs
// what is idle, never a scan of all subjects; erasure removes the row found from the record's last-seen time.
import { odata, type TableClient } from '@azure/data-tables';
import type { SubjectActivity } from '../../core/ports.js';
import { guardStorage, isRestError, onceUntilFailure, type StorageClients } from './clients.js';

export const subjectActivityTableName = (prefix: string) => `${prefix}LivenessSubjectActivity`;
const guard = <T>(work: () => Promise<T>) => guardStorage('Table storage request (subject activity)', work);
const day = (iso: string | Date) => (typeof iso === 'string' ? iso : iso.toISOString()).slice(0, 10).replace(/-/g, '');

export interface TableSubjectActivityOptions { onQuery?: (table: string, filter: string) => void }

export class TableSubjectActivity implements SubjectActivity {
  private readonly table: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, private readonly prefix: string, private readonly options: TableSubjectActivityOptions = {}) {
    this.table = clients.table(subjectActivityTableName(prefix));
    this.ensure = onceUntilFailure(() => this.table.createTable());
  }

  async touch(subjectKey: string, at: Date, before?: string): Promise<void> {
    await guard(async () => {
      await this.ensure();
      if (before && day(before) === day(at)) return; // already indexed under today
      await this.table.upsertEntity({ partitionKey: day(at), rowKey: subjectKey, seen: at.toISOString() }, 'Replace');
      if (before) await this.delete(day(before), subjectKey);
    });
  }

  async listIdle(before: Date, top: number): Promise<Array<{ subjectKey: string; seen: string }>> {
    return guard(async () => {
      await this.ensure();
      const filter = odata`PartitionKey lt ${day(before)}`;
      this.options.onQuery?.(subjectActivityTableName(this.prefix), filter);
      const out: Array<{ subjectKey: string; seen: string }> = [];
      for await (const row of this.table.listEntities<{ seen: string }>({ queryOptions: { filter } })) {
        out.push({ subjectKey: row.rowKey!, seen: row.seen });
        if (out.length >= top) break;
      }
      return out;
    });
  }

  async remove(subjectKey: string, seen: string): Promise<void> {
    await guard(async () => {
      await this.ensure();
      await this.delete(day(seen), subjectKey);
    });
  }

  private async delete(partitionKey: string, rowKey: string): Promise<void> {
    try {
      await this.table.deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if (!isRestError(error, 404)) throw error;
    }
  }
}
