import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loadDeps } from '../services.js';
import { deviceStatus } from '../core/complete-session.js';
import { deviceCaller } from '../shared/auth.js';
import { contextLogger } from '../shared/logger.js';
import { json, sessionIdParam, toErrorResponse } from '../shared/http.js';

/** GET /api/liveness-sessions/{sessionId}/status — the device polls its own session: pending, pass, fail or retry. */
export async function getLivenessSessionStatus(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const caller = await deviceCaller(request, context);
    return json(200, await deviceStatus(await loadDeps(context), sessionIdParam(request), caller));
  } catch (error) {
    return toErrorResponse(error, contextLogger(context));
  }
}

app.http('liveness-sessions-status', {
  route: 'liveness-sessions/{sessionId}/status',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: getLivenessSessionStatus,
});
