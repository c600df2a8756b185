// Use case: a person settles a session the policy sent to review (pass or fail, with a reason). The automated
// decision stays as it was, next to the human one; the device then sees the person's outcome. Settling is one
// conditional write (SessionRepository.mutate), so two reviewers racing get one 200 and one 409.
import { updateSession, type LivenessDeps } from './deps.js';
import type { ReviewQueuePageBody } from '../contract/types.js';
import { ConflictError, NotFoundError } from './errors.js';
import { publishPendingEvents, reviewSettledEvent, withEvent } from './events.js';
import { awaitingReview, isVisible, sessionView, type ReviewDecision } from './session.js';

export interface ReviewRequest { outcome: ReviewDecision['outcome']; reason: string }

export async function settleReview(deps: LivenessDeps, sessionId: string, request: ReviewRequest, reviewer: string) {
  const now = deps.clock.now();
  const reviewedDateTime = now.toISOString();
  const written = await updateSession(deps, sessionId, (current) => {
    if (!isVisible(current)) throw new NotFoundError();
    if (current.review) throw new ConflictError('ReviewAlreadySettled', 'The review of this session was already settled.');
    if (!awaitingReview(current)) throw new ConflictError('NotAwaitingReview', 'The session is not awaiting review.');
    const settled = { ...current, review: { outcome: request.outcome, reason: request.reason, reviewer, reviewedDateTime } };
    // The relying party's event is written with the settlement it reports (the session outbox, events.ts).
    return withEvent(deps, settled, reviewSettledEvent(settled, now));
  });
  if (!written) throw new NotFoundError();
  deps.logger.info('review settled', { sessionId, outcome: request.outcome });
  const { session } = await publishPendingEvents(deps, written);
  return sessionView(session, deps.clock.now());
}

/** The review queue: sessions awaiting review, oldest first, a page at a time (a key read of the review index). */
export async function listReviewQueue(deps: LivenessDeps, query: { top: number; continuationToken?: string }): Promise<ReviewQueuePageBody> {
  const page = await deps.sessions.listAwaitingReview(query.top, query.continuationToken);
  const now = deps.clock.now();
  return {
    value: page.items.map((s) => sessionView(s, now)),
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  };
}
