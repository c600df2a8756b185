import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, sessionIdParam } from '../shared/http.js';

// The use cases load with the first invocation, not while the host indexes the functions (cold start).
const completeSessionModule = () => import('../core/complete-session.js');

/** GET /api/liveness-sessions/{sessionId}/status — the device polls its own session: pending, pass, fail or retry. */
export const getLivenessSessionStatus: OperationHandler<'getLivenessSessionStatus'> = async ({ request, deps, caller }) =>
  json(200, await (await completeSessionModule()).deviceStatus(deps, sessionIdParam(request), caller));

httpOperation('getLivenessSessionStatus', getLivenessSessionStatus);
