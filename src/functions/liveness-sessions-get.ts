import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, sessionIdParam } from '../shared/http.js';

// The use cases load with the first invocation, not while the host indexes the functions (cold start).
const queriesModule = () => import('../core/queries.js');

/** GET /api/liveness-sessions/{sessionId} — back office: the session and its latest result. */
export const getLivenessSession: OperationHandler<'getLivenessSession'> = async ({ request, deps }) =>
  json(200, await (await queriesModule()).getSession(deps, sessionIdParam(request)));

httpOperation('getLivenessSession', getLivenessSession);
