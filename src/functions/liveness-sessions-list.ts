import { listSessions } from '../core/queries.js';
import { backOfficeHttp, type BackOfficeCaller } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/** GET /api/liveness-sessions?top=&continuationToken=&status=&deviceCorrelationId= — newest first, paged. */
export const listLivenessSessions: HttpRoute<BackOfficeCaller> = async ({ request, deps }) =>
  json(200, await listSessions(deps, (await contract()).parseListSessionsQuery(request.query)));

backOfficeHttp('liveness-sessions-list', { route: 'liveness-sessions', methods: ['GET'], handler: listLivenessSessions });
