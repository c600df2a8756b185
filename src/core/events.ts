// The relying-party events this module's use cases produce, one small function each, so webhook delivery (an outbox)
// can take them over. Only when an event queue is wired (deps.events); the payload never holds images, tokens,
// keys or scores. A failure to enqueue is logged, never fails the use case that already happened.
import { randomUUID } from 'node:crypto';
import type { LivenessDeps } from './deps.js';
import type { LivenessEvent } from './ports.js';
import type { LivenessSession } from './session.js';
import type { DeletionReceipt } from './subject.js';

async function publish(deps: LivenessDeps, event: LivenessEvent): Promise<void> {
  if (!deps.events) return;
  try {
    await deps.events.enqueue(event);
  } catch (error) {
    deps.logger.warn('could not enqueue a relying-party event', { type: event.type, eventId: event.id, error: (error as Error).name });
  }
}

/** 'liveness.review.settled': a person settled a session the policy sent to review. */
export function reviewSettledEvent(session: LivenessSession): LivenessEvent {
  const review = session.review!;
  return {
    id: `evt_${randomUUID()}`,
    type: 'liveness.review.settled',
    timestamp: review.reviewedDateTime,
    data: {
      sessionId: session.sessionId,
      ...(session.subject !== undefined ? { subject: session.subject } : {}),
      outcome: review.outcome,
      reasons: [`Review:${review.outcome}`, ...(session.decision?.reasons ?? [])],
      decidedDateTime: review.reviewedDateTime,
      ...(session.decision ? { policyVersion: session.decision.policyVersion } : {}),
    },
  };
}

export function publishReviewSettled(deps: LivenessDeps, session: LivenessSession): Promise<void> {
  return publish(deps, reviewSettledEvent(session));
}

/** 'liveness.subject.erased': everything of a subject is gone; the receipt's counts, keyed hash only. */
export function subjectErasedEvent(receipt: DeletionReceipt): LivenessEvent {
  return {
    id: `evt_${randomUUID()}`,
    type: 'liveness.subject.erased',
    timestamp: receipt.completedDateTime,
    data: {
      subjectKey: receipt.subjectKey,
      receiptId: receipt.receiptId,
      deleted: receipt.deleted,
      decidedDateTime: receipt.completedDateTime,
    },
  };
}

export function publishSubjectErased(deps: LivenessDeps, receipt: DeletionReceipt): Promise<void> {
  return publish(deps, subjectErasedEvent(receipt));
}
