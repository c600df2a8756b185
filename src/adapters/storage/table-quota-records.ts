// QuotaRecords over Table storage: one row per subject, RK "quota" in the subject's partition of the attempt-limits
// table, listing the subject's open sessions with their token expiry and the times of its recent creates. The quota
// rules are the core's (core/quota.ts).
import type { QuotaKey, QuotaRecord, QuotaRecords } from '../../core/ports.js';
import type { StorageClients } from './clients.js';
import { tableNames } from './table-names.js';
import { TableSubjectRecords } from './table-subject-records.js';

const ROW_KEY = 'quota';

export function tableQuotaRecords(clients: StorageClients, prefix: string): QuotaRecords {
  return new TableSubjectRecords<QuotaKey, QuotaRecord>(clients, {
    what: 'The session quota',
    table: tableNames(prefix).attemptLimits,
    rowKey: () => ROW_KEY,
    rowRange: { from: ROW_KEY, to: `${ROW_KEY}~` }, // the one row "quota"; the lockout rows are "limit-…"
    toColumns: (r) => ({ openJson: JSON.stringify(r.open), createsJson: JSON.stringify(r.creates) }),
    fromRow: (row) => ({
      open: JSON.parse(String(row.openJson ?? '[]')) as QuotaRecord['open'],
      creates: JSON.parse(String(row.createsJson ?? '[]')) as number[],
    }),
  });
}
