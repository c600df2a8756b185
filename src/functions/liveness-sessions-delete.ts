import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { loadDeps } from '../services.js';
import { deleteSession } from '../core/delete-session.js';
import { backOfficeHttp } from '../shared/auth.js';
import { contextLogger } from '../shared/logger.js';
import { sessionIdParam, toErrorResponse } from '../shared/http.js';

/** DELETE /api/liveness-sessions/{sessionId} — back office: Face session, images and records. */
export async function deleteLivenessSession(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    await deleteSession(await loadDeps(context), sessionIdParam(request));
    return { status: 204 };
  } catch (error) {
    return toErrorResponse(error, contextLogger(context));
  }
}

backOfficeHttp('liveness-sessions-delete', { route: 'liveness-sessions/{sessionId}', methods: ['DELETE'], handler: deleteLivenessSession });
