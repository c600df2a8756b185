// Relying-party events and the session outbox that makes them durable.
//
// An event is written into the session row (pendingEvents) by the same conditional write that records what it
// reports, so a recorded decision always has its event: there is no moment when one exists without the other. Right
// after the write, publishPendingEvents hands the row's events to the webhook queue and removes them from the row. If
// the process dies (or the queue fails) in between, the events stay on the row, and retention.ts makes the session due
// for the sweep soon after (eventRecoverySeconds), which publishes them. Delivery is therefore at least once: a crash
// after the enqueue but before the removal sends an event twice, with the same id, which receivers de-duplicate on.
import { timeOrderedId } from './ids.js';
import { updateSession, type LivenessDeps } from './deps.js';
import type {
  ReviewSettledEvent, SessionDecidedEvent, SessionErasedEvent, SessionExpiredEvent, SubjectErasedEvent,
} from '../contract/types.js';
import type { LivenessEvent } from './ports.js';
import { failureReasonOf, type LivenessSession } from './session.js';
import { recordPendingEvidence } from './evidence.js';
import type { DeletionReceipt } from './subject.js';

/** Any of the events the app sends, each typed by its schema (src/contract/webhooks.ts). */
type TypedEvent = SessionDecidedEvent | SessionExpiredEvent | SessionErasedEvent | ReviewSettledEvent | SubjectErasedEvent;

/** A new event: a time-ordered unique id (so dead letters list oldest first) and the time the thing happened. */
export function newEvent<E extends TypedEvent>(type: E['type'], at: Date, data: E['data']): E {
  return { id: `evt_${timeOrderedId(at.getTime())}`, type, timestamp: at.toISOString(), data } as E;
}

/** Who and what the event is about, as the relying party knows them: never images, tokens or keys. */
function about(session: LivenessSession): Pick<SessionDecidedEvent['data'], 'sessionId' | 'subject' | 'deviceCorrelationId' | 'verificationId' | 'clientReferenceId'> {
  return {
    sessionId: session.sessionId,
    ...(session.subject !== undefined ? { subject: session.subject } : {}),
    ...(session.deviceCorrelationId !== undefined ? { deviceCorrelationId: session.deviceCorrelationId } : {}),
    ...(session.verificationId !== undefined ? { verificationId: session.verificationId } : {}),
    ...(session.clientReferenceId !== undefined ? { clientReferenceId: session.clientReferenceId } : {}),
  };
}

/** liveness.session.decided: the policy decided on a collected attempt (automated). Scores only when the setting is on. */
export function sessionDecidedEvent(session: LivenessSession, includeScores: boolean, at: Date): SessionDecidedEvent {
  const d = session.decision;
  // Callers pass the session they just decided (so it has a decision and is past Creating).
  if (!d || session.status === 'Creating') throw new Error('a decided event needs a decided session');
  return newEvent<SessionDecidedEvent>('liveness.session.decided', at, {
    ...about(session),
    status: session.status,
    outcome: d.outcome,
    reasons: d.reasons,
    reviewRequired: d.outcome === 'review',
    attemptId: d.attemptId,
    decidedDateTime: d.decidedDateTime,
    policyVersion: d.policyVersion,
    ...(includeScores ? {
      scores: {
        ...(d.livenessDecision !== undefined ? { livenessDecision: d.livenessDecision } : {}),
        ...(d.matchConfidence !== undefined ? { matchConfidence: d.matchConfidence } : {}),
        ...(d.isIdentical !== undefined ? { isIdentical: d.isIdentical } : {}),
      },
    } : {}),
  });
}

/** liveness.session.expired: the token expired and the session has no result (status Expired, or Failed earlier). */
export function sessionExpiredEvent(session: LivenessSession, at: Date): SessionExpiredEvent {
  return newEvent<SessionExpiredEvent>('liveness.session.expired', at, {
    ...about(session),
    status: session.status === 'Failed' ? 'Failed' : 'Expired',
    ...(session.failureReason ? { reason: failureReasonOf(session) } : {}),
    authTokenExpiresDateTime: session.authTokenExpiresDateTime,
  });
}

/** liveness.session.erased: the back office deleted the session; its images and records are gone when this arrives. */
export function sessionErasedEvent(session: LivenessSession, at: Date): SessionErasedEvent {
  return newEvent<SessionErasedEvent>('liveness.session.erased', at, { ...about(session), erasedDateTime: at.toISOString() });
}

/**
 * Adds `event` to the session's outbox. Call it inside a session change (updateSession), on the record that change
 * returns, so the event is written with what it reports. Without a webhook configured, no event is kept.
 */
