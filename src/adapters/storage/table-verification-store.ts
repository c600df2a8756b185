// VerificationStore over Table storage: `<prefix>LivenessVerifications`, one table, three kinds of row:
//   PK = inverted epoch second, RK = inverted epoch ms + "|" + verificationId   the verification (ids are UUIDv7, so
//        the keys follow from the id: a point read needs no index, and a scan of these partitions is newest first)
//   PK = "s|" + subject key, RK = verificationId                               a subject's verifications (erasure, export)
//   PK = "due", RK = due ISO time + "|" + verificationId                       when the sweep next has work on it
// The verification itself is one JSON column (`record`), plus the columns the index rows repeat. Digit partitions
// sort before "due" and "s|", so the list reads `PartitionKey lt 'a'`. Every write after create is conditional on the
// row's ETag (the one optimistic loop); the index rows are written before the row they point at and dropped when
// they point at nothing, like the sessions' indexes.
import { odata, type TableClient } from '@azure/data-tables';
import { validate as uuidValidate, version as uuidVersion } from 'uuid';
import { ConflictError } from '../../core/errors.js';
import type { Page, VerificationChange, VerificationStore } from '../../core/ports.js';
import type { Verification } from '../../core/verification.js';
import { checkContinuationToken, guardStorage, ignore404, isRestError, onceUntilFailure, type StorageClients } from './clients.js';
import { RoundLost, withOptimisticConcurrency } from './optimistic.js';
import { tableNames } from './table-names.js';

const MAX_SECONDS = 9_999_999_999;
const MAX_MS = 9_999_999_999_999;
const DUE = 'due';
const subjectPartition = (subjectKey: string) => `s|${subjectKey}`;

interface VerificationEntity { partitionKey: string; rowKey: string; record: string; subjectKey: string; sweepDateTime?: string }

function keyOf(verificationId: string): { partitionKey: string; rowKey: string } | undefined {
  if (!uuidValidate(verificationId) || uuidVersion(verificationId) !== 7) return undefined;
  const ms = parseInt(verificationId.slice(0, 8) + verificationId.slice(9, 13), 16);
  return {
    partitionKey: String(MAX_SECONDS - Math.floor(ms / 1000)).padStart(10, '0'),
    rowKey: `${String(MAX_MS - ms).padStart(13, '0')}|${verificationId.toLowerCase()}`,
  };
}

const dueKey = (sweepDateTime: string, verificationId: string) => ({ partitionKey: DUE, rowKey: `${new Date(sweepDateTime).toISOString()}|${verificationId}` });

function toEntity(v: Verification): VerificationEntity {
  const { etag: _etag, ...record } = v;
  return {
    ...keyOf(v.verificationId)!, record: JSON.stringify(record), subjectKey: v.subjectKey,
    ...(v.sweepDateTime ? { sweepDateTime: v.sweepDateTime } : {}),
  };
}

function fromEntity(e: VerificationEntity & { etag?: string }): Verification {
  return { ...(JSON.parse(e.record) as Verification), ...(e.etag ? { etag: e.etag } : {}) };
}

const guard = <T>(work: () => Promise<T>) => guardStorage('Table storage request', work);

