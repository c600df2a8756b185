// The device-attestation protocol of Microsoft's back-end samples (backend_samples/OVERVIEW.md), on this app's
// sessions: POST /api/attestation/challenge, /register, /verify, /api/session/token and /api/liveness/digest. As in
// the protocol, the app authenticates with its attested key, not a bearer token: the session id is the handle, and
// only sessions created for attestation (LIVENESS_ATTESTATION_<PLATFORM>=required) answer at all. Bodies are small
// JSON, capped before they are read.
import type { HttpRequest } from '@azure/functions';
import { acceptDigest, challenge, register, releaseToken, verifyReturning, type AttestationUseCaseDeps } from '../core/device-attestation.js';
import { ConfigurationError } from '../config/errors.js';
import type { LivenessDeps } from '../core/deps.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, readJson } from '../shared/http.js';

/** Register carries two certificates and the platform attestation (an iOS receipt, an Android chain and token). */
export const MAX_ATTESTATION_BODY_BYTES = 64 * 1024;

const query = (request: HttpRequest) => Object.fromEntries(new URL(request.url).searchParams.entries());

/** The protocol's schemas (zod), loaded with its first request rather than when the functions are indexed. */
const schemas = () => import('../contract/attestation.js');

function attestationDeps(deps: LivenessDeps): AttestationUseCaseDeps {
  if (!deps.attestation) throw new ConfigurationError(['device attestation is not wired']);
  return { ...deps, attestation: deps.attestation };
}

export const attestationChallenge: OperationHandler<'attestationChallenge'> = async ({ request, deps }) => {
  const { parseAttestationIdentity } = await schemas();
  const q = parseAttestationIdentity(query(request));
  return json(200, await challenge(attestationDeps(deps), { sessionId: q.s, clientId: q.cid, platform: q.sys }));
};

export const attestationRegister: OperationHandler<'attestationRegister'> = async ({ request, deps }) => {
  const { parseAttestationIdentity, parseSignedPayload } = await schemas();
  const q = parseAttestationIdentity(query(request));
  const body = parseSignedPayload(await readJson(request, MAX_ATTESTATION_BODY_BYTES));
  return json(200, await register(attestationDeps(deps), { sessionId: q.s, clientId: q.cid, platform: q.sys }, body));
};

export const attestationVerify: OperationHandler<'attestationVerify'> = async ({ request, deps }) => {
  const { parseAttestationIdentity, parseSignedPayload } = await schemas();
  const q = parseAttestationIdentity(query(request));
  const body = parseSignedPayload(await readJson(request, MAX_ATTESTATION_BODY_BYTES));
  return json(200, await verifyReturning(attestationDeps(deps), { sessionId: q.s, clientId: q.cid, platform: q.sys }, body));
};

export const sessionToken: OperationHandler<'sessionToken'> = async ({ request, deps }) => {
  const { parseAttestationSession, parseSealedRequest } = await schemas();
  const q = parseAttestationSession(query(request));
  const body = parseSealedRequest(await readJson(request, MAX_ATTESTATION_BODY_BYTES));
  return json(200, await releaseToken(attestationDeps(deps), q.s, body));
};

export const livenessDigest: OperationHandler<'livenessDigest'> = async ({ request, deps }) => {
  const { parseAttestationSession, parseSealedRequest } = await schemas();
  const q = parseAttestationSession(query(request));
  const body = parseSealedRequest(await readJson(request, MAX_ATTESTATION_BODY_BYTES));
  return json(200, await acceptDigest(attestationDeps(deps), q.s, body));
};

httpOperation('attestationChallenge', attestationChallenge);
httpOperation('attestationRegister', attestationRegister);
httpOperation('attestationVerify', attestationVerify);
httpOperation('sessionToken', sessionToken);
httpOperation('livenessDigest', livenessDigest);
