import { deleteSession } from '../core/delete-session.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { sessionIdParam } from '../shared/http.js';

/** DELETE /api/liveness-sessions/{sessionId} — back office: Face session, images and records. */
export const deleteLivenessSession: OperationHandler<'deleteLivenessSession'> = async ({ request, deps }) => {
  await deleteSession(deps, sessionIdParam(request));
  return { status: 204 };
};

httpOperation('deleteLivenessSession', deleteLivenessSession);
