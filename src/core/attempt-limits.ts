// Abuse limits (after AWS's published guidance for Face Liveness: 5 failures in 3 minutes, then a 30-minute
// lockout). Counted per token subject and per device; checked before a session is created.
import type { LivenessDeps } from './deps.js';
import { TooManyAttemptsError } from './errors.js';
import type { AttemptLimiter, LimitKey } from './ports.js';

/** Used when limits are switched off (benchmarks, load tests): never locks anyone out. */
export const noAttemptLimits: AttemptLimiter = { lockedFor: async () => 0, recordFailure: async () => undefined };

export interface AttemptLimitPolicy { maxFailures: number; windowSeconds: number; lockoutSeconds: number }

export function limitKeys(subject: string | undefined, deviceCorrelationId: string | undefined): LimitKey[] {
  return [
    ...(subject ? [{ kind: 'subject' as const, id: subject }] : []),
    ...(deviceCorrelationId ? [{ kind: 'device' as const, id: deviceCorrelationId }] : []),
  ];
}

export async function assertNotLockedOut(deps: LivenessDeps, keys: LimitKey[]): Promise<void> {
  const now = deps.clock.now();
  const waits = await Promise.all(keys.map((k) => deps.limiter.lockedFor(k, now)));
  const wait = Math.max(0, ...waits);
  if (wait > 0) {
    throw new TooManyAttemptsError('Too many failed liveness checks; try again later.', wait);
  }
}

export async function recordFailedCheck(deps: LivenessDeps, keys: LimitKey[]): Promise<void> {
  const now = deps.clock.now();
  await Promise.all(keys.map((k) => deps.limiter.recordFailure(k, now)));
}
