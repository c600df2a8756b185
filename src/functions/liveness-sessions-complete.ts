import { requestCompletion } from '../core/complete-session.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, sessionIdParam } from '../shared/http.js';

/** POST /api/liveness-sessions/{sessionId}/complete — the device says its capture is done. Idempotent. */
export const completeLivenessSession: OperationHandler<'completeLivenessSession'> = async ({ request, deps, caller }) => {
  const sessionId = sessionIdParam(request);
  await requestCompletion(deps, sessionId, caller);
  // The device learns that the request was accepted, never the decision or scores.
  return json(202, { sessionId, status: 'Accepted' });
};

httpOperation('completeLivenessSession', completeLivenessSession);
