import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { loadDeps } from '../services.js';
import { getSession } from '../core/queries.js';
import { backOfficeHttp } from '../shared/auth.js';
import { contextLogger } from '../shared/logger.js';
import { json, sessionIdParam, toErrorResponse } from '../shared/http.js';

/** GET /api/liveness-sessions/{sessionId} — back office: the session and its latest result. */
export async function getLivenessSession(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return json(200, await getSession(await loadDeps(context), sessionIdParam(request)));
  } catch (error) {
    return toErrorResponse(error, contextLogger(context));
  }
}

backOfficeHttp('liveness-sessions-get', { route: 'liveness-sessions/{sessionId}', methods: ['GET'], handler: getLivenessSession });
