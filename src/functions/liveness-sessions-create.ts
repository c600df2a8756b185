import { startSession } from '../core/start-session.js';
import { assertConsent } from '../core/consent.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, readMultipart } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/**
 * POST /api/liveness-sessions — the device (bearer token) starts a liveness check, against the subject's enrolled
 * reference or with its own verify image. A wrong consent version refuses the body the moment its field is parsed;
 * a missing one, once the body is read; either way before anything is stored.
 */
export const createLivenessSession: OperationHandler<'createLivenessSession'> = async ({ request, deps, caller }) => {
  const { START_SESSION_FORM_FIELDS, START_SESSION_FORM_FILES, parseIdempotencyKey, parseStartSessionForm } = await contract();
  const idempotencyKey = parseIdempotencyKey(request.headers);
  const privacy = deps.settings.privacy;
  const body = await readMultipart(request, START_SESSION_FORM_FIELDS, START_SESSION_FORM_FILES, {
    onField: (name, value) => { if (name === 'consentVersion') assertConsent(privacy, value); },
  });
  assertConsent(privacy, body.fields.consentVersion);
  const fields = parseStartSessionForm(body.fields);
  const { replayed, attestationRequired, platform, authToken, quickLink, ...started } = await startSession(deps, { caller, fields, verifyImage: body.files.verifyImage?.bytes, idempotencyKey });
  // Under LIVENESS_ATTESTATION_<PLATFORM>=required the token goes only to an attested app, through the protocol.
  // Under FACE_QUICK_LINK=on a link's session runs on Face's hosted page: the page gets its address, not the token.
  const answer = attestationRequired
    ? { ...started, attestation: { required: true, platform, message: 'Device attestation is required: the app gets its token through POST /api/attestation/challenge, /api/attestation/register (or /verify) and /api/session/token.' } }
    : quickLink && caller.verificationId !== undefined
      ? { ...started, quickLinkUrl: quickLinkUrl(request.url, deps.settings.verifications.quickLinkEndpoint, caller.verificationId, quickLink) }
      : { ...started, authToken };
  return json(201, answer, {
    location: `/api/liveness-sessions/${started.sessionId}`,
    ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
  });
};

/** `<Face endpoint>/?s=<id>&callbackUrl=<this app's callback with the session's secret>`. */
function quickLinkUrl(requestUrl: string, endpoint: string, verificationId: string, link: { id: string; callbackSecret: string }): string {
  const callback = `${new URL(requestUrl).origin}/api/verifications/${verificationId}/quick-link-callback?secret=${link.callbackSecret}`;
  return `${endpoint}/?s=${encodeURIComponent(link.id)}&callbackUrl=${encodeURIComponent(callback)}`;
}

httpOperation('createLivenessSession', createLivenessSession);
