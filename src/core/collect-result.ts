// Use case: pull the liveness decision and face-match result from Face into storage. Used by the completion queue
// trigger and by the sweep's last collection. Idempotent: audit entries are keyed by attempt id, and the session
// update is conditional on its ETag, so duplicate or redelivered messages write one result.
import { limitKeys, recordFailedCheck } from './attempt-limits.js';
import { decide } from './decision.js';
import type { LivenessDeps } from './deps.js';
import { ConflictError, FaceSessionNotFoundError, NotFoundError } from './errors.js';
import type { CompletionMessage, FaceAttempt, FaceSessionState } from './ports.js';
import { nextSweepTime } from './retention.js';
import { FINISHED_ATTEMPT_STATES, type AuditEntry, type LivenessSession } from './session.js';

export type CollectOutcome =
  | { kind: 'collected'; session: LivenessSession }
  | { kind: 'already-collected'; session: LivenessSession }
  | { kind: 'no-finished-attempt'; session: LivenessSession }
  | { kind: 'face-session-gone'; session: LivenessSession }
  | { kind: 'session-gone' };

/** Maps a Face v1.2 attempt to the C# sample's audit-entry shape (only what Face v1.2 provides). */
export function toAuditEntry(session: LivenessSession, state: FaceSessionState, attempt: FaceAttempt, collectedAt: Date): AuditEntry {
  const r = attempt.result;
  const rect = r?.targets?.color?.faceRectangle ?? attempt.error?.targets?.color?.faceRectangle;
  return {
    id: attempt.attemptId,
    sessionId: session.sessionId,
    attemptStatus: attempt.attemptStatus,
    ...(r?.digest ? { digest: r.digest } : {}),
    ...(r?.sessionImageId ? { sessionImageId: r.sessionImageId } : {}),
    ...(r?.verifyImageHash ? { verifyImageHash: r.verifyImageHash } : {}),
    response: {
      body: {
        ...(r?.livenessDecision ? { livenessDecision: r.livenessDecision } : {}),
        ...(state.modelVersion ?? session.modelVersion ? { modelVersionUsed: state.modelVersion ?? session.modelVersion } : {}),
        ...(rect ? { target: { faceRectangle: rect, imageType: 'Color' as const } } : {}),
        ...(r?.verifyResult ? {
          verifyResult: {
            isIdentical: r.verifyResult.isIdentical,
            matchConfidence: r.verifyResult.matchConfidence,
            verifyImage: state.verifyReferences[0] ?? session.verifyImage,
          },
        } : {}),
        ...(attempt.error ? { error: { code: attempt.error.code, message: attempt.error.message } } : {}),
      },
    },
    collectedDateTime: collectedAt.toISOString(),
  };
}

/** One collection from Face for a session that has no result yet. Writes entries, result and status. */
export async function collectOnce(deps: LivenessDeps, initial: LivenessSession): Promise<CollectOutcome> {
  const { face, sessions, images, clock, settings } = deps;
  let session = initial;
  if (session.result) return { kind: 'already-collected', session };

  if (!session.faceSessionId || session.faceSessionDeleted) return { kind: 'face-session-gone', session };
  let state: FaceSessionState;
  try {
    state = await face.get(session.faceSessionId);
  } catch (error) {
    if (error instanceof FaceSessionNotFoundError) return { kind: 'face-session-gone', session };
    throw error;
  }
  const finished = state.attempts.filter((a) => FINISHED_ATTEMPT_STATES.has(a.attemptStatus));
  if (finished.length === 0) return { kind: 'no-finished-attempt', session };

  const now = clock.now();
  const entries = finished.map((a) => toAuditEntry(session, state, a, now)).sort((a, b) => a.id - b.id);
  const latest = entries[entries.length - 1]!; // by attemptId, never by array position

  const sessionImageBlobs: string[] = [];
  if (session.enableSessionImage && latest.sessionImageId && !session.imagesDeleted) {
    try {
      const bytes = await face.getSessionImage(latest.sessionImageId);
      const blobName = `session-images/${session.sessionId}/${latest.id}.jpg`;
      await images.put(blobName, bytes, 'image/jpeg');
      sessionImageBlobs.push(blobName);
    } catch (error) {
      if (!(error instanceof FaceSessionNotFoundError)) throw error;
      deps.logger.warn('session image no longer available at Face', { sessionId: session.sessionId });
    }
  }

  await sessions.upsertAuditEntries(entries);

  for (let tries = 0; ; tries++) {
    const decision = decide(session, latest, settings.policy, now);
    // Evidence binding: a result about another verify image than the one we stored fails the session outright.
    const evidenceFailure = decision.reasons.find((r) => r.startsWith('VerifyImageHash'));
    try {
      session = await sessions.update({
        ...session,
        status: evidenceFailure ? 'Failed' : 'ResultAvailable',
        result: latest,
        decision,
        resultCollectedDateTime: now.toISOString(),
        sessionImageBlobs: [...new Set([...session.sessionImageBlobs, ...sessionImageBlobs])],
        failureReason: evidenceFailure,
      });
      break;
    } catch (error) {
      const fresh = error instanceof NotFoundError || error instanceof ConflictError
        ? await sessions.get(session.sessionId) : undefined;
      if (error instanceof NotFoundError || (error instanceof ConflictError && (!fresh || fresh.deleting))) {
        // Deleted while we collected: remove what we just wrote so nothing outlives the delete.
        await sessions.deleteAuditEntries(session.sessionId);
        await Promise.all(sessionImageBlobs.map((b) => images.delete(b)));
        return { kind: 'session-gone' };
      }
      if (error instanceof ConflictError && fresh) {
        if (fresh.result) return { kind: 'already-collected', session: fresh };
        if (tries < 3) { session = fresh; continue; }
      }
      throw error;
    }
  }
  if (session.decision) {
    deps.metrics.decisionRecorded(session.decision.outcome);
    if (session.completionRequestedDateTime) {
      deps.metrics.timeToResult(now.getTime() - Date.parse(session.completionRequestedDateTime), session.decision.outcome);
    }
  }
  deps.logger.info('liveness result collected', {
    sessionId: session.sessionId, attemptId: latest.id, attemptStatus: latest.attemptStatus, attempts: entries.length,
    outcome: session.decision?.outcome, policyVersion: session.decision?.policyVersion,
  });
  if (session.decision?.outcome === 'fail' || session.decision?.outcome === 'retry') {
    await recordFailedCheck(deps, limitKeys(session.subject, session.deviceCorrelationId)).catch((error: unknown) => {
      deps.logger.warn('could not count a failed check', { sessionId: session.sessionId, error: (error as Error).name });
    });
  }

  if (settings.deleteFaceSessionAfterCollect) session = await deleteFaceSession(deps, session);
  return { kind: 'collected', session };
}

