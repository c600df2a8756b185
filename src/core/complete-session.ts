// Use case: the device says its capture is done. The message is enqueued *before* the status moves to Started, so a
// 202 always means a completion message exists. Racing completions each enqueue a message with their own chain id,
// but only the one whose move to Started wins is recorded on the session: the others are dropped by the collector
// before they call Face, so completion storms cannot multiply Face calls.
import { randomUUID } from 'node:crypto';
import { assertNotLockedOut, sessionLimitKeys } from './attempt-limits.js';
import { updateSession, type LivenessDeps } from './deps.js';
import { NotFoundError } from './errors.js';
import { acceptedDigest } from './trust-signals.js';
import { deviceOutcome, type DeviceOutcome } from './decision.js';
import type { DeviceCaller } from './ports.js';
import { visibleTo, type LivenessSession } from './session.js';

/** The session if `caller` owns it; another subject gets the same 404 as for a session that does not exist. */
async function ownedSession(deps: LivenessDeps, sessionId: string, caller: DeviceCaller): Promise<LivenessSession> {
  const session = await deps.sessions.get(sessionId);
  if (!visibleTo(session, caller)) throw new NotFoundError();
  return session;
}

/** What a device may know about its own session: pending, pass, fail or retry. */
export async function deviceStatus(deps: LivenessDeps, sessionId: string, caller: DeviceCaller): Promise<{ sessionId: string; status: DeviceOutcome }> {
  return { sessionId, status: deviceOutcome(await ownedSession(deps, sessionId, caller)) };
}

/**
 * Accepts the device's completion; a no-op once the session has moved past NotStarted (idempotent). `digest` is the
 * result digest the client SDK reported; it is kept with the session (as the binding setting allows) and compared
 * with Face's at collection.
 */
export async function requestCompletion(deps: LivenessDeps, sessionId: string, caller: DeviceCaller, digest?: string): Promise<void> {
  const clientDigest = acceptedDigest(deps.settings.trust.digestBinding, digest);
  const session = await ownedSession(deps, sessionId, caller);
  if (session.status !== 'NotStarted') return;
  // A locked-out subject's sessions are not collected (and could not pass anyway): say so now, with Retry-After.
  await assertNotLockedOut(deps, sessionLimitKeys(deps, session));
  const chainId = randomUUID();
  await deps.completions.enqueue({ sessionId, try: 1, chainId });
  const requestedAt = deps.clock.now().toISOString();
  let moved = false;
  await updateSession(deps, session, (current) => {
    moved = false;
    if (!visibleTo(current, caller)) throw new NotFoundError();
    if (current.status !== 'NotStarted') return undefined; // a racing completion got there first
    moved = true;
    return {
      ...current, status: 'Started', completionRequestedDateTime: requestedAt, collection: { chainId, try: 0, delivery: 0 },
      ...(clientDigest ? { clientDigest } : {}),
    };
  });
  if (moved) deps.logger.info('completion requested', { sessionId });
}
