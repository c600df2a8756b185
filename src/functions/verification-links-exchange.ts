import { exchangeLink } from '../core/verifications.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, readJson } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/**
 * POST /api/verification-links/exchange — the page opened from a verification link trades the link token (from the
 * URL fragment, sent in this body: never in a URL, so never in a log) for a short-lived access token. Single use.
 */
export const exchangeVerificationLink: OperationHandler<'exchangeVerificationLink'> = async ({ request, deps }) => {
  const { parseJsonBody, exchangeLinkRequestSchema } = await contract();
  const { token } = parseJsonBody(exchangeLinkRequestSchema, await readJson(request), { token: 'InvalidLinkToken' });
  return json(200, await exchangeLink(deps, token));
};

httpOperation('exchangeVerificationLink', exchangeVerificationLink);
