// Use case: the device says its capture is done. The message is enqueued *before* the status moves to Started, so a
// 202 always means a completion message exists; duplicates from racing calls are harmless (collection is idempotent).
import type { LivenessDeps } from './deps.js';
import { ConflictError, NotFoundError } from './errors.js';
import { isFinal, type SessionStatus } from './session.js';

export async function requestCompletion(deps: LivenessDeps, sessionId: string): Promise<{ sessionId: string; status: SessionStatus }> {
  const { sessions, completions, clock } = deps;
  for (let tries = 0; tries < 5; tries++) {
    const session = await sessions.get(sessionId);
    if (!session || session.deleting) throw new NotFoundError();
    if (session.status !== 'NotStarted' || isFinal(session.status)) return { sessionId, status: session.status };
    await completions.enqueue({ sessionId, try: 1 });
    try {
      const updated = await sessions.update({ ...session, status: 'Started', completionRequestedDateTime: clock.now().toISOString() });
      await sessions.syncListStatus(updated);
      deps.logger.info('completion requested', { sessionId });
      return { sessionId, status: updated.status };
    } catch (error) {
      if (error instanceof ConflictError) continue; // someone else moved it; read again
      throw error;
    }
  }
  throw new ConflictError('ConcurrentUpdate', 'The session is changing too often; try again.');
}
