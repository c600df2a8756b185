import { getSession } from '../core/queries.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, sessionIdParam } from '../shared/http.js';

/** GET /api/liveness-sessions/{sessionId} — back office: the session and its latest result. */
export const getLivenessSession: OperationHandler<'getLivenessSession'> = async ({ request, deps }) =>
  json(200, await getSession(deps, sessionIdParam(request)));

httpOperation('getLivenessSession', getLivenessSession);
