// Verifications: a relying party's back end (Entra ID app role) creates a check for one of its users and gets a
// single-use link; it reads the result and can cancel. The back office lists verifications and issues new links.
// The core hands out link tokens; the URL is built here (the pages' origin is the edge's business).
import { ConfigurationError } from '../config/errors.js';
import {
  cancelVerification, createVerification, listVerifications, quickLinkCallback, readVerification, reissueLink, type IssuedLink, type VerificationView,
} from '../core/verifications.js';
import { NotFoundError } from '../core/errors.js';
import type { AppServices } from '../composition.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, readMultipart } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/** `<pages origin>/device/?verification=<id>#link=<token>`: the token in the fragment never reaches a server log. */
function pagesOrigin(services: AppServices): string {
  if (!services.pagesOrigin) {
    throw new ConfigurationError(['PAGES_ORIGIN: required for verification links (the device page the links open) (missing)']);
  }
  return services.pagesOrigin;
}

function linkUrl(services: AppServices, issued: IssuedLink): string {
  pagesOrigin(services);
  return `${services.pagesOrigin}/device/?verification=${issued.verificationId}#link=${issued.linkToken}`;
}

const verificationId = (params: Record<string, string | undefined>): string => {
  const id = params.verificationId ?? '';
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(id)) {
    throw new NotFoundError('The verification does not exist.', { code: 'VerificationNotFound' });
  }
  return id.toLowerCase();
};

/** POST /api/verifications — the relying party starts a check; 201 with the link. */
export const createVerificationHandler: OperationHandler<'createVerification'> = async ({ request, deps, services, caller }) => {
  const { CREATE_VERIFICATION_FORM_FIELDS, CREATE_VERIFICATION_FORM_FILES, parseCreateVerificationForm, parseIdempotencyKey } = await contract();
  pagesOrigin(services); // a misconfiguration refuses before the body is read
  const idempotencyKey = parseIdempotencyKey(request.headers);
  const body = await readMultipart(request, CREATE_VERIFICATION_FORM_FIELDS, CREATE_VERIFICATION_FORM_FILES);
  const fields = parseCreateVerificationForm(body.fields);
  const { replayed, ...issued } = await createVerification(deps, {
    owner: caller.owner, fields, referenceImage: body.files.referenceImage?.bytes, ...(idempotencyKey ? { idempotencyKey } : {}),
  });
  return json(201, { verificationId: issued.verificationId, url: linkUrl(services, issued), expiresDateTime: issued.expiresDateTime }, {
    location: `/api/verifications/${issued.verificationId}`,
    ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
  });
};

const readView = ({ sessionId: _sessionId, ...rest }: VerificationView) => rest;

/** GET /api/verifications/{verificationId} — the relying party reads its verification. */
export const getVerificationHandler: OperationHandler<'getVerification'> = async ({ request, deps, caller }) =>
  json(200, readView(await readVerification(deps, verificationId(request.params), caller.owner)));

/** DELETE /api/verifications/{verificationId} — the relying party cancels; the link then answers 410. */
export const cancelVerificationHandler: OperationHandler<'cancelVerification'> = async ({ request, deps, caller }) => {
  await cancelVerification(deps, verificationId(request.params), caller.owner);
  return { status: 204 };
};

/** GET /api/verifications (back office) — newest first, paged. */
export const listVerificationsHandler: OperationHandler<'listVerifications'> = async ({ request, deps }) => {
  const { parseQuery, listVerificationsQuerySchema, listVerificationsQueryCodes } = await contract();
  const query = parseQuery(listVerificationsQuerySchema, request.query, listVerificationsQueryCodes);
  const page = await listVerifications(deps, query.top, query.continuationToken);
  return json(200, {
    value: page.items.map((v) => ({
      verificationId: v.verificationId, status: v.status, linkState: v.linkState, origin: 'link',
      createdDateTime: v.createdDateTime, expiresDateTime: v.expiresDateTime,
      ...(v.sessionId ? { sessionId: v.sessionId } : {}),
      ...(v.clientReferenceId !== undefined ? { clientReferenceId: v.clientReferenceId } : {}),
    })),
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  });
};

/** POST /api/verifications/{verificationId}/link (back office) — a new link (the console shows it as a QR code). */
export const reissueVerificationLinkHandler: OperationHandler<'reissueVerificationLink'> = async ({ request, deps, services }) => {
  pagesOrigin(services);
  const issued = await reissueLink(deps, verificationId(request.params));
  return json(200, { url: linkUrl(services, issued), expiresDateTime: issued.expiresDateTime });
};

httpOperation('createVerification', createVerificationHandler);
httpOperation('getVerification', getVerificationHandler);
httpOperation('cancelVerification', cancelVerificationHandler);
httpOperation('listVerifications', listVerificationsHandler);
httpOperation('reissueVerificationLink', reissueVerificationLinkHandler);

/** The Quick Link callback's verification id and secret (query), or 404 before anything is read. */
async function callbackParams(request: { params: Record<string, string | undefined>; query: URLSearchParams }): Promise<[string, string]> {
  const secret = request.query.get('secret') ?? '';
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) throw new NotFoundError('The verification does not exist.', { code: 'VerificationNotFound' });
  return [verificationId(request.params), secret];
}

/** GET …/quick-link-callback — the browser back from Face's hosted page: collect, then the page's result view. */
export const quickLinkCallbackHandler: OperationHandler<'quickLinkCallback'> = async ({ request, deps, services }) => {
  const [id, secret] = await callbackParams(request);
  await quickLinkCallback(deps, id, secret);
  return { status: 303, headers: { location: `${pagesOrigin(services)}/device/?verification=${id}&quickLink=done` } };
};

/** POST …/quick-link-callback — Face, server to server: collect. */
export const quickLinkCallbackNotifyHandler: OperationHandler<'quickLinkCallbackNotify'> = async ({ request, deps }) => {
  const [id, secret] = await callbackParams(request);
  await quickLinkCallback(deps, id, secret);
  return { status: 204 };
};

httpOperation('quickLinkCallback', quickLinkCallbackHandler);
httpOperation('quickLinkCallbackNotify', quickLinkCallbackNotifyHandler);
