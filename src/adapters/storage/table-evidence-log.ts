// EvidenceLog over Table storage, one table (`<prefix>LivenessEvidence`):
//   PK = chain-NN, RK = head            the chain's head: seq and hash (its ETag serialises appends to the chain)
//   PK = chain-NN, RK = r|<seq, 12 digits>  a record: its canonical JSON and hash (key order = chain order)
//   PK = chain-NN, RK = id|<record id>  which seq holds a record id (makes appends idempotent)
//   PK = checkpoint, RK = <time>|<id>   a signed checkpoint (key order = time order)
//   PK = latest, RK = checkpoint        a copy of the latest checkpoint
// An append is one head read and one entity-group transaction in the chain's partition (the record, its id row and
// the head, conditional on the head's ETag): either all three are written or none. Reads are point reads and key
// ranges only, so their cost follows what is read, never how much the log holds.
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import {
  canonicalJson, EVIDENCE_CHAINS, GENESIS_HASH, recordHash, type ChainHead, type EvidenceEntry, type EvidenceRecord,
  type SignedCheckpoint, type StoredEvidence,
} from '../../core/evidence.js';
import { ConflictError } from '../../core/errors.js';
import type { EvidenceLog } from '../../core/ports.js';
import { guardStorage, isRestError, onceUntilFailure, type StorageClients } from './clients.js';

export const evidenceTableName = (prefix: string) => `${prefix}LivenessEvidence`;

const guard = <T>(work: () => Promise<T>) => guardStorage('Table storage request (evidence log)', work);
const chainKey = (chain: number) => `chain-${String(chain).padStart(2, '0')}`;
const recordKey = (seq: number) => `r|${String(seq).padStart(12, '0')}`;
/** Concurrent appends to one chain each win in turn; this bounds one append's retries. */
const MAX_APPEND_TRIES = 20;
/**
 * After a lost try, a random pause of up to min(cap, base × 2^try) ms before the next: appenders that collided then
 * spread out instead of colliding again at once (many sweeps or collections of one subject's sessions at the same
 * time all append to that subject's chain). At most about 1.6 s over all tries.
 */
const BACKOFF = { baseMs: 4, capMs: 100 };
const pause = (attempt: number) => new Promise((resolve) => {
  setTimeout(resolve, Math.random() * Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** attempt));
});

interface HeadEntity { seq: number; hash: string }
interface RecordEntity { recordJson: string; hash: string }
interface CheckpointEntity { checkpointId: string; time: string; jws: string }

export interface TableEvidenceLogOptions { onQuery?: (table: string, filter: string) => void }

