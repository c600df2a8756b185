// Use case: the back office deletes a session: the Face session (a 404 there is fine), the images and the records.
// The session is first marked `deleting` (ETag-guarded) so a concurrent collection sees it and backs off; the row
// itself goes last, so an interrupted delete can be resumed by a second DELETE or by the sweep. The erased event is
// written with the `deleting` mark (the session outbox) and enqueued before the row goes, so it is never lost.
import { releaseQuota } from './attempt-limits.js';
import { updateSession, type LivenessDeps } from './deps.js';
import { NotFoundError, StorageUnavailableError } from './errors.js';
import { recordPendingEvidence, sessionDeletedEntry, withEvidence } from './evidence.js';
import { publishPendingEvents, sessionErasedEvent, withEvent } from './events.js';
import type { LivenessSession } from './session.js';

export async function deleteSession(deps: LivenessDeps, sessionId: string): Promise<void> {
  const session = await updateSession(deps, sessionId, (current) => {
    if (current.status === 'Creating') throw new NotFoundError(); // not a session yet; the create or the sweep undoes it
    if (current.deleting) return undefined;
    const at = deps.clock.now();
    return withEvent(deps, withEvidence({ ...current, deleting: true }, sessionDeletedEntry(current, at)), sessionErasedEvent(current, at));
  });
  if (!session) throw new NotFoundError();
  await purgeSession(deps, session);
  await releaseQuota(deps, session);
  deps.logger.info('liveness session deleted', { sessionId });
}

/** Removes everything a session owns. Idempotent, so it can be re-run after an interruption. */
export async function purgeSession(deps: LivenessDeps, session: LivenessSession): Promise<void> {
  if (!session.faceSessionDeleted && session.faceSessionId) await deps.face.delete(session.faceSessionId);
  await Promise.all([
    deps.images.delete(session.storedVerifyImage.blobName),
    ...session.sessionImageBlobs.map((b) => deps.images.delete(b)),
    // Session images copied by a collection that raced this delete: their names follow a fixed pattern per attempt.
    ...(session.result ? [deps.images.delete(`session-images/${session.sessionId}/${session.result.id}.jpg`)] : []),
  ]);
  await deps.audit.deleteAll(session.sessionId);
  // The row holds the outboxes: its evidence and its events (the erased event, or any a crash left) are appended and
  // enqueued before it goes.
  const recorded = await recordPendingEvidence(deps, session);
  if (!recorded.done) throw new StorageUnavailableError('The evidence log is unavailable; the delete is finished on a retry or by the sweep.');
  const published = await publishPendingEvents(deps, recorded.session);
  if (published.unsent > 0) {
    throw new StorageUnavailableError('The webhook queue is unavailable; the delete is finished on a retry or by the sweep.');
  }
  await deps.sessions.delete(published.session);
}

