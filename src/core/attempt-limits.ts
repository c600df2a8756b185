// Abuse limits (after AWS's published guidance for Face Liveness: 5 failures in 3 minutes, then a 30-minute
// lockout), counted per failed attempt, per token subject and per device *of that subject*. Enforced at create, at
// complete and at decision time (a locked-out subject's session cannot pass). Per-subject quotas bound how many
// sessions one subject may hold open and create, so none can be stockpiled before a lockout.
import type { LivenessDeps } from './deps.js';
import { TooManyAttemptsError } from './errors.js';
import type { AttemptLimiter, LimitKey, SubjectQuota } from './ports.js';
import { subjectKeyOf } from './subject-keys.js';

/** Used when limits are switched off (benchmarks, load tests): never locks anyone out. */
export const noAttemptLimits: AttemptLimiter = { lockedFor: async () => 0, recordFailure: async () => undefined };
/** Used when limits are switched off (benchmarks, load tests): grants every session. */
export const noSubjectQuota: SubjectQuota = { reserve: async () => undefined, release: async () => undefined };

export interface AttemptLimitPolicy { maxFailures: number; windowSeconds: number; lockoutSeconds: number }

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

export async function recordFailedAttempts(deps: LivenessDeps, keys: LimitKey[], count: number): Promise<void> {
  if (count <= 0) return;
  const now = deps.clock.now();
  await Promise.all(keys.map((k) => deps.limiter.recordFailure(k, now, count)));
}

/** Frees a finished session's quota slot. Best effort: a slot that is not freed frees itself at token expiry. */
export async function releaseQuota(deps: LivenessDeps, session: { subject?: string; subjectKey?: string; sessionId: string }): Promise<void> {
  const subjectKey = subjectKeyOf(deps, session);
  if (!subjectKey) return;
  await deps.quota.release(subjectKey, session.sessionId).catch((error: unknown) => {
    deps.logger.warn('could not release a quota slot; it frees at token expiry', { sessionId: session.sessionId, error: (error as Error).name });
  });
}