export class TableEvidenceLog implements EvidenceLog {
  private readonly table: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string, private readonly options: TableEvidenceLogOptions = {}) {
    this.table = clients.table(evidenceTableName(prefix));
    this.ensure = onceUntilFailure(() => this.table.createTable());
  }

  async append(entry: EvidenceEntry, chain: number): Promise<StoredEvidence> {
    return guard(async () => {
      await this.ensure();
      const pk = chainKey(chain);
      for (let attempt = 0; attempt < MAX_APPEND_TRIES; attempt++) {
        const head = await this.point<HeadEntity>(pk, 'head');
        const record: EvidenceRecord = { v: 1, ...entry, chain, seq: (head?.seq ?? 0) + 1, prev: head?.hash ?? GENESIS_HASH };
        const hash = recordHash(record);
        const headRow = { partitionKey: pk, rowKey: 'head', seq: record.seq, hash };
        const actions: TransactionAction[] = [
          ['create', { partitionKey: pk, rowKey: recordKey(record.seq), recordJson: canonicalJson(record), hash }],
          ['create', { partitionKey: pk, rowKey: `id|${entry.recordId}`, seq: record.seq }],
          head ? ['update', headRow, 'Replace', { etag: head.etag }] : ['create', headRow],
        ];
        try {
          await this.table.submitTransaction(actions);
          return { record, hash };
        } catch (error) {
          if (!isRestError(error, 409, 412, 400)) throw error;
          // Someone appended first: either this very record (a repeated append) or another one (try again).
          const existing = await this.point<{ seq: number }>(pk, `id|${entry.recordId}`);
          if (existing) {
            const row = await this.point<RecordEntity>(pk, recordKey(existing.seq));
            if (row) return { record: JSON.parse(row.recordJson) as EvidenceRecord, hash: row.hash };
          }
          await pause(attempt);
        }
      }
      throw new ConflictError('EvidenceBusy', 'The evidence chain is busy; try again.');
    });
  }

  async heads(): Promise<ChainHead[]> {
    return guard(async () => {
      await this.ensure();
      return Promise.all(Array.from({ length: EVIDENCE_CHAINS }, async (_, chain) => {
        const head = await this.point<HeadEntity>(chainKey(chain), 'head');
        return { chain, seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH };
      }));
    });
  }

  async putCheckpoint(c: SignedCheckpoint): Promise<void> {
    await guard(async () => {
      await this.ensure();
      const row = { checkpointId: c.checkpointId, time: c.time, jws: c.jws };
      await this.table.createEntity({ partitionKey: 'checkpoint', rowKey: `${c.time}|${c.checkpointId}`, ...row });
      await this.table.upsertEntity({ partitionKey: 'latest', rowKey: 'checkpoint', ...row }, 'Replace');
    });
  }

  async latestCheckpoint(): Promise<SignedCheckpoint | undefined> {
    return guard(async () => {
      await this.ensure();
      const row = await this.point<CheckpointEntity>('latest', 'checkpoint');
      return row && { checkpointId: row.checkpointId, time: row.time, jws: row.jws };
    });
  }

  async getCheckpoint(time: string, checkpointId: string): Promise<SignedCheckpoint | undefined> {
    return guard(async () => {
      await this.ensure();
      const row = await this.point<CheckpointEntity>('checkpoint', `${time}|${checkpointId}`);
      return row && { checkpointId: row.checkpointId, time: row.time, jws: row.jws };
    });
  }

  async listCheckpoints(from: string, to?: string, top?: number): Promise<SignedCheckpoint[]> {
    return guard(async () => {
      await this.ensure();
      const filter = to === undefined
        ? odata`PartitionKey eq 'checkpoint' and RowKey ge ${from}`
        : odata`PartitionKey eq 'checkpoint' and RowKey ge ${from} and RowKey le ${`${to}~`}`;
      this.options.onQuery?.(evidenceTableName(''), filter);
      const out: SignedCheckpoint[] = [];
      for await (const row of this.table.listEntities<CheckpointEntity>({ queryOptions: { filter } })) {
        out.push({ checkpointId: row.checkpointId, time: row.time, jws: row.jws });
        if (top !== undefined && out.length >= top) break;
      }
      return out;
    });
  }

  async listRecords(chain: number, fromSeq: number, toSeq: number): Promise<StoredEvidence[]> {
    return guard(async () => {
      await this.ensure();
      const filter = odata`PartitionKey eq ${chainKey(chain)} and RowKey ge ${recordKey(fromSeq)} and RowKey le ${recordKey(toSeq)}`;
      this.options.onQuery?.(evidenceTableName(''), filter);
      const out: StoredEvidence[] = [];
      for await (const row of this.table.listEntities<RecordEntity>({ queryOptions: { filter } })) {
        out.push({ record: JSON.parse(row.recordJson) as EvidenceRecord, hash: row.hash });
      }
      return out;
    });
  }

  private async point<T extends object>(pk: string, rk: string): Promise<(T & { etag: string }) | undefined> {
    try {
      return await this.table.getEntity<T>(pk, rk) as T & { etag: string };
    } catch (error) {
      if (isRestError(error, 404)) return undefined;
      throw error;
    }
  }
}
