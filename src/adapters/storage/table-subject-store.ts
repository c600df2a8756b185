// SubjectStore over Table storage. Two tables (names carry the configured prefix):
//   LivenessSubjects           PK = subject key, RK "subject" (the record: reference, retired blobs, erasure state)
//                              and "consent|<version>" (one row per consent version: version and time, nothing
//                              else); PK "~erasing", RK = subject key: the erasing index the sweep reads (a subject
//                              key is 64 hex digits, so the two kinds of partition never meet)
//   LivenessDeletionReceipts   PK = subject key, RK = receipt id: what each erasure deleted (hashes and counts only)
// The subject key is an HMAC-SHA256 of the token subject under a per-deployment secret (SUBJECT_KEY_SECRET): no raw
// subject id in any key, and without the secret a key cannot be tested against a guessed subject id.
import { createHmac } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { SubjectStore } from '../../core/ports.js';
import type { ConsentRecord, DeletionReceipt, SubjectChange, SubjectRecord } from '../../core/subject.js';
import { deleteInBatches, guardStorage, ignore404, onceUntilFailure, orAbsent, partitionValues, requireEtag, type StorageClients } from './clients.js';
import { withOptimisticConcurrency } from './optimistic.js';
import { tableNames } from './table-names.js';

const RECORD_ROW = 'subject';
const CONSENT_PREFIX = 'consent|';
const ERASING_PARTITION = '~erasing';

const guard = <T>(work: () => Promise<T>) => guardStorage('Table storage request (subjects)', work);

/** The keyed hash of a token subject (lower-case hex, 64 digits). */
export function subjectKeyer(secret: string): (subject: string) => string {
  return (subject) => createHmac('sha256', secret).update(subject, 'utf8').digest('hex');
}

interface RecordEntity {
  partitionKey: string;
  rowKey: string;
  createdDateTime?: string;
  lastSeenDateTime?: string;
  referenceJson?: string;
  retiredBlobsJson?: string;
  erasureJson?: string;
}

