// IdempotencyRecords over Table storage (LivenessIdempotencyKeys): PK = the subject key, RK = SHA-256 of the
// Idempotency-Key (the key as the device sent it is not stored), so a subject's keys are one whole partition. The
// claim and expiry rules are the core's (core/idempotency.ts).
import { createHash } from 'node:crypto';
import type { IdempotencyKeyRef, IdempotencyRecord, IdempotencyRecords } from '../../core/ports.js';
import type { StorageClients } from './clients.js';
import { tableNames } from './table-names.js';
import { TableSubjectRecords } from './table-subject-records.js';

export function tableIdempotencyRecords(clients: StorageClients, prefix: string): IdempotencyRecords {
  return new TableSubjectRecords<IdempotencyKeyRef, IdempotencyRecord>(clients, {
    what: 'The Idempotency-Key',
    table: tableNames(prefix).idempotencyKeys,
    rowKey: (ref) => createHash('sha256').update(ref.key).digest('hex'),
    // A few rounds only: racing claims of one key settle at once (one wins, the others see its record).
    maxRounds: 3,
    toColumns: (r) => ({
      requestHash: r.requestHash, state: r.state, createdDateTime: r.createdDateTime,
      ...(r.sessionId ? { sessionId: r.sessionId } : {}), ...(r.claimId ? { claimId: r.claimId } : {}),
    }),
    fromRow: (row) => ({
      requestHash: String(row.requestHash),
      state: row.state === 'done' ? 'done' : 'in-progress',
      createdDateTime: String(row.createdDateTime),
      ...(typeof row.sessionId === 'string' ? { sessionId: row.sessionId } : {}),
      ...(typeof row.claimId === 'string' ? { claimId: row.claimId } : {}),
    }),
  });
}
