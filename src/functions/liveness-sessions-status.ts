import { deviceStatus } from '../core/complete-session.js';
import type { DeviceCaller } from '../core/ports.js';
import { deviceHttp } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json, sessionIdParam } from '../shared/http.js';

/** GET /api/liveness-sessions/{sessionId}/status — the device polls its own session: pending, pass, fail or retry. */
export const getLivenessSessionStatus: HttpRoute<DeviceCaller> = async ({ request, deps, caller }) =>
  json(200, await deviceStatus(deps, sessionIdParam(request), caller));

deviceHttp('liveness-sessions-status', { route: 'liveness-sessions/{sessionId}/status', methods: ['GET'], handler: getLivenessSessionStatus });
