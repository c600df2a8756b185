import { listSessions } from '../core/queries.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/** GET /api/liveness-sessions?top=&continuationToken=&status=&deviceCorrelationId= — newest first, paged. */
export const listLivenessSessions: OperationHandler<'listLivenessSessions'> = async ({ request, deps }) =>
  json(200, await listSessions(deps, (await contract()).parseListSessionsQuery(request.query)));

httpOperation('listLivenessSessions', listLivenessSessions);
