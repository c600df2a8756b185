import type { HttpRequest } from '@azure/functions';
import { NotFoundError } from '../core/errors.js';
import { getSessionImage, type SessionImage } from '../core/queries.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { SECURITY_HEADERS, sessionIdParam } from '../shared/http.js';

/**
 * Biometric images reach the back office only through these routes (authenticated, never a public blob URL), are
 * never cached, and are sent as exactly the image type stored; `sandbox` keeps a browser from running anything in them.
 */
function imageResponse(image: SessionImage) {
  return {
    status: 200,
    body: image.bytes,
    headers: { ...SECURITY_HEADERS, 'content-type': image.contentType, 'content-security-policy': "default-src 'none'; sandbox" },
  };
}

/** Attempt ids are Face's positive integers; anything else cannot name an image. */
function attemptIdParam(request: HttpRequest): number {
  const raw = request.params.attemptId ?? '';
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) throw new NotFoundError('The image does not exist.', { code: 'ImageNotFound' });
  return Number(raw);
}

/** GET /api/liveness-sessions/{sessionId}/verify-image — back office: the reference photo the session was started with. */
export const getVerifyImage: OperationHandler<'getLivenessSessionVerifyImage'> = async ({ request, deps }) =>
  imageResponse(await getSessionImage(deps, sessionIdParam(request), { kind: 'verify' }));

/** GET /api/liveness-sessions/{sessionId}/session-images/{attemptId} — back office: what the camera saw in that attempt. */
export const getSessionImageOfAttempt: OperationHandler<'getLivenessSessionImage'> = async ({ request, deps }) => {
  const sessionId = sessionIdParam(request);
  return imageResponse(await getSessionImage(deps, sessionId, { kind: 'session', attemptId: attemptIdParam(request) }));
};

httpOperation('getLivenessSessionVerifyImage', getVerifyImage);
httpOperation('getLivenessSessionImage', getSessionImageOfAttempt);
