import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, sessionIdParam } from '../shared/http.js';

// The use cases load with the first invocation, not while the host indexes the functions (cold start).
const queriesModule = () => import('../core/queries.js');

/** GET /api/liveness-sessions/{sessionId}/audit-entries — back office: every attempt, oldest first. */
export const listLivenessAuditEntries: OperationHandler<'listLivenessAuditEntries'> = async ({ request, deps }) =>
  json(200, await (await queriesModule()).listAuditEntries(deps, sessionIdParam(request)));

httpOperation('listLivenessAuditEntries', listLivenessAuditEntries);
