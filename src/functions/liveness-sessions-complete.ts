import { requestCompletion } from '../core/complete-session.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { contract } from '../shared/contract.js';
import { json, readJson, sessionIdParam } from '../shared/http.js';

/**
 * POST /api/liveness-sessions/{sessionId}/complete — the device says its capture is done. Idempotent. An optional
 * JSON body `{ "digest" }` carries the result digest its client SDK reported (digest binding).
 */
export const completeLivenessSession: OperationHandler<'completeLivenessSession'> = async ({ request, deps, caller }) => {
  const sessionId = sessionIdParam(request);
  // No body (or an empty one) is a completion without a digest; anything else must be the JSON body.
  const hasBody = request.headers.get('content-type') !== null || Number(request.headers.get('content-length') ?? 0) > 0;
  let digest: string | undefined;
  if (hasBody) {
    const { parseJsonBody, completeRequestSchema } = await contract();
    digest = parseJsonBody(completeRequestSchema, await readJson(request), { digest: 'InvalidDigest' }).digest;
  }
  await requestCompletion(deps, sessionId, caller, digest);
  // The device learns that the request was accepted, never the decision or scores.
  return json(202, { sessionId, status: 'Accepted' });
};

httpOperation('completeLivenessSession', completeLivenessSession);
