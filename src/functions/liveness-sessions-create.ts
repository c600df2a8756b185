import { START_SESSION_FORM_FIELDS, START_SESSION_FORM_FILES, parseIdempotencyKey, parseStartSessionForm } from '../contract/requests.js';
import { ValidationError } from '../core/errors.js';
import type { DeviceCaller } from '../core/ports.js';
import { startSession } from '../core/start-session.js';
import { deviceHttp } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json, readMultipart } from '../shared/http.js';

/** POST /api/liveness-sessions — the device (bearer token) starts a liveness check with its verify image. */
export const createLivenessSession: HttpRoute<DeviceCaller> = async ({ request, deps, caller }) => {
  const idempotencyKey = parseIdempotencyKey(request.headers);
  const body = await readMultipart(request, START_SESSION_FORM_FIELDS, START_SESSION_FORM_FILES);
  const verifyImage = body.files.verifyImage;
  if (!verifyImage) throw new ValidationError('MissingVerifyImage', "The form must include a 'verifyImage' file part.");
  const fields = parseStartSessionForm(body.fields);
  const { replayed, ...started } = await startSession(deps, { caller, fields, verifyImage: verifyImage.bytes, idempotencyKey });
  return json(201, started, {
    location: `/api/liveness-sessions/${started.sessionId}`,
    ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
  });
};

deviceHttp('liveness-sessions-create', { route: 'liveness-sessions', methods: ['POST'], handler: createLivenessSession });
