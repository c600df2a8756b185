import { deviceStatus } from '../core/complete-session.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, sessionIdParam } from '../shared/http.js';

/** GET /api/liveness-sessions/{sessionId}/status — the device polls its own session: pending, pass, fail or retry. */
export const getLivenessSessionStatus: OperationHandler<'getLivenessSessionStatus'> = async ({ request, deps, caller }) =>
  json(200, await deviceStatus(deps, sessionIdParam(request), caller));

httpOperation('getLivenessSessionStatus', getLivenessSessionStatus);
