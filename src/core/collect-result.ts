// Use case: pull the liveness decision and face-match result from Face into storage. Used by the completion queue
// trigger and by the sweep's last collection. Idempotent: audit entries are keyed by attempt id, and the session
// update is conditional on its ETag, so duplicate or redelivered messages write one result.
import { randomUUID } from 'node:crypto';
import { lockedOutFor, recordFailedAttempts, releaseQuota, sessionLimitKeys } from './attempt-limits.js';
import { judgeSession } from './decision.js';
import { updateSession, type LivenessDeps } from './deps.js';
import { abuseFinding, applyAbusePolicy, bindDigest } from './trust-signals.js';
import { FaceAnswerInvalidError, FaceSessionNotFoundError } from './errors.js';
import { decidedEntry, withEvidence } from './evidence.js';
import { recordEvidenceThenEvents, sessionDecidedEvent, withEvent } from './events.js';
import type { CompletionMessage, FaceAttempt, FaceSessionState } from './ports.js';
import { isFinishedAttempt, type AbuseFinding, type AuditEntry, type LivenessSession } from './session.js';

export type CollectOutcome =
  | { kind: 'collected'; session: LivenessSession }
  | { kind: 'already-collected'; session: LivenessSession }
  | { kind: 'no-finished-attempt'; session: LivenessSession }
  | { kind: 'face-session-gone'; session: LivenessSession }
  | { kind: 'session-gone' };

