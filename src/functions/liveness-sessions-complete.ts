import { requestCompletion } from '../core/complete-session.js';
import type { DeviceCaller } from '../core/ports.js';
import { deviceHttp } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json, sessionIdParam } from '../shared/http.js';

/** POST /api/liveness-sessions/{sessionId}/complete — the device says its capture is done. Idempotent. */
export const completeLivenessSession: HttpRoute<DeviceCaller> = async ({ request, deps, caller }) => {
  const sessionId = sessionIdParam(request);
  await requestCompletion(deps, sessionId, caller);
  // The device learns that the request was accepted, never the decision or scores.
  return json(202, { sessionId, status: 'Accepted' });
};

deviceHttp('liveness-sessions-complete', { route: 'liveness-sessions/{sessionId}/complete', methods: ['POST'], handler: completeLivenessSession });