export function withEvent(deps: Pick<LivenessDeps, 'events'>, session: LivenessSession, event: LivenessEvent): LivenessSession {
  if (!deps.events) return session;
  const keyed = session.subjectKey ? { ...event, subjectKey: session.subjectKey } : event;
  return { ...session, pendingEvents: [...(session.pendingEvents ?? []), keyed] };
}

export interface PublishOutcome {
  session: LivenessSession;
  /** Events that could not be enqueued and are still on the row (the sweep retries them). */
  unsent: number;
}

/**
 * Hands the session's outbox to the event queue, oldest first, then removes what was enqueued from the row. A queue
 * failure is logged and leaves the rest on the row for the sweep; it is not the caller's failure (the change the
 * events report is already written). With webhooks turned off, left-over events are dropped (with a warning).
 */
export async function publishPendingEvents(deps: LivenessDeps, session: LivenessSession): Promise<PublishOutcome> {
  const pending = session.pendingEvents ?? [];
  if (pending.length === 0) return { session, unsent: 0 };
  const sent = new Set<string>();
  if (deps.events) {
    try {
      for (const event of pending) {
        await deps.events.enqueue(event);
        sent.add(event.id);
      }
    } catch (error) {
      deps.logger.warn('could not enqueue events for the webhook; the sweep will retry', {
        sessionId: session.sessionId, unsent: pending.length - sent.size, error: (error as Error).name,
      });
    }
  } else {
    deps.logger.warn('webhooks are turned off; dropping events not yet sent', { sessionId: session.sessionId, events: pending.length });
    pending.forEach((e) => sent.add(e.id));
  }
  if (sent.size === 0) return { session, unsent: pending.length };
  try {
    const written = await updateSession(deps, session, (current) => {
      const before = current.pendingEvents ?? [];
      const rest = before.filter((e) => !sent.has(e.id));
      return rest.length === before.length ? undefined : { ...current, pendingEvents: rest };
    });
    return { session: written ?? session, unsent: pending.length - sent.size };
  } catch (error) {
    // The events are queued; left on the row, they are queued once more by the sweep (receivers drop the copy).
    deps.logger.warn('could not clear sent events from the session; they may be sent twice', {
      sessionId: session.sessionId, error: (error as Error).name,
    });
    return { session, unsent: pending.length - sent.size };
  }
}

/**
 * Appends the session's pending evidence, then publishes its events (which then carry their records' hashes). While
 * evidence cannot be appended, the events wait with it on the row for the sweep.
 */
export async function recordEvidenceThenEvents(deps: LivenessDeps, session: LivenessSession): Promise<LivenessSession> {
  const recorded = await recordPendingEvidence(deps, session);
  if (!recorded.done) return recorded.session;
  return (await publishPendingEvents(deps, recorded.session)).session;
}

/** 'liveness.review.settled': a person settled a session the policy sent to review (written with the settlement). */
export function reviewSettledEvent(session: LivenessSession, at: Date): ReviewSettledEvent {
  const review = session.review!;
  return newEvent<ReviewSettledEvent>('liveness.review.settled', at, {
    ...about(session),
    outcome: review.outcome,
    reasons: [`Review:${review.outcome}`, ...(session.decision?.reasons ?? [])],
    reviewedDateTime: review.reviewedDateTime,
    decidedDateTime: review.reviewedDateTime,
    ...(session.decision ? { policyVersion: session.decision.policyVersion } : {}),
  });
}

/**
 * 'liveness.subject.erased': everything of a subject is gone (the receipt's counts, keyed hash only). No session row
 * is left to carry it in an outbox, so it is enqueued directly; a failure surfaces, and the erasure (idempotent) is
 * repeated by the caller or the sweep, which sends it then.
 */
export async function publishSubjectErased(deps: Pick<LivenessDeps, 'events'>, receipt: DeletionReceipt): Promise<void> {
  const event = newEvent<SubjectErasedEvent>('liveness.subject.erased', new Date(receipt.completedDateTime), {
    subjectKey: receipt.subjectKey,
    receiptId: receipt.receiptId,
    deleted: receipt.deleted,
    erasedDateTime: receipt.completedDateTime,
    ...(receipt.evidence ? { evidence: { recordHash: receipt.evidence.recordHash, chain: receipt.evidence.chain, seq: receipt.evidence.seq } } : {}),
  });
  // One id per erasure, whichever run of a resumed erasure sends it.
  // No subjectKey routing: its delivery rows must not be indexed under the person it just erased.
  await deps.events?.enqueue({ ...event, id: `evt_${receipt.receiptId}` });
}
