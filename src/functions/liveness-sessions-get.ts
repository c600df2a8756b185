import { getSession } from '../core/queries.js';
import { backOfficeHttp, type BackOfficeCaller } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json, sessionIdParam } from '../shared/http.js';

/** GET /api/liveness-sessions/{sessionId} — back office: the session and its latest result. */
export const getLivenessSession: HttpRoute<BackOfficeCaller> = async ({ request, deps }) =>
  json(200, await getSession(deps, sessionIdParam(request)));

backOfficeHttp('liveness-sessions-get', { route: 'liveness-sessions/{sessionId}', methods: ['GET'], handler: getLivenessSession });
