import { ValidationError } from '../core/errors.js';
import { parseStartSessionFields, startSession } from '../core/start-session.js';
import { deviceHttp } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json, readMultipart } from '../shared/http.js';
import type { DeviceCaller } from '../core/ports.js';

const FIELDS = ['deviceCorrelationId', 'livenessOperationMode', 'authTokenTimeToLiveInSeconds', 'enableSessionImage'] as const;

/** POST /api/liveness-sessions — the device (bearer token) starts a liveness check with its verify image. */
export const createLivenessSession: HttpRoute<DeviceCaller> = async ({ request, deps, caller }) => {
  const idempotencyKey = request.headers.get('idempotency-key') ?? undefined;
  if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
    throw new ValidationError('InvalidIdempotencyKey', 'Idempotency-Key must be 1 to 255 printable ASCII characters.');
  }
  const body = await readMultipart(request, FIELDS, ['verifyImage']);
  const verifyImage = body.files.verifyImage;
  if (!verifyImage) throw new ValidationError('MissingVerifyImage', "The form must include a 'verifyImage' file part.");
  const fields = parseStartSessionFields(body.fields);
  const { replayed, ...started } = await startSession(deps, { caller, fields, verifyImage: verifyImage.bytes, idempotencyKey });
  return json(201, started, {
    location: `/api/liveness-sessions/${started.sessionId}`,
    ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
  });
};

deviceHttp('liveness-sessions-create', { route: 'liveness-sessions', methods: ['POST'], handler: createLivenessSession });
