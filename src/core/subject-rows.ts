// A subject's rows in the limit stores (lockout counters, the session quota, remembered Idempotency-Keys), exported
// and erased through each store's own port: every store keeps its records under the subject key and owns its format.
import type { IdempotencyRecords, LimitRecords, QuotaRecords, SubjectRows } from './ports.js';
import type { SubjectRowsExport } from './subject.js';

export interface SubjectRecordStores { limits: LimitRecords; quotas: QuotaRecords; idempotencyKeys: IdempotencyRecords }

export function subjectRows(stores: SubjectRecordStores): SubjectRows {
  return {
    async export(subjectKey): Promise<SubjectRowsExport> {
      const [limits, quotas, keys] = await Promise.all([
        stores.limits.listSubject(subjectKey), stores.quotas.listSubject(subjectKey), stores.idempotencyKeys.listSubject(subjectKey),
      ]);
      const quota = quotas[0];
      return {
        lockouts: limits
          .map((r) => ({ kind: r.kind, recentFailures: r.failures.length, ...(r.lockedUntil ? { lockedUntil: r.lockedUntil } : {}) }))
          .sort((a, b) => a.kind.localeCompare(b.kind)),
        ...(quota ? { quota: { openSessions: quota.open.length, recentCreates: quota.creates.length } } : {}),
        idempotencyKeys: keys
          .map((r) => ({ state: r.state, ...(r.sessionId ? { sessionId: r.sessionId } : {}), createdDateTime: r.createdDateTime }))
          .sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime)),
      };
    },
    async erase(subjectKey) {
      const [lockouts, quotas, idempotencyKeys] = await Promise.all([
        stores.limits.eraseSubject(subjectKey), stores.quotas.eraseSubject(subjectKey), stores.idempotencyKeys.eraseSubject(subjectKey),
      ]);
      return { lockouts, quotas, idempotencyKeys };
    },
  };
}
