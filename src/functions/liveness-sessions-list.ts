import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';
import { contract } from '../shared/contract.js';

// The use cases load with the first invocation, not while the host indexes the functions (cold start).
const queriesModule = () => import('../core/queries.js');

/** GET /api/liveness-sessions?top=&continuationToken=&status=&deviceCorrelationId= — newest first, paged. */
export const listLivenessSessions: OperationHandler<'listLivenessSessions'> = async ({ request, deps }) =>
  json(200, await (await queriesModule()).listSessions(deps, (await contract()).parseListSessionsQuery(request.query)));

httpOperation('listLivenessSessions', listLivenessSessions);
