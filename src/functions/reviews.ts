// Review decisions: the queue of sessions awaiting a person, and settling one.
import { listReviewQueue, settleReview } from '../core/review.js';
import { actor, httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, readJson, sessionIdParam } from '../shared/http.js';
import { contract } from '../shared/contract.js';

async function queueQuery(query: URLSearchParams) {
  const { parseQuery, reviewQueueQueryCodes, reviewQueueQuerySchema } = await contract();
  return parseQuery(reviewQueueQuerySchema, query, reviewQueueQueryCodes);
}

/** GET /api/review-queue?top=&continuationToken= — sessions awaiting review, oldest first. */
export const getReviewQueue: OperationHandler<'listReviewQueue'> = async ({ request, deps }) =>
  json(200, await listReviewQueue(deps, await queueQuery(request.query)));

/** POST /api/liveness-sessions/{sessionId}/review — settle a session awaiting review (409 if not, or already). */
export const settleSessionReview: OperationHandler<'settleLivenessSessionReview'> = async ({ request, deps, caller }) => {
  const sessionId = sessionIdParam(request);
  const { parseJsonBody, settleReviewRequestSchema } = await contract();
  const body = parseJsonBody(settleReviewRequestSchema, await readJson(request), { outcome: 'InvalidOutcome', reason: 'InvalidReason' });
  return json(200, await settleReview(deps, sessionId, body, actor(caller)));
};

httpOperation('listReviewQueue', getReviewQueue);
httpOperation('settleLivenessSessionReview', settleSessionReview);
