// Abuse limits (after AWS's published guidance for Face Liveness: 5 failures in 3 minutes, then a 30-minute
// lockout), counted per failed attempt, per token subject and per device *of that subject*. Enforced at create, at
// complete and at decision time (a locked-out subject's session cannot pass). Per-subject quotas bound how many
// sessions one subject may hold open and create, so none can be stockpiled before a lockout.
import type { AttemptLimitSettings } from '../config/config.js';
import type { LivenessDeps } from './deps.js';
import { TooManyAttemptsError } from './errors.js';
import type { AttemptLimiter, LimitKey, LimitRecord, LimitRecords } from './ports.js';
import { subjectKeyOf } from './subject-keys.js';

/** Used when limits are switched off (benchmarks, load tests): never locks anyone out. */
export const noAttemptLimits: AttemptLimiter = { lockedFor: async () => 0, recordFailure: async () => undefined };

/** The lockout policy: the attempt-limit settings (ATTEMPT_LIMIT_*), declared once in the config. */
export type AttemptLimitPolicy = AttemptLimitSettings;

/** The lockout rule, read side: seconds until the counter's lockout ends (rounded up), or 0. */
export function lockedForSeconds(record: LimitRecord | undefined, now: Date): number {
  if (!record?.lockedUntil) return 0;
  const left = Date.parse(record.lockedUntil) - now.getTime();
  return left > 0 ? Math.ceil(left / 1000) : 0;
}

/**
 * The lockout rule, write side: the counter after `count` more failures at `now`. Failures older than the window
 * drop out (at most twice the limit are kept); reaching the limit within the window locks the key for the lockout
 * time from now, and a lockout already running stays.
 */
export function withFailures(
  record: LimitRecord | undefined, key: LimitKey, now: Date, count: number, policy: AttemptLimitPolicy, sessionId?: string,
): LimitRecord {
  // A session's failures count once: a repeated collection (a duplicate message, a lost write answer) adds nothing.
  if (record && sessionId && record.counted?.includes(sessionId)) return record;
  const counted = sessionId ? [...(record?.counted ?? []), sessionId].slice(-COUNTED_SESSIONS) : record?.counted;
  const windowStart = now.getTime() - policy.windowSeconds * 1000;
  const failures = [...(record?.failures ?? []), ...Array<number>(count).fill(now.getTime())]
    .filter((t) => t > windowStart)
    .slice(-policy.maxFailures * 2);
  const lockedUntil = failures.length >= policy.maxFailures
    ? new Date(now.getTime() + policy.lockoutSeconds * 1000).toISOString()
    : record?.lockedUntil;
  return { kind: key.kind, failures, ...(lockedUntil ? { lockedUntil } : {}), ...(counted ? { counted } : {}) };
}

/** How many counted session ids a limit record remembers: far more than can be collected twice in a window. */
export const COUNTED_SESSIONS = 32;

/** The attempt limiter: the rules above, applied through the store's conditional read-modify-write. */
export function attemptLimiter(records: LimitRecords, policy: AttemptLimitPolicy): AttemptLimiter {
  return {
    lockedFor: async (key, now) => lockedForSeconds(await records.get(key), now),
    recordFailure: (key, now, count = 1, sessionId) =>
      records.update(key, (current) => {
        const next = withFailures(current, key, now, count, policy, sessionId);
        return { next: next === current ? undefined : next, result: undefined }; // already counted: nothing to write
      }),
  };
}

/**
 * The keys a check counts against, under the subject's key. The device id is chosen by the caller, so on its own it
 * would let one subject lock out another's device by failing under its id; it counts only within the subject.
 */
export function limitKeys(subjectKey: string | undefined, deviceCorrelationId: string | undefined): LimitKey[] {
  if (!subjectKey) return [];
  return [
    { kind: 'subject' as const, id: subjectKey, subjectKey },
    ...(deviceCorrelationId ? [{ kind: 'device' as const, id: deviceCorrelationId, subjectKey }] : []),
  ];
}

/** The limit keys of a session's subject and device. */
export function sessionLimitKeys(deps: Pick<LivenessDeps, 'subjects'>, session: { subject?: string; subjectKey?: string; deviceCorrelationId?: string }): LimitKey[] {
  return limitKeys(subjectKeyOf(deps, session), session.deviceCorrelationId);
}

export async function assertNotLockedOut(deps: LivenessDeps, keys: LimitKey[]): Promise<void> {
  const wait = await lockedOutFor(deps, keys);
  if (wait > 0) {
    throw new TooManyAttemptsError('Too many failed liveness checks; try again later.', wait);
  }
}

/** Seconds until the subject's lockout ends, or 0. */
export async function lockedOutFor(deps: LivenessDeps, keys: LimitKey[]): Promise<number> {
  const now = deps.clock.now();
  return Math.max(0, ...await Promise.all(keys.map((k) => deps.limiter.lockedFor(k, now))));
}

/** Counts a session's failed attempts against its keys, once per session (`sessionId`) however often it is called. */
export async function recordFailedAttempts(deps: LivenessDeps, keys: LimitKey[], count: number, sessionId?: string): Promise<void> {
  if (count <= 0) return;
  const now = deps.clock.now();
  await Promise.all(keys.map((k) => deps.limiter.recordFailure(k, now, count, sessionId)));
}

/** Frees a finished session's quota slot. Best effort: a slot that is not freed frees itself at token expiry. */
export async function releaseQuota(deps: LivenessDeps, session: { subject?: string; subjectKey?: string; sessionId: string }): Promise<void> {
  const subjectKey = subjectKeyOf(deps, session);
  if (!subjectKey) return;
  await deps.quota.release(subjectKey, session.sessionId).catch((error: unknown) => {
    deps.logger.warn('could not release a quota slot; it frees at token expiry', { sessionId: session.sessionId, error: (error as Error).name });
  });
}
