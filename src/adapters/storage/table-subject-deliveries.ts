// SubjectDeliveries over Table storage: the delivery log's rows (table-delivery-log.ts) found by subject key and by
// age, never by scanning. One more table, `<prefix>LivenessWebhookSubjects`:
//   PK = subject key, RK = attempts|<event id>    the event has attempt rows (LivenessWebhookAttempts, PK = event id)
//   PK = subject key, RK = deadletter|<event id>  the event is dead-lettered (LivenessWebhookDeadLetters)
// written by the delivery log before the row it points to, so erasure can always reach it. Retention reads the
// attempts table by key range: event ids are `evt_` + a UUIDv7, whose first 12 hex digits are the event's time, so
// "events before T" is `PartitionKey lt 'evt_<T as UUIDv7 prefix>'`.
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { SubjectDeliveries } from '../../core/ports.js';
import { deleteInBatches, guardStorage, isRestError, onceUntilFailure, type StorageClients } from './clients.js';
import { tableNames } from './table-names.js';

const guard = <T>(work: () => Promise<T>) => guardStorage('Table storage request (webhook deliveries by subject)', work);

/** The smallest event id of an event made at `at`: every id before it belongs to an earlier event. */
export function eventIdBoundary(at: Date): string {
  const hex = at.getTime().toString(16).padStart(12, '0');
  return `evt_${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}

export interface TableSubjectDeliveriesOptions { onQuery?: (table: string, filter: string) => void }

export class TableSubjectDeliveries implements SubjectDeliveries {
  private readonly attempts: TableClient;
  private readonly deadLetters: TableClient;
  private readonly index: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, private readonly prefix: string, private readonly options: TableSubjectDeliveriesOptions = {}) {
    const names = tableNames(prefix);
    this.attempts = clients.table(names.webhookAttempts);
    this.deadLetters = clients.table(names.webhookDeadLetters);
    this.index = clients.table(names.webhookSubjects);
    this.ensure = onceUntilFailure(() => Promise.all([this.attempts.createTable(), this.deadLetters.createTable(), this.index.createTable()]));
  }

  async erase(subjectKey: string): Promise<{ deliveryAttempts: number; deadLetters: number }> {
    return guard(async () => {
      await this.ensure();
      const rows: string[] = [];
      for await (const row of this.index.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${subjectKey}`, select: ['RowKey'] } })) rows.push(row.rowKey!);
      let deliveryAttempts = 0;
      let deadLetters = 0;
      for (const rowKey of rows) {
        const [kind, eventId] = rowKey.split('|') as [string, string];
        if (kind === 'attempts') {
          const deletes: TransactionAction[] = [];
          for await (const a of this.attempts.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${eventId}`, select: ['PartitionKey', 'RowKey'] } })) {
            deletes.push(['delete', { partitionKey: eventId, rowKey: a.rowKey! }]);
          }
          await deleteInBatches(this.attempts, deletes);
          deliveryAttempts += deletes.length;
        } else if (kind === 'deadletter') {
          try {
            await this.deadLetters.deleteEntity('deadletter', eventId);
            deadLetters++;
          } catch (error) {
            if (!isRestError(error, 404)) throw error;
          }
        }
      }
      await deleteInBatches(this.index, rows.map((rowKey) => ['delete', { partitionKey: subjectKey, rowKey }] as TransactionAction));
      return { deliveryAttempts, deadLetters };
    });
  }

  async pruneAttempts(before: Date): Promise<number> {
    return guard(async () => {
      await this.ensure();
      const filter = odata`PartitionKey lt ${eventIdBoundary(before)}`;
      this.options.onQuery?.(tableNames(this.prefix).webhookAttempts, filter);
      const byEvent = new Map<string, { rows: string[]; subjectKey?: string }>();
      for await (const a of this.attempts.listEntities<{ subjectKey?: string }>({ queryOptions: { filter, select: ['PartitionKey', 'RowKey', 'subjectKey'] } })) {
        const entry = byEvent.get(a.partitionKey!) ?? { rows: [] };
        entry.rows.push(a.rowKey!);
        if (a.subjectKey) entry.subjectKey = a.subjectKey;
        byEvent.set(a.partitionKey!, entry);
      }
      let pruned = 0;
      for (const [eventId, { rows, subjectKey }] of byEvent) {
        await deleteInBatches(this.attempts, rows.map((rowKey) => ['delete', { partitionKey: eventId, rowKey }] as TransactionAction));
        pruned += rows.length;
        if (subjectKey) {
          await this.index.deleteEntity(subjectKey, `attempts|${eventId}`).catch((error: unknown) => {
            if (!isRestError(error, 404)) throw error;
          });
        }
      }
      return pruned;
    });
  }
}
