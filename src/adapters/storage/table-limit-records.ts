// LimitRecords over Table storage (LivenessAttemptLimits): one row per subject and per device of that subject, in
// the subject's partition, RK "limit-subject" or "limit-device-" + SHA-256 of the device id (40 hex digits), holding
// recent failure times, the lockout deadline and the sessions already counted. The lockout rule is the core's (core/attempt-limits.ts).
import { createHash } from 'node:crypto';
import type { LimitKey, LimitRecord, LimitRecords } from '../../core/ports.js';
import type { StorageClients } from './clients.js';
import { tableNames } from './table-names.js';
import { TableSubjectRecords } from './table-subject-records.js';

const PREFIX = 'limit-';

export function tableLimitRecords(clients: StorageClients, prefix: string): LimitRecords {
  return new TableSubjectRecords<LimitKey, LimitRecord>(clients, {
    what: 'The attempt limit',
    table: tableNames(prefix).attemptLimits,
    rowKey: (key) => key.kind === 'subject'
      ? `${PREFIX}subject`
      : `${PREFIX}device-${createHash('sha256').update(key.id).digest('hex').slice(0, 40)}`,
    // "limit." is the first key after every "limit-…" (the quota row of the same partition is "quota").
    rowRange: { from: PREFIX, to: 'limit.' },
    toColumns: (r) => ({
      failuresJson: JSON.stringify(r.failures),
      ...(r.lockedUntil ? { lockedUntil: r.lockedUntil } : {}),
      ...(r.counted ? { countedJson: JSON.stringify(r.counted) } : {}),
    }),
    fromRow: (row) => ({
      kind: row.rowKey === `${PREFIX}subject` ? 'subject' : 'device',
      failures: JSON.parse(String(row.failuresJson ?? '[]')) as number[],
      ...(typeof row.lockedUntil === 'string' ? { lockedUntil: row.lockedUntil } : {}),
      ...(typeof row.countedJson === 'string' ? { counted: JSON.parse(row.countedJson) as string[] } : {}),
    }),
  });
}
