import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loadDeps } from '../services.js';
import { requestCompletion } from '../core/complete-session.js';
import { deviceCaller } from '../shared/auth.js';
import { contextLogger } from '../shared/logger.js';
import { json, sessionIdParam, toErrorResponse } from '../shared/http.js';

/** POST /api/liveness-sessions/{sessionId}/complete — the device says its capture is done. Idempotent. */
export async function completeLivenessSession(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const caller = await deviceCaller(request, context);
    const sessionId = sessionIdParam(request);
    await requestCompletion(await loadDeps(context), sessionId, caller);
    // The device learns that the request was accepted, never the decision or scores.
    return json(202, { sessionId, status: 'Accepted' });
  } catch (error) {
    return toErrorResponse(error, contextLogger(context));
  }
}

app.http('liveness-sessions-complete', {
  route: 'liveness-sessions/{sessionId}/complete',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: completeLivenessSession,
});
