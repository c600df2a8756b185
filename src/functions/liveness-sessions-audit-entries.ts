import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { loadDeps } from '../services.js';
import { listAuditEntries } from '../core/queries.js';
import { backOfficeHttp } from '../shared/auth.js';
import { contextLogger } from '../shared/logger.js';
import { json, sessionIdParam, toErrorResponse } from '../shared/http.js';

/** GET /api/liveness-sessions/{sessionId}/audit-entries — back office: every attempt, oldest first. */
export async function listLivenessAuditEntries(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return json(200, await listAuditEntries(await loadDeps(context), sessionIdParam(request)));
  } catch (error) {
    return toErrorResponse(error, contextLogger(context));
  }
}

backOfficeHttp('liveness-sessions-audit-entries', { route: 'liveness-sessions/{sessionId}/audit-entries', methods: ['GET'], handler: listLivenessAuditEntries });