/** Deletes the Face session (its token dies with it) and records that, moving the sweep index on. */
export async function deleteFaceSession(deps: LivenessDeps, initial: LivenessSession): Promise<LivenessSession> {
  const { face, sessions, settings } = deps;
  if (initial.faceSessionId) await face.delete(initial.faceSessionId);
  let session = initial;
  for (let tries = 0; tries < 3; tries++) {
    if (session.faceSessionDeleted || session.deleting) return session;
    const previousDue = session.nextSweepDateTime;
    const marked: LivenessSession = { ...session, faceSessionDeleted: true };
    marked.nextSweepDateTime = nextSweepTime(marked, settings)?.toISOString();
    try {
      session = await sessions.update(marked);
      await sessions.reschedule(session.sessionId, previousDue, session.nextSweepDateTime);
      return session;
    } catch (error) {
      if (error instanceof NotFoundError) return session;
      if (!(error instanceof ConflictError)) throw error;
      const fresh = await sessions.get(session.sessionId);
      if (!fresh) return session;
      session = fresh;
    }
  }
  return session;
}

/** Queue-trigger entry: collect, or schedule another try with backoff within the configured bound. */
export async function handleCompletionMessage(deps: LivenessDeps, message: CompletionMessage): Promise<string> {
  const { sessions, completions, settings, logger } = deps;
  const session = await sessions.get(message.sessionId);
  if (!session || session.deleting) return 'session-gone';
  if (session.result) return 'already-collected';

  const outcome = await collectOnce(deps, session);
  if (outcome.kind === 'no-finished-attempt') {
    if (message.try < settings.collectMaxTries) {
      const delay = Math.min(settings.collectMaxBackoffSeconds, settings.collectBackoffSeconds * 2 ** (message.try - 1));
      await completions.enqueue({ sessionId: message.sessionId, try: message.try + 1 }, delay);
      logger.info('no finished attempt yet; will try again', { sessionId: message.sessionId, try: message.try, delaySeconds: delay });
      return 'retry-scheduled';
    }
    await markFailed(deps, outcome.session, 'NoFinishedAttempt');
    return 'failed-no-attempt';
  }
  if (outcome.kind === 'face-session-gone') {
    await markFailed(deps, outcome.session, 'FaceSessionNotFound');
    return 'failed-face-session-gone';
  }
  return outcome.kind;
}

/** Marks a session Failed unless it already has a result (a late success wins) or is being deleted. */
export async function markFailed(deps: LivenessDeps, initial: LivenessSession, reason: string): Promise<void> {
  let session: LivenessSession | undefined = initial;
  for (let tries = 0; tries < 5 && session; tries++) {
    if (session.result || session.deleting || session.status === 'Failed') return;
    try {
      await deps.sessions.update({ ...session, status: 'Failed', failureReason: reason });
      deps.logger.warn('liveness session failed', { sessionId: session.sessionId, reason });
      return;
    } catch (error) {
      if (error instanceof NotFoundError) return;
      if (!(error instanceof ConflictError)) throw error;
      session = await deps.sessions.get(initial.sessionId);
    }
  }
}
