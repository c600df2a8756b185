// When the sweep next has work on a session: first at token expiry (last collection, Face session deletion), then
// when image retention ends, then when record retention ends; and, while the session holds events not yet handed to
// the webhook queue (its outbox), soon after the oldest of them. One index row per session, keyed by that time.
import type { LivenessSettings } from '../config/config.js';
import type { LivenessSession } from './session.js';

/** What retention needs of the settings. */
export type RetentionPolicy = Pick<LivenessSettings, 'imageRetentionHours' | 'recordRetentionDays' | 'eventRecoverySeconds'>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function imagesDueAt(session: LivenessSession, policy: RetentionPolicy): number {
  return Date.parse(session.authTokenExpiresDateTime) + policy.imageRetentionHours * HOUR;
}

export function recordDueAt(session: LivenessSession, policy: RetentionPolicy): number {
  return Date.parse(session.authTokenExpiresDateTime) + policy.recordRetentionDays * DAY;
}

/** The next time the sweep must look at the session, or undefined when nothing is left to do. */
export function nextSweepTime(session: LivenessSession, policy: RetentionPolicy): Date | undefined {
  const expiry = Date.parse(session.authTokenExpiresDateTime);
  const candidates: number[] = [];
  // A live Face session means the last collection and the Face deletion are still to come at expiry.
  if (!session.faceSessionDeleted) candidates.push(expiry);
  if (!session.imagesDeleted) candidates.push(imagesDueAt(session, policy));
  candidates.push(recordDueAt(session, policy));
  // A consent record waits for the session's next step (decision, deletion, the sweep at expiry): it proves what was
  // agreed and nothing waits on it, so it does not bring the sweep early (which would cost every create a sweep visit).
  const urgentEvidence = (session.pendingEvidence ?? []).filter((e) => e.type !== 'consent.recorded');
  const pending = [...(session.pendingEvents ?? []).map((e) => e.timestamp), ...urgentEvidence.map((e) => e.time)];
  if (pending.length > 0) {
    const oldest = Math.min(...pending.map((t) => Date.parse(t)));
    candidates.push(oldest + policy.eventRecoverySeconds * 1000);
  }
  return new Date(Math.min(...candidates));
}

/**
 * The session with the sweep time that follows from it. Every change the core writes goes through here, so the
 * record's nextSweepDateTime (which the repository mirrors in its sweep index) is never stale. A row still Creating
 * keeps its own deadline: the time by which an abandoned create is undone.
 */
export function scheduled(session: LivenessSession, policy: RetentionPolicy): LivenessSession {
  if (session.status === 'Creating') return session;
  return { ...session, nextSweepDateTime: nextSweepTime(session, policy)?.toISOString() };
}
