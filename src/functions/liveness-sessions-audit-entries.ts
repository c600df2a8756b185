import { listAuditEntries } from '../core/queries.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, sessionIdParam } from '../shared/http.js';

/** GET /api/liveness-sessions/{sessionId}/audit-entries — back office: every attempt, oldest first. */
export const listLivenessAuditEntries: OperationHandler<'listLivenessAuditEntries'> = async ({ request, deps }) =>
  json(200, await listAuditEntries(deps, sessionIdParam(request)));

httpOperation('listLivenessAuditEntries', listLivenessAuditEntries);
