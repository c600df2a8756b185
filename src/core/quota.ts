// Per-subject session quotas: at most `maxOpenSessions` sessions open at once (a slot frees at release or when the
// session's token expires, so a lost release cannot lock a subject out for good) and at most `maxCreates` creates per
// window. The rules are pure functions over the subject's quota record; subjectQuota applies them through the store's
// conditional read-modify-write, so concurrent creates of one subject cannot overshoot the cap.
import type { QuotaSettings } from '../config/config.js';
import { TooManyAttemptsError } from './errors.js';
import type { QuotaRecord, QuotaRecords, QuotaRefusal, RecordUpdate, SubjectQuota } from './ports.js';

/** The quota policy: the quota settings (LIVENESS_MAX_*_PER_SUBJECT, LIVENESS_CREATE_WINDOW_SECONDS), declared once in the config. */
export type QuotaPolicy = QuotaSettings;

/** Used when limits are switched off (benchmarks, load tests): grants every session. */
export const noSubjectQuota: SubjectQuota = { reserve: async () => undefined, release: async () => undefined };

/**
 * Takes a slot for `sessionId` (open until `expiresAt`), or refuses with the time until a slot or a create frees.
 * Expired slots and creates older than the window are dropped on the way; a refusal writes nothing.
 */
export function reserveSlot(
  record: QuotaRecord | undefined, sessionId: string, expiresAt: Date, now: Date, policy: QuotaPolicy,
): RecordUpdate<QuotaRecord, QuotaRefusal | undefined> {
  const t = now.getTime();
  const open = (record?.open ?? []).filter((s) => s.expires > t && s.id !== sessionId);
  const creates = (record?.creates ?? []).filter((c) => c > t - policy.windowSeconds * 1000);
  const wait = (frees: number) => Math.max(1, Math.ceil((frees - t) / 1000));
  if (open.length >= policy.maxOpenSessions) {
    return { result: { reason: 'OpenSessions', retryAfterSeconds: wait(Math.min(...open.map((s) => s.expires))) } };
  }
  if (creates.length >= policy.maxCreates) {
    return { result: { reason: 'CreateRate', retryAfterSeconds: wait(Math.min(...creates) + policy.windowSeconds * 1000) } };
  }
  return { next: { open: [...open, { id: sessionId, expires: expiresAt.getTime() }], creates: [...creates, t] }, result: undefined };
}

/** Frees the session's slot; nothing to write when it holds none. */
export function releaseSlot(record: QuotaRecord | undefined, sessionId: string): RecordUpdate<QuotaRecord, void> {
  if (!record?.open.some((s) => s.id === sessionId)) return { result: undefined };
  return { next: { ...record, open: record.open.filter((s) => s.id !== sessionId) }, result: undefined };
}

export function subjectQuota(records: QuotaRecords, policy: QuotaPolicy): SubjectQuota {
  return {
    peek: (subjectKey) => records.snapshot({ subjectKey }),
    reserve: (subjectKey, sessionId, expiresAt, now, peeked) =>
      records.update({ subjectKey }, (current) => reserveSlot(current, sessionId, expiresAt, now, policy), peeked),
    release: (subjectKey, sessionId) => records.update({ subjectKey }, (current) => releaseSlot(current, sessionId)),
    check: async (subjectKey, now) => reserveSlot(await records.get({ subjectKey }), '', now, now, policy).result,
  };
}

/** The 429 a refused reservation (or check) answers, naming which of the two limits was hit. */
export function quotaExceeded(refusal: QuotaRefusal): TooManyAttemptsError {
  return new TooManyAttemptsError(refusal.reason === 'OpenSessions'
    ? 'Too many liveness sessions are open for this user; finish or wait for one to expire.'
    : 'Too many liveness sessions were started for this user; try again later.', refusal.retryAfterSeconds, 'QuotaExceeded');
}