/** Maps a Face v1.2 attempt to the C# sample's audit-entry shape (only what Face v1.2 provides). */
export function toAuditEntry(
  session: LivenessSession, state: FaceSessionState, attempt: FaceAttempt & { attemptStatus: AuditEntry['attemptStatus'] }, collectedAt: Date,
): AuditEntry {
  const r = attempt.result;
  const rect = r?.targets?.color?.faceRectangle ?? attempt.error?.targets?.color?.faceRectangle;
  return {
    id: attempt.attemptId,
    sessionId: session.sessionId,
    attemptStatus: attempt.attemptStatus,
    ...(r?.digest ? { digest: r.digest } : {}),
    ...(r?.sessionImageId ? { sessionImageId: r.sessionImageId } : {}),
    ...(r?.verifyImageHash ? { verifyImageHash: r.verifyImageHash } : {}),
    ...(attempt.clientInformation?.length ? { clientInformation: attempt.clientInformation.map((c) => ({ ip: c.ip })) } : {}),
    ...(attempt.abuseMonitoringResult ? { abuseMonitoringResult: attempt.abuseMonitoringResult } : {}),
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
  const { face, images, audit, clock, settings } = deps;
  if (initial.result) return { kind: 'already-collected', session: initial };

  if (!initial.faceSessionId || initial.faceSessionDeleted) return { kind: 'face-session-gone', session: initial };
  let state: FaceSessionState;
  try {
    state = await face.get(initial.faceSessionId);
  } catch (error) {
    if (error instanceof FaceSessionNotFoundError) return { kind: 'face-session-gone', session: initial };
    throw error;
  }
  const finished = state.attempts.filter(isFinishedAttempt);
  if (finished.length === 0) return { kind: 'no-finished-attempt', session: initial };

  const now = clock.now();
  const entries = finished.map((a) => toAuditEntry(initial, state, a, now)).sort((a, b) => a.id - b.id);
  const latest = entries[entries.length - 1]!; // by attemptId, never by array position

  const sessionImageBlobs: string[] = [];
  if (initial.enableSessionImage && latest.sessionImageId && !initial.imagesDeleted) {
    try {
      const bytes = await face.getSessionImage(latest.sessionImageId);
      const blobName = `session-images/${initial.sessionId}/${latest.id}.jpg`;
      await images.put(blobName, bytes, 'image/jpeg');
      sessionImageBlobs.push(blobName);
    } catch (error) {
      if (!(error instanceof FaceSessionNotFoundError)) throw error;
      deps.logger.warn('session image no longer available at Face', { sessionId: initial.sessionId });
    }
  }

  await audit.upsert(entries);
  const lockedOut = (await lockedOutFor(deps, sessionLimitKeys(deps, initial))) > 0;
  const abuse = await resolveAbuse(deps, initial, entries);
  const trust = settings.trust;

  // The failed attempts count towards the lockout before the result is written: a device that sees its failure the
  // moment the result lands must not be able to start again before it counts. Counted once per session (by its id),
  // so a repeated collection, or one that loses the race for the result below, adds nothing.
  if (!initial.result) {
    const { failedAttempts } = judgeSession(initial, entries, settings.policy, now, { lockedOut });
    await recordFailedAttempts(deps, sessionLimitKeys(deps, initial), failedAttempts, initial.sessionId);
  }
  const writeId = randomUUID();
  let outcome = 'recorded' as 'recorded' | 'already-collected' | 'deleting';
  const written = await updateSession(deps, initial, (current) => {
    if (current.deleting) { outcome = 'deleting'; return undefined; }
    if (current.result) {
      // Our own write, whose answer was lost (the storage SDK retried it and got 412): the result is ours, so the
      // rest of this collection (freeing the quota slot, deleting the Face session) must still run. Anyone else's result
      // (a duplicate message, the sweep) carries another write id.
      const ours = current.resultWriteId === writeId;
      outcome = ours ? 'recorded' : 'already-collected';
      return undefined;
    }
    outcome = 'recorded';
    const judgement = judgeSession(current, entries, settings.policy, now, { lockedOut });
    // Digest binding first (a result the device did not get is not this capture's), then abuse monitoring: a flagged
    // session never passes silently.
    const decision = applyAbusePolicy(bindDigest(judgement.decision, latest, current.attestedDigest?.digest ?? current.clientDigest, trust.digestBinding), abuse, trust.abusePolicy);
    // Evidence binding: a result about another verify image than the one we stored, or whose digest is not the one
    // the device reported, fails the session outright.
    const evidenceFailure = decision.reasons.find((r) => r.startsWith('VerifyImageHash') || r === 'DigestMismatch');
    const decided: LivenessSession = {
      ...current,
      status: evidenceFailure ? 'Failed' : 'ResultAvailable',
      result: latest,
      resultWriteId: writeId,
      decision,
      resultCollectedDateTime: now.toISOString(),
      sessionImageBlobs: [...new Set([...current.sessionImageBlobs, ...sessionImageBlobs])],
      // A sweep that deleted the images while we copied one: the copy is due for deletion again (at once).
      ...(sessionImageBlobs.length > 0 ? { imagesDeleted: false } : {}),
      failureReason: evidenceFailure,
      ...(abuse ? { abuseLinks: [...new Set([...(current.abuseLinks ?? []), ...ourLinks(abuse)])] } : {}),
    };
    // The relying party's event is written with the decision it reports (the session outbox, events.ts).
    // Its evidence record goes into the evidence outbox with it, and is appended before the event is published.
    return withEvent(deps, withEvidence(decided, decidedEntry(decided)), sessionDecidedEvent(decided, settings.eventsIncludeScores ?? false, now));
  });
  if (!written || outcome === 'deleting') {
    // Deleted while we collected: remove what we just wrote so nothing outlives the delete.
    await audit.deleteAll(initial.sessionId);
    await Promise.all(sessionImageBlobs.map((b) => images.delete(b)));
    return { kind: 'session-gone' };
  }
  if (outcome === 'already-collected') {
    // Copies the recorded result does not account for (or that its images' deletion already passed) would outlive
    // image retention: remove them. A copy with the same name that the record does account for stays.
    const kept = new Set(written.imagesDeleted ? [] : written.sessionImageBlobs);
    await Promise.all(sessionImageBlobs.filter((b) => !kept.has(b)).map((b) => images.delete(b)));
    return { kind: 'already-collected', session: written };
  }

  // The session is finished for its subject as soon as its result is written: its quota slot goes first, before the
  // evidence record and the events, so a device that sees its result and starts again is not refused meanwhile.
  await releaseQuota(deps, written);
  if (abuse) await linkBack(deps, written.sessionId, ourLinks(abuse));
  let session = await recordEvidenceThenEvents(deps, written);
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

  if (settings.deleteFaceSessionAfterCollect) session = await deleteFaceSession(deps, session);
  return { kind: 'collected', session };
}

/** The abuse finding of a session's attempts, with the other flagged sessions Face names resolved to ours. */
async function resolveAbuse(deps: LivenessDeps, session: LivenessSession, entries: AuditEntry[]): Promise<AbuseFinding | undefined> {
  const found = abuseFinding(entries);
  if (!found) return undefined;
  const otherFlaggedSessions = await Promise.all(found.faceSessions.slice(0, 20).map(async (other) => {
    const ours = other.faceSessionId.toLowerCase() === session.faceSessionId?.toLowerCase()
      ? session : await deps.sessions.findByFaceSessionId(other.faceSessionId);
    return { ...other, ...(ours ? { sessionId: ours.sessionId } : {}) };
  }));
  deps.logger.warn('Face abuse monitoring flagged a session', {
    sessionId: session.sessionId, attempts: found.attemptIds.length, otherSessions: otherFlaggedSessions.length,
  });
  return { attemptIds: found.attemptIds, otherFlaggedSessions };
}

const ourLinks = (abuse: AbuseFinding): string[] =>
  abuse.otherFlaggedSessions.flatMap((o) => (o.sessionId ? [o.sessionId] : []));

/** The other flagged sessions of ours name this one too, so the back office can walk the link from either side. */
async function linkBack(deps: LivenessDeps, sessionId: string, others: string[]): Promise<void> {
  await Promise.all(others.filter((o) => o !== sessionId).map((other) => updateSession(deps, other, (current) =>
    current.deleting || current.abuseLinks?.includes(sessionId) ? undefined : { ...current, abuseLinks: [...(current.abuseLinks ?? []), sessionId] },
  ).catch((error: unknown) => {
    deps.logger.warn('could not link a flagged session back', { sessionId: other, error: (error as Error).name });
  })));
}

/** Deletes the Face session (its token dies with it) and records that; the sweep time moves on with it. */
export async function deleteFaceSession(deps: LivenessDeps, session: LivenessSession): Promise<LivenessSession> {
  if (session.faceSessionId) await deps.face.delete(session.faceSessionId);
  const written = await updateSession(deps, session, (current) =>
    current.faceSessionDeleted || current.deleting ? undefined : { ...current, faceSessionDeleted: true });
  return written ?? session;
}

/** How many deliveries of one message may meet an invalid Face answer before the session fails (FaceAnswerInvalid). */
const MAX_INVALID_ANSWER_DELIVERIES = 3;

/** How often a message that arrived before its completion recorded the chain is looked at again (1 s apart). */
const MAX_EARLY_REDELIVERIES = 10;

/**
 * Queue-trigger entry: collect, or schedule another try with backoff within the configured bound. Before it calls
 * Face, the message claims its place in the session's collection chain (try and delivery), so a message of a losing
 * completion, a duplicate copy or a stale try is dropped without a Face call; a redelivery after a failure (a higher
 * dequeue count) still runs.
 */
export async function handleCompletionMessage(deps: LivenessDeps, message: CompletionMessage, delivery = 1): Promise<string> {
  const { completions, settings, logger } = deps;
  let verdict = 'claimed' as 'claimed' | 'session-gone' | 'already-collected' | 'stale-message' | 'early';
  const session = await updateSession(deps, message.sessionId, (current) => {
    verdict = 'claimed';
    if (current.deleting) { verdict = 'session-gone'; return undefined; }
    if (current.result) { verdict = 'already-collected'; return undefined; }
    if (!message.chainId) return undefined; // a message from before chains: runs unclaimed
    const chain = current.collection;
    if (!chain) {
      // The completion that sent this is still recording its chain (it enqueues first, then writes), or it failed.
      verdict = current.status === 'NotStarted' ? 'early' : 'stale-message';
      return undefined;
    }
    const ahead = chain?.chainId === message.chainId
      && (message.try > chain.try || (message.try === chain.try && delivery > chain.delivery));
    if (!ahead) { verdict = 'stale-message'; return undefined; }
    return { ...current, collection: { chainId: message.chainId, try: message.try, delivery } };
  });
  if (!session) return 'session-gone';
  if (verdict === 'early') {
    // Looked at again shortly, a bounded number of times: a completion whose write failed (the device got a 503 and
    // will complete again, with a chain of its own) leaves a message that no chain will ever claim.
    const early = (message.early ?? 0) + 1;
    if (early > MAX_EARLY_REDELIVERIES) return 'stale-message';
    await completions.enqueue({ ...message, early }, 1);
    return 'early';
  }
  if (verdict !== 'claimed') return verdict;

  let outcome: CollectOutcome;
  try {
    outcome = await collectOnce(deps, session);
  } catch (error) {
    // Face keeps answering something that is not a valid answer: after a few deliveries (the host retries a message
    // that throws), the session fails with the reason named, instead of costing Face calls until the poison queue.
    if (error instanceof FaceAnswerInvalidError && delivery >= MAX_INVALID_ANSWER_DELIVERIES) {
      logger.warn('Face answered with invalid data repeatedly', { sessionId: message.sessionId, delivery });
      await markFailed(deps, session, 'FaceAnswerInvalid');
      return 'failed-face-answer-invalid';
    }
    throw error;
  }
  if (outcome.kind === 'no-finished-attempt') {
    if (message.try < settings.collectMaxTries) {
      const delay = Math.min(settings.collectMaxBackoffSeconds, settings.collectBackoffSeconds * 2 ** (message.try - 1));
      await completions.enqueue({ sessionId: message.sessionId, try: message.try + 1, ...(message.chainId ? { chainId: message.chainId } : {}) }, delay);
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
export async function markFailed(deps: LivenessDeps, session: LivenessSession | string, reason: string): Promise<void> {
  let failed = false;
  const written = await updateSession(deps, session, (current) => {
    failed = !(current.result || current.deleting || current.status === 'Failed');
    return failed ? { ...current, status: 'Failed', failureReason: reason } : undefined;
  });
  if (written && failed) {
    deps.logger.warn('liveness session failed', { sessionId: written.sessionId, reason });
    await releaseQuota(deps, written);
  }
}
