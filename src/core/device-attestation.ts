// Use cases of the device-attestation protocol (Microsoft's backend_samples, same endpoints and payloads): a one-time
// challenge, first-run registration or a returning device's verification (either one gives the session its keys),
// the Face token released once, encrypted to the device, and the SDK's result digest stored with the session.
// Every step checks the session's binding (challenge, client id, platform) and moves its state forward exactly once,
// through the session's one write path.
import {
  advanceCounter, assertBinding, assertStage, attestableSession, AttestationRefusedError, issueChallenge, keyed,
  type AttestationDeps, type AttestedPlatform, type RegisteredDevice,
} from './attestation.js';
import type { LivenessDeps } from './deps.js';
import { ConflictError, FaceSessionNotFoundError, NotFoundError, ValidationError } from './errors.js';
import type { LivenessSession } from './session.js';

export type AttestationUseCaseDeps = Pick<LivenessDeps, 'sessions' | 'clock' | 'face' | 'logger'> & { attestation: AttestationDeps };

/** Query of the identity-bearing calls: `s`, `cid`, `sys`. */
export interface DeviceIdentity { sessionId: string; clientId: string; platform: AttestedPlatform }
/** Body of register/verify: a signed JSON payload, the signing certificate, and (iOS verify) an App Attest assertion. */
export interface SignedPayload { payload: string; authPublicCert: string; signature: string; assertion?: string }
/** Body of token/digest: ECIES ciphertext (base64) signed by the device key, and (iOS) an assertion over it. */
export interface SealedRequest { encryptedData: string; signature: string; assertion?: string }

async function load(deps: AttestationUseCaseDeps, sessionId: string): Promise<LivenessSession> {
  return attestableSession(await deps.sessions.get(sessionId), deps.clock.now());
}

/** Writes the next attestation state only if the state it was derived from is still the stored one. */
async function advance(deps: AttestationUseCaseDeps, session: LivenessSession, change: (current: LivenessSession) => LivenessSession): Promise<LivenessSession> {
  const before = JSON.stringify(session.attestation ?? null);
  const written = await deps.sessions.mutate(session.sessionId, (current) => {
    if (JSON.stringify(current.attestation ?? null) !== before) throw new ConflictError('AttestationChanged', 'Another call changed this session\'s attestation; start again.');
    return change(current);
  });
  if (!written) throw new NotFoundError();
  return written;
}

export async function challenge(deps: AttestationUseCaseDeps, identity: DeviceIdentity): Promise<{ challengeHash: string; clientId: string; system: AttestedPlatform }> {
  const session = await load(deps, identity.sessionId);
  const challengeHash = deps.attestation.crypto.randomChallenge();
  const state = issueChallenge(session, identity, challengeHash, deps.clock.now());
  await advance(deps, session, (current) => ({ ...current, attestation: state }));
  return { challengeHash, clientId: identity.clientId, system: identity.platform };
}

interface RegistrationPayload { challengeHash: string; encryptionPublicCert: string; attestJson?: string }

function parsePayload(payload: string, withAttestation: boolean): RegistrationPayload {
  let parsed: Record<string, unknown>;
  try { parsed = JSON.parse(payload) as Record<string, unknown>; } catch { throw new ValidationError('InvalidPayload', 'payload must be a JSON string.'); }
  const text = (key: string) => (typeof parsed?.[key] === 'string' && (parsed[key]).length > 0 ? parsed[key] : undefined);
  const challengeHash = text('challengeHash');
  const encryptionPublicCert = text('encryptionPublicCert');
  const attestJson = text('attestJson');
  if (!challengeHash || !encryptionPublicCert || (withAttestation && !attestJson)) {
    throw new ValidationError('InvalidPayload', `payload must contain challengeHash, encryptionPublicCert${withAttestation ? ' and attestJson' : ''}.`);
  }
  return { challengeHash, encryptionPublicCert, attestJson };
}

/** The checks register and verify share: the binding, the signing key's signature over the payload, the two keys. */
function signedKeys(deps: AttestationUseCaseDeps, session: LivenessSession, identity: DeviceIdentity, body: SignedPayload, withAttestation: boolean) {
  const payload = parsePayload(body.payload, withAttestation);
  const state = assertStage(assertBinding(session.attestation, { ...payload, clientId: identity.clientId, platform: identity.platform }), 'challenged');
  const { crypto } = deps.attestation;
  const now = deps.clock.now();
  const clientAuthKeyPem = crypto.p256KeyOf(body.authPublicCert, now);
  if (!crypto.verifySignature(body.payload, body.signature, clientAuthKeyPem)) {
    throw new AttestationRefusedError('PayloadSignatureInvalid', 'The payload signature does not verify with the signing certificate.');
  }
  const clientEncryptionKeyPem = crypto.p256KeyOf(payload.encryptionPublicCert, now);
  return { payload, state, clientAuthKeyPem, clientEncryptionKeyPem, thumbprint: crypto.thumbprint(body.authPublicCert) };
}

