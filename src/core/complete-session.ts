// Use case: the device says its capture is done. The message is enqueued *before* the status moves to Started, so a
// 202 always means a completion message exists; duplicates from racing calls are harmless (collection is idempotent).
import type { LivenessDeps } from './deps.js';
import { ConflictError, NotFoundError } from './errors.js';
import { deviceOutcome, type DeviceOutcome } from './decision.js';
import type { DeviceCaller } from './ports.js';
import type { LivenessSession } from './session.js';

/** The session if `caller` owns it; another subject gets the same 404 as for a session that does not exist. */
async function ownedSession(deps: LivenessDeps, sessionId: string, caller: DeviceCaller): Promise<LivenessSession> {
  const session = await deps.sessions.get(sessionId);
  if (!session || session.deleting || session.status === 'Creating' || session.subject !== caller.subject) throw new NotFoundError();
  return session;
}

/** What a device may know about its own session: pending, pass, fail or retry. */
export async function deviceStatus(deps: LivenessDeps, sessionId: string, caller: DeviceCaller): Promise<{ sessionId: string; status: DeviceOutcome }> {
  return { sessionId, status: deviceOutcome(await ownedSession(deps, sessionId, caller)) };
}

/** Accepts the device's completion; a no-op once the session has moved past NotStarted (idempotent). */
export async function requestCompletion(deps: LivenessDeps, sessionId: string, caller: DeviceCaller): Promise<void> {
  const { sessions, completions, clock } = deps;
  for (let tries = 0; tries < 5; tries++) {
    const session = await ownedSession(deps, sessionId, caller);
    if (session.status !== 'NotStarted') return;
    await completions.enqueue({ sessionId, try: 1 });
    try {
      await sessions.update({ ...session, status: 'Started', completionRequestedDateTime: clock.now().toISOString() });
      deps.logger.info('completion requested', { sessionId });
      return;
    } catch (error) {
      if (error instanceof ConflictError) continue; // someone else moved it; read again
      throw error;
    }
  }
  throw new ConflictError('ConcurrentUpdate', 'The session is changing too often; try again.');
}
