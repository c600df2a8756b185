// SubjectRecords over Table storage: one row per record in the subject's partition (PK = subject key, a keyed hash:
// the tables hold no raw identifiers, and export and erasure find every row of a subject by key). This class only
// stores: it reads a row, hands the record to the core's decision, and writes the outcome conditionally (the ETag it
// read, or an insert that fails when the row exists); the rules are the core's. Each kind of record supplies its own
// row format (RowFormat): the row key of a record, which rows of a partition are its own, and the columns.
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { RecordSnapshot, RecordUpdate, SubjectRecords } from '../../core/ports.js';
import { deleteInBatches, guardStorage, ignore404, isRestError, onceUntilFailure, orAbsent, requireEtag, type StorageClients } from './clients.js';
import { RoundLost, withOptimisticConcurrency } from './optimistic.js';

export type Columns = Record<string, string | number | boolean>;

export interface RowFormat<K extends { subjectKey: string }, T> {
  /** What the records are, for error messages ("The attempt limit"). */
  what: string;
  table: string;
  rowKey(key: K): string;
  /** The row keys of this kind within a partition, [from, to), when another kind shares the table. */
  rowRange?: { from: string; to: string };
  toColumns(record: T): Columns;
  fromRow(row: Columns & { rowKey: string }): T;
  /** Rounds of read-modify-write before ConflictError (default: optimistic.ts). */
  maxRounds?: number;
}

export class TableSubjectRecords<K extends { subjectKey: string }, T> implements SubjectRecords<K, T> {
  private readonly table: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, private readonly format: RowFormat<K, T>) {
    this.table = clients.table(format.table);
    this.ensure = onceUntilFailure(() => this.table.createTable());
  }

  async get(key: K): Promise<T | undefined> {
    return (await this.snapshot(key)).record;
  }

  async snapshot(key: K): Promise<RecordSnapshot<T>> {
    return guardStorage(`Reading ${this.format.what}`, async () => {
      const row = await this.read(key);
      return { record: row?.record, ...(row?.etag ? { version: row.etag } : {}) };
    });
  }

  async update<R>(key: K, decide: (current: T | undefined) => RecordUpdate<T, R>, from?: RecordSnapshot<T>): Promise<R> {
    const f = this.format;
    let first = from;
    return guardStorage(`Writing ${f.what}`, () => withOptimisticConcurrency(async () => {
      // The first round may start from a snapshot read earlier (by snapshot(), so the table exists); every later
      // round reads afresh.
      const row = first ? (first.record === undefined ? undefined : { record: first.record, etag: first.version }) : await this.read(key);
      first = undefined;
      const { next, result } = decide(row?.record);
      if (next === undefined) return result;
      const entity = { partitionKey: key.subjectKey, rowKey: f.rowKey(key), ...f.toColumns(next) };
      if (!row) {
        await this.table.createEntity(entity); // 409 when someone inserted it meanwhile: another round
        return result;
      }
      try {
        await this.table.updateEntity(entity, 'Replace', { etag: requireEtag(row, f.what) }); // 412: another round
      } catch (error) {
        if (isRestError(error, 404)) throw new RoundLost(`${f.what} was deleted meanwhile`); // decide again on nothing
        throw error;
      }
      return result;
    }, { what: f.what, ...(f.maxRounds ? { maxRounds: f.maxRounds } : {}) }));
  }

  async delete(key: K): Promise<void> {
    await guardStorage(`Deleting ${this.format.what}`, async () => {
      await this.ensure();
      await ignore404(this.table.deleteEntity(key.subjectKey, this.format.rowKey(key)));
    });
  }

  async listSubject(subjectKey: string): Promise<T[]> {
    return guardStorage(`Reading ${this.format.what}`, async () => (await this.rows(subjectKey)).map((r) => this.format.fromRow(r)));
  }

  async eraseSubject(subjectKey: string): Promise<number> {
    return guardStorage(`Erasing ${this.format.what}`, async () => {
      const rows = await this.rows(subjectKey);
      const deletes: TransactionAction[] = rows.map((r) => ['delete', { partitionKey: subjectKey, rowKey: r.rowKey }]);
      await deleteInBatches(this.table, deletes);
      return rows.length;
    });
  }

  private async read(key: K): Promise<{ record: T; etag?: string } | undefined> {
    await this.ensure();
    const row = await orAbsent(this.table.getEntity<Columns>(key.subjectKey, this.format.rowKey(key)));
    return row && { record: this.format.fromRow({ ...row, rowKey: row.rowKey! }), etag: row.etag };
  }

  /** This kind's rows of one partition: a key-range query. */
  private async rows(subjectKey: string): Promise<Array<Columns & { rowKey: string }>> {
    await this.ensure();
    const range = this.format.rowRange;
    const filter = range
      ? odata`PartitionKey eq ${subjectKey} and RowKey ge ${range.from} and RowKey lt ${range.to}`
      : odata`PartitionKey eq ${subjectKey}`;
    const rows: Array<Columns & { rowKey: string }> = [];
    for await (const e of this.table.listEntities<Columns>({ queryOptions: { filter } })) rows.push({ ...e, rowKey: e.rowKey! });
    return rows;
  }
}
