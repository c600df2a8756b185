import { listAuditEntries } from '../core/queries.js';
import { backOfficeHttp, type BackOfficeCaller } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json, sessionIdParam } from '../shared/http.js';

/** GET /api/liveness-sessions/{sessionId}/audit-entries — back office: every attempt, oldest first. */
export const listLivenessAuditEntries: HttpRoute<BackOfficeCaller> = async ({ request, deps }) =>
  json(200, await listAuditEntries(deps, sessionIdParam(request)));

backOfficeHttp('liveness-sessions-audit-entries', { route: 'liveness-sessions/{sessionId}/audit-entries', methods: ['GET'], handler: listLivenessAuditEntries });