async function giveKeys(deps: AttestationUseCaseDeps, session: LivenessSession, keys: { thumbprint: string; clientAuthKeyPem: string; clientEncryptionKeyPem: string }): Promise<string> {
  const server = deps.attestation.crypto.generateKeyPair();
  await advance(deps, session, (current) => ({
    ...current,
    attestation: keyed(current.attestation!, {
      deviceThumbprint: keys.thumbprint, clientAuthKeyPem: keys.clientAuthKeyPem, clientEncryptionKeyPem: keys.clientEncryptionKeyPem,
      serverPublicKeyPem: server.publicKeyPem, serverPrivateKeyPem: server.privateKeyPem,
    }),
  }));
  return server.publicKeyPem;
}

/** First run: the platform's attestation, then the device is remembered and the session gets its keys. */
export async function register(deps: AttestationUseCaseDeps, identity: DeviceIdentity, body: SignedPayload): Promise<{ message: string; serverEncryptionPublicKey: string }> {
  const session = await load(deps, identity.sessionId);
  const checked = signedKeys(deps, session, identity, body, true);
  const now = deps.clock.now();
  const { verifiers, devices, deviceTtlSeconds } = deps.attestation;
  let device: RegisteredDevice = {
    thumbprint: checked.thumbprint, clientId: identity.clientId, platform: identity.platform, signCount: 0,
    registeredDateTime: now.toISOString(), expiresDateTime: new Date(now.getTime() + deviceTtlSeconds * 1000).toISOString(),
  };
  if (identity.platform === 'ios') {
    const ios = await verifiers.ios(checked.payload.attestJson!, checked.state.challengeHash, body.authPublicCert, now);
    device = { ...device, credCertPem: ios.credCertPem, signCount: advanceCounter(0, ios.signCount) };
  } else {
    await verifiers.android(checked.payload.attestJson!, checked.state.challengeHash, body.authPublicCert, now);
  }
  const earlier = await devices.get(device.thumbprint);
  if (!(await devices.put(device, earlier?.etag))) {
    throw new ConflictError('DeviceChanged', 'Another call registered this device key at the same time; start again.');
  }
  const serverEncryptionPublicKey = await giveKeys(deps, session, checked);
  deps.logger.info('device attested', { sessionId: session.sessionId, platform: identity.platform });
  return { message: 'Certificate stored successfully', serverEncryptionPublicKey };
}

/** An iOS call after registration: a fresh assertion over the exact bytes the request signs, its counter grown. */
async function freshAssertion(deps: AttestationUseCaseDeps, device: RegisteredDevice & { etag: string }, assertion: string | undefined, clientData: string): Promise<void> {
  if (device.platform !== 'ios') return;
  if (!device.credCertPem) throw new AttestationRefusedError('DeviceNotAttested', 'The device has no App Attest credential; register again.');
  const presented = deps.attestation.verifiers.iosAssertion(device.credCertPem, assertion, Buffer.from(clientData, 'utf8'));
  const next = advanceCounter(device.signCount, presented);
  if (!(await deps.attestation.devices.advance(device, next))) {
    throw new AttestationRefusedError('ReplayedAssertion', 'Another call used this device\'s counter first.');
  }
}

async function registeredDevice(deps: AttestationUseCaseDeps, thumbprint: string | undefined) {
  const device = thumbprint ? await deps.attestation.devices.get(thumbprint) : undefined;
  if (!device || Date.parse(device.expiresDateTime) <= deps.clock.now().getTime()) return undefined;
  return device;
}

/** A returning device: known signing key (for this client and platform), and on iOS a fresh assertion. */
export async function verifyReturning(deps: AttestationUseCaseDeps, identity: DeviceIdentity, body: SignedPayload): Promise<{ exists: boolean; serverEncryptionPublicKey?: string }> {
  const session = await load(deps, identity.sessionId);
  const checked = signedKeys(deps, session, identity, body, false);
  const device = await registeredDevice(deps, checked.thumbprint);
  if (!device) return { exists: false };
  if (device.clientId !== identity.clientId || device.platform !== identity.platform) {
    throw new AttestationRefusedError('ClientMismatch', 'The device was registered for another client or platform.');
  }
  await freshAssertion(deps, device, body.assertion, body.payload);
  return { exists: true, serverEncryptionPublicKey: await giveKeys(deps, session, checked) };
}