export class TableVerificationStore implements VerificationStore {
  private readonly table: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string) {
    this.table = clients.table(tableNames(prefix).verifications);
    this.ensure = onceUntilFailure(() => this.table.createTable());
  }

  async create(verification: Verification): Promise<Verification> {
    const key = keyOf(verification.verificationId);
    if (!key) throw new Error('verification ids are UUIDv7');
    return guard(async () => {
      await this.ensure();
      await this.table.upsertEntity({ partitionKey: subjectPartition(verification.subjectKey), rowKey: verification.verificationId }, 'Replace');
      if (verification.sweepDateTime) await this.table.upsertEntity({ ...dueKey(verification.sweepDateTime, verification.verificationId), verificationId: verification.verificationId }, 'Replace');
      try {
        const written = await this.table.createEntity(toEntity(verification));
        return { ...verification, ...(written.etag ? { etag: written.etag } : {}) };
      } catch (error) {
        if (isRestError(error, 409)) throw new ConflictError('VerificationExists', `Verification ${verification.verificationId} exists.`);
        throw error;
      }
    });
  }

  async get(verificationId: string): Promise<Verification | undefined> {
    const key = keyOf(verificationId);
    if (!key) return undefined;
    return guard(async () => {
      await this.ensure();
      try {
        return fromEntity(await this.table.getEntity<VerificationEntity>(key.partitionKey, key.rowKey));
      } catch (error) {
        if (isRestError(error, 404)) return undefined;
        throw error;
      }
    });
  }

  async mutate(verificationId: string, change: VerificationChange): Promise<Verification | undefined> {
    return withOptimisticConcurrency(async () => {
      const current = await this.get(verificationId);
      if (!current) return undefined;
      const next = change(current);
      if (!next) return current;
      return guard(async () => {
        // The new due row before the row that names it; the old one goes after (a leftover is dropped when read).
        if (next.sweepDateTime && next.sweepDateTime !== current.sweepDateTime) {
          await this.table.upsertEntity({ ...dueKey(next.sweepDateTime, verificationId), verificationId }, 'Replace');
        }
        let etag: string | undefined;
        try {
          ({ etag } = await this.table.updateEntity(toEntity(next), 'Replace', { etag: current.etag! }));
        } catch (error) {
          if (isRestError(error, 404)) throw new RoundLost();
          throw error;
        }
        if (current.sweepDateTime && current.sweepDateTime !== next.sweepDateTime) {
          const old = dueKey(current.sweepDateTime, verificationId);
          await ignore404(this.table.deleteEntity(old.partitionKey, old.rowKey));
        }
        return { ...next, ...(etag ? { etag } : {}) };
      });
    }, { what: 'The verification' });
  }

  async delete(verification: Verification): Promise<void> {
    const key = keyOf(verification.verificationId);
    if (!key) return;
    await guard(async () => {
      await ignore404(this.table.deleteEntity(key.partitionKey, key.rowKey));
      if (verification.sweepDateTime) {
        const due = dueKey(verification.sweepDateTime, verification.verificationId);
        await ignore404(this.table.deleteEntity(due.partitionKey, due.rowKey));
      }
      await ignore404(this.table.deleteEntity(subjectPartition(verification.subjectKey), verification.verificationId));
    });
  }

  async list(top: number, continuationToken?: string): Promise<Page<Verification>> {
    return guard(async () => {
      await this.ensure();
      if (continuationToken !== undefined) checkContinuationToken(continuationToken);
      const pages = this.table.listEntities<VerificationEntity>({ queryOptions: { filter: `PartitionKey lt 'a'` } })
        .byPage({ maxPageSize: top, continuationToken });
      const items: Verification[] = [];
      let next: string | undefined;
      for await (const page of pages) {
        for (const e of page) items.push(fromEntity(e));
        next = page.continuationToken;
        if (items.length >= top || !next) break;
      }
      return { items: items.slice(0, top), ...(next ? { continuationToken: next } : {}) };
    });
  }

  async listBySubject(subjectKey: string): Promise<Verification[]> {
    return guard(async () => {
      await this.ensure();
      const ids: string[] = [];
      for await (const row of this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${subjectPartition(subjectKey)}`, select: ['RowKey'] } })) ids.push(row.rowKey!);
      const found = await Promise.all(ids.map(async (id) => {
        const v = await this.get(id);
        if (v?.subjectKey === subjectKey) return v;
        await ignore404(this.table.deleteEntity(subjectPartition(subjectKey), id));
        return undefined;
      }));
      return found.filter((v) => v !== undefined);
    });
  }

  async listDue(now: Date, top: number): Promise<Verification[]> {
    return guard(async () => {
      await this.ensure();
      const filter = odata`PartitionKey eq ${DUE} and RowKey le ${`${now.toISOString()}~`}`;
      const rows: Array<{ rowKey: string; verificationId: string }> = [];
      for await (const row of this.table.listEntities<{ verificationId: string }>({ queryOptions: { filter, select: ['RowKey', 'verificationId'] } })) {
        rows.push({ rowKey: row.rowKey!, verificationId: row.verificationId });
        if (rows.length >= top) break;
      }
      const found = await Promise.all(rows.map(async (row) => {
        const v = await this.get(row.verificationId);
        if (v?.sweepDateTime && dueKey(v.sweepDateTime, v.verificationId).rowKey === row.rowKey) return v;
        await ignore404(this.table.deleteEntity(DUE, row.rowKey));
        return undefined;
      }));
      return found.filter((v) => v !== undefined);
    });
  }
}
