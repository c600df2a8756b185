import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { sessionIdParam } from '../shared/http.js';

// The use cases load with the first invocation, not while the host indexes the functions (cold start).
const deleteSessionModule = () => import('../core/delete-session.js');

/** DELETE /api/liveness-sessions/{sessionId} — back office: Face session, images and records. */
export const deleteLivenessSession: OperationHandler<'deleteLivenessSession'> = async ({ request, deps }) => {
  await (await deleteSessionModule()).deleteSession(deps, sessionIdParam(request));
  return { status: 204 };
};

httpOperation('deleteLivenessSession', deleteLivenessSession);
