// When the sweep next has work on a session: first at token expiry (last collection, Face session deletion), then
// when image retention ends, then when record retention ends. One index row per session, keyed by that time.
import type { LivenessSession } from './session.js';

export interface RetentionPolicy { imageRetentionHours: number; recordRetentionDays: number }

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
  return new Date(Math.min(...candidates));
}
