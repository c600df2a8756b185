import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { depsFor } from '../composition.js';
import { ValidationError } from '../core/errors.js';
import { parseStartSessionFields, startSession } from '../core/start-session.js';
import { contextLogger } from '../shared/logger.js';
import { json, readMultipart, toErrorResponse } from '../shared/http.js';

const FIELDS = ['deviceCorrelationId', 'livenessOperationMode', 'authTokenTimeToLiveInSeconds', 'enableSessionImage'] as const;

/** POST /api/liveness-sessions — the device starts a liveness check with its verify image. */
export async function createLivenessSession(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const deps = depsFor(context);
    const body = await readMultipart(request, FIELDS, ['verifyImage']);
    const verifyImage = body.files.verifyImage;
    if (!verifyImage) throw new ValidationError('MissingVerifyImage', "The form must include a 'verifyImage' file part.");
    const fields = parseStartSessionFields(body.fields);
    const started = await startSession(deps, fields, verifyImage.bytes);
    return json(201, started, { location: `/api/liveness-sessions/${started.sessionId}` });
  } catch (error) {
    return toErrorResponse(error, contextLogger(context));
  }
}

app.http('liveness-sessions-create', {
  route: 'liveness-sessions',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: createLivenessSession,
});