export class TableSubjectStore implements SubjectStore {
  private readonly subjects: TableClient;
  private readonly receipts: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string, readonly keyOf: (subject: string) => string) {
    const names = tableNames(prefix);
    this.subjects = clients.table(names.subjects);
    this.receipts = clients.table(names.deletionReceipts);
    this.ensure = onceUntilFailure(() => Promise.all([this.subjects.createTable(), this.receipts.createTable()]));
  }

  async get(subjectKey: string): Promise<SubjectRecord | undefined> {
    return guard(() => this.read(subjectKey));
  }

  async mutate(subjectKey: string, change: SubjectChange): Promise<SubjectRecord | undefined> {
    return guard(() => withOptimisticConcurrency(async () => {
      const current = await this.read(subjectKey);
      const next = change(current);
      if (!next) return current;
      if (next.subjectKey !== subjectKey) throw new Error('a subject change must keep the subject key');
      // The erasing index row first: a record marked erasing is always reachable by the sweep.
      if (next.erasure && !current?.erasure) {
        await this.subjects.upsertEntity({ partitionKey: ERASING_PARTITION, rowKey: subjectKey }, 'Replace');
      }
      const entity = toEntity(next);
      const etag = current
        ? (await this.subjects.updateEntity(entity, 'Replace', { etag: requireEtag(current, 'The subject record') })).etag
        : (await this.subjects.createEntity(entity)).etag; // 409 if someone created it meanwhile: another round
      return { ...next, etag };
    }, { what: 'The subject record' }));
  }

  async recordVisit(subjectKey: string, now: Date, consent?: ConsentRecord): Promise<void> {
    await guard(async () => {
      await this.ensure();
      // One entity group transaction (same partition): the record's last-seen time (merged, so nothing else on the
      // record changes; a new record gets its creation time from it) and the consent row.
      const actions: TransactionAction[] = [
        ['upsert', { partitionKey: subjectKey, rowKey: RECORD_ROW, lastSeenDateTime: now.toISOString() }, 'Merge'],
        ...(consent ? [['upsert', {
          partitionKey: subjectKey, rowKey: `${CONSENT_PREFIX}${consent.version}`, version: consent.version, givenDateTime: consent.givenDateTime,
        }, 'Replace'] as TransactionAction] : []),
      ];
      await this.subjects.submitTransaction(actions);
    });
  }

  async listConsents(subjectKey: string): Promise<ConsentRecord[]> {
    return guard(async () => (await this.consentRows(subjectKey)).map((e) => ({ version: e.version, givenDateTime: e.givenDateTime })));
  }

  async deleteConsents(subjectKey: string): Promise<number> {
    return guard(async () => {
      const rows = await this.consentRows(subjectKey);
      const actions: TransactionAction[] = rows.map((e) => ['delete', { partitionKey: subjectKey, rowKey: e.rowKey }]);
      await deleteInBatches(this.subjects, actions);
      return rows.length;
    });
  }

  async delete(subjectKey: string): Promise<void> {
    await guard(async () => {
      await this.ensure();
      await ignore404(this.subjects.deleteEntity(subjectKey, RECORD_ROW));
      await ignore404(this.subjects.deleteEntity(ERASING_PARTITION, subjectKey));
    });
  }

  async listErasing(): Promise<string[]> {
    return guard(async () => {
      await this.ensure();
      const keys: string[] = [];
      const filter = odata`PartitionKey eq ${ERASING_PARTITION}`;
      for await (const e of this.subjects.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) keys.push(e.rowKey!);
      return keys;
    });
  }

  async putReceipt(receipt: DeletionReceipt): Promise<void> {
    await guard(async () => {
      await this.ensure();
      await this.receipts.upsertEntity({ partitionKey: receipt.subjectKey, rowKey: receipt.receiptId, receiptJson: JSON.stringify(receipt) }, 'Replace');
    });
  }

  async listReceipts(subjectKey: string): Promise<DeletionReceipt[]> {
    return guard(async () => {
      await this.ensure();
      const receipts = await partitionValues<DeletionReceipt>(this.receipts, subjectKey, 'receiptJson');
      return receipts.sort((a, b) => a.completedDateTime.localeCompare(b.completedDateTime));
    });
  }

  private async read(subjectKey: string): Promise<SubjectRecord | undefined> {
    await this.ensure();
    const entity = await orAbsent(this.subjects.getEntity<RecordEntity>(subjectKey, RECORD_ROW));
    return entity && fromEntity(subjectKey, entity);
  }

  private async consentRows(subjectKey: string) {
    await this.ensure();
    const rows: Array<{ rowKey: string; version: string; givenDateTime: string }> = [];
    const filter = odata`PartitionKey eq ${subjectKey} and RowKey ge ${CONSENT_PREFIX} and RowKey lt ${'consent}'}`;
    for await (const e of this.subjects.listEntities<{ version: string; givenDateTime: string }>({ queryOptions: { filter } })) {
      rows.push({ rowKey: e.rowKey!, version: e.version, givenDateTime: e.givenDateTime });
    }
    return rows;
  }
}

function toEntity(r: SubjectRecord): RecordEntity {
  return {
    partitionKey: r.subjectKey,
    rowKey: RECORD_ROW,
    createdDateTime: r.createdDateTime,
    ...(r.lastSeenDateTime ? { lastSeenDateTime: r.lastSeenDateTime } : {}),
    ...(r.reference ? { referenceJson: JSON.stringify(r.reference) } : {}),
    retiredBlobsJson: JSON.stringify(r.retiredBlobs),
    ...(r.erasure ? { erasureJson: JSON.stringify(r.erasure) } : {}),
  };
}

function fromEntity(subjectKey: string, e: RecordEntity & { etag?: string }): SubjectRecord {
  return {
    subjectKey,
    // A record first written by a visit (a merge) has only its last-seen time.
    createdDateTime: e.createdDateTime ?? e.lastSeenDateTime ?? new Date(0).toISOString(),
    ...(e.lastSeenDateTime ? { lastSeenDateTime: e.lastSeenDateTime } : {}),
    ...(e.referenceJson ? { reference: JSON.parse(e.referenceJson) } : {}),
    retiredBlobs: e.retiredBlobsJson ? JSON.parse(e.retiredBlobsJson) as string[] : [],
    ...(e.erasureJson ? { erasure: JSON.parse(e.erasureJson) } : {}),
    etag: e.etag,
  };
}