/** The checks token and digest share: the device's signature over the ciphertext, the iOS assertion, decryption. */
async function openSealed(deps: AttestationUseCaseDeps, session: LivenessSession, stage: 'keyed' | 'tokenReleased', body: SealedRequest): Promise<Record<string, unknown>> {
  const state = assertStage(session.attestation, stage);
  const { crypto } = deps.attestation;
  if (!crypto.verifySignature(body.encryptedData, body.signature, state.clientAuthKeyPem!)) {
    throw new AttestationRefusedError('SignatureInvalid', 'The request signature does not verify with the device key.');
  }
  if (state.platform === 'ios') {
    const device = await registeredDevice(deps, state.deviceThumbprint);
    if (!device) throw new AttestationRefusedError('DeviceNotAttested', 'The device registration has expired; start again.');
    await freshAssertion(deps, device, body.assertion, body.encryptedData);
  }
  if (!state.serverPrivateKeyPem) throw new AttestationRefusedError('DecryptionFailed', 'This session no longer accepts encrypted requests.');
  try {
    const parsed: unknown = JSON.parse(crypto.decrypt(body.encryptedData, state.serverPrivateKeyPem));
    if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof AttestationRefusedError) throw error;
  }
  throw new AttestationRefusedError('DecryptedPayloadInvalid', 'The decrypted request is not a JSON object.');
}

/** The Face token, once, to the attested device: encrypted to the key it chose for this session. */
export async function releaseToken(deps: AttestationUseCaseDeps, sessionId: string, body: SealedRequest): Promise<{ encryptedData: string }> {
  const session = await load(deps, sessionId);
  const message = await openSealed(deps, session, 'keyed', body);
  const state = session.attestation!;
  if (message.challengeHash !== state.challengeHash || message.clientId !== state.clientId || message.system !== state.platform) {
    throw new AttestationRefusedError('PayloadMismatch', 'The request is not bound to this session\'s challenge, client and platform.');
  }
  if (session.status !== 'NotStarted' || !session.faceSessionId || session.faceSessionDeleted) {
    throw new ConflictError('SessionNotStarted', 'The session is no longer waiting for a capture.');
  }
  // The token is not stored: Face hands it out again on a read of its session (one call, once per session).
  let token: string | undefined;
  try {
    token = (await deps.face.get(session.faceSessionId)).authToken;
  } catch (error) {
    if (error instanceof FaceSessionNotFoundError) throw new ConflictError('SessionNoLongerActive', 'The Face session has ended; start a new one.');
    throw error;
  }
  if (!token) throw new ConflictError('SessionNoLongerActive', 'The Face session no longer has a token; start a new one.');
  // Claimed before it is answered: of two racing requests, only the one whose write wins gets the token.
  await advance(deps, session, (current) => ({ ...current, attestation: { ...assertStage(current.attestation, 'keyed'), stage: 'tokenReleased' } }));
  return { encryptedData: deps.attestation.crypto.encrypt(JSON.stringify({ token, timestamp: deps.clock.now().toISOString() }), state.clientEncryptionKeyPem!) };
}

export const MAX_DIGEST_LENGTH = 512;

/** The SDK's result digest, signed and sealed by the attested device; stored with the session for the digest binding. */
export async function acceptDigest(deps: AttestationUseCaseDeps, sessionId: string, body: SealedRequest): Promise<{ encryptedData: string }> {
  const session = attestableDigestSession(await deps.sessions.get(sessionId));
  const message = await openSealed(deps, session, 'tokenReleased', body);
  const state = session.attestation!;
  const cid = typeof message.cid === 'string' ? message.cid.trim() : '';
  if (!cid) throw new ValidationError('MissingCid', 'The digest payload must carry cid.');
  if (cid !== state.clientId || message.os !== state.platform) throw new AttestationRefusedError('ClientMismatch', 'The digest is not from this session\'s client and platform.');
  const digest = typeof message.digest === 'string' ? message.digest.trim() : '';
  if (!digest || digest.length > MAX_DIGEST_LENGTH || !/^[\x21-\x7e]+$/.test(digest)) {
    throw new ValidationError('InvalidDigest', `The digest must be 1 to ${MAX_DIGEST_LENGTH} printable characters.`);
  }
  const now = deps.clock.now();
  await advance(deps, session, (current) => {
    const { serverPrivateKeyPem: _dropped, ...rest } = assertStage(current.attestation, 'tokenReleased');
    return { ...current, attestation: { ...rest, stage: 'digested' }, attestedDigest: { digest, source: 'attestation', receivedDateTime: now.toISOString() } };
  });
  return { encryptedData: deps.attestation.crypto.encrypt(JSON.stringify({ success: true, timestamp: now.toISOString() }), state.clientEncryptionKeyPem!) };
}

/** The digest may arrive after the capture (and after complete), but not once the result is in or the session is gone. */
function attestableDigestSession(session: LivenessSession | undefined): LivenessSession {
  if (!session || !session.attestationRequired || session.deleting) throw new NotFoundError();
  if (session.status !== 'NotStarted' && session.status !== 'Started') {
    throw new ConflictError('SessionFinished', 'The session already has its result.');
  }
  return session;
}
