import { deleteSession } from '../core/delete-session.js';
import { backOfficeHttp, type BackOfficeCaller } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { sessionIdParam } from '../shared/http.js';

/** DELETE /api/liveness-sessions/{sessionId} — back office: Face session, images and records. */
export const deleteLivenessSession: HttpRoute<BackOfficeCaller> = async ({ request, deps }) => {
  await deleteSession(deps, sessionIdParam(request));
  return { status: 204 };
};

backOfficeHttp('liveness-sessions-delete', { route: 'liveness-sessions/{sessionId}', methods: ['DELETE'], handler: deleteLivenessSession });
