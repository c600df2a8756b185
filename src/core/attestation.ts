// Attested mobile devices (Microsoft's device-attestation protocol, backend_samples/OVERVIEW.md): the rules, as pure
// functions, and the ports the use cases in device-attestation.ts need. A session created for a platform whose policy
// is `required` holds its Face token back; the device gets it only through challenge → register (or verify) → token,
// and then reports the SDK's result digest. Each step moves the session's attestation state forward exactly once.
import { AppError, ConflictError, NotFoundError } from './errors.js';
import type { AttestationPolicy, AttestationStage, AttestedPlatform, DevicePlatform, SessionAttestation } from './attestation-state.js';
import type { LivenessSession } from './session.js';

export { DEVICE_PLATFORMS } from './attestation-state.js';
export type { AttestationPolicy, AttestationStage, AttestedPlatform, DevicePlatform, SessionAttestation } from './attestation-state.js';

/** An attestation refused: 401 with the reason as the code (forged, replayed, cross-session, wrong app...). */
export class AttestationRefusedError extends AppError {
  constructor(reason: string, message: string) { super(reason, message); }
}

/** A device registered by /api/attestation/register, found again by /api/attestation/verify. */
export interface RegisteredDevice {
  thumbprint: string;
  clientId: string;
  platform: AttestedPlatform;
  /** iOS: the App Attest credential certificate (PEM) later assertions are checked against. */
  credCertPem?: string;
  /** iOS: the highest assertion counter seen; every new assertion must exceed it. */
  signCount: number;
  registeredDateTime: string;
  expiresDateTime: string;
}

export interface DeviceRegistry {
  get(thumbprint: string): Promise<(RegisteredDevice & { etag: string }) | undefined>;
  /**
   * Writes a registration conditionally: with the ETag of the row read (replacing an earlier registration of the same
   * key), or without one as an insert that fails when the row exists. Never an unconditional write.
   * @returns false when another call wrote the row first
   */
  put(device: RegisteredDevice, etag: string | undefined): Promise<boolean>;
  /** Advances the counter if the record is unchanged since it was read. @returns false when another call won */
  advance(device: RegisteredDevice & { etag: string }, signCount: number): Promise<boolean>;
}

/** The cryptography of the protocol (src/adapters/attestation). */
export interface AttestationCrypto {
  randomChallenge(): string;
  /** SHA-256 hex of a PEM certificate's DER. */
  thumbprint(certPem: string): string;
  /** The P-256 public key (SPKI PEM) of a certificate valid at `now`. @throws AttestationRefusedError */
  p256KeyOf(certPem: string, now: Date): string;
  verifySignature(data: string, signatureBase64: string, publicKeyPem: string): boolean;
  generateKeyPair(): { publicKeyPem: string; privateKeyPem: string };
  encrypt(plaintext: string, recipientPublicKeyPem: string): string;
  /** @throws AttestationRefusedError when the ciphertext does not open */
  decrypt(sealed: string, privateKeyPem: string): string;
}

/** The platforms' own proofs (App Attest; Key Attestation + Play Integrity). All throw AttestationRefusedError. */
export interface PlatformVerifiers {
  ios(attestJson: string, challengeHash: string, authCertPem: string, now: Date): Promise<{ credCertPem: string; signCount: number }>;
  /** @returns the assertion's counter (the caller checks that it grew) */
  iosAssertion(credCertPem: string, assertion: string | undefined, clientData: Uint8Array): number;
  android(attestJson: string, challengeHash: string, authCertPem: string, now: Date): Promise<void>;
}

export interface AttestationDeps {
  crypto: AttestationCrypto;
  verifiers: PlatformVerifiers;
  devices: DeviceRegistry;
  /** How long a registered device may use /verify instead of registering again. */
  deviceTtlSeconds: number;
}

/** Whether a session created for `platform` must go through attestation before its token is released. */
export function attestationRequired(platform: DevicePlatform | undefined, policy: Record<AttestedPlatform, AttestationPolicy> | undefined): boolean {
  return platform !== undefined && platform !== 'web' && policy?.[platform] === 'required';
}

/** The session the protocol may act on: one created for attestation on this platform, still waiting for its capture. */
export function attestableSession(session: LivenessSession | undefined, now: Date): LivenessSession {
  if (!session || !session.attestationRequired || session.deleting || session.status === 'Creating') throw new NotFoundError();
  if (now.getTime() >= Date.parse(session.authTokenExpiresDateTime)) throw new ConflictError('SessionExpired', 'The session token has expired; start a new session.');
  return session;
}

/** One challenge per session, bound to the platform it was created for and the client asking. */
export function issueChallenge(session: LivenessSession, request: { platform: AttestedPlatform; clientId: string }, challengeHash: string, now: Date): SessionAttestation {
  if (session.attestation) throw new ConflictError('ChallengeAlreadyIssued', 'A challenge was already issued for this session.');
  if (session.platform !== request.platform) throw new AttestationRefusedError('PlatformMismatch', 'The session was created for another platform.');
  if (session.status !== 'NotStarted') throw new ConflictError('SessionNotStarted', 'The session is no longer waiting for a capture.');
  return { platform: request.platform, clientId: request.clientId, challengeHash, challengeDateTime: now.toISOString(), stage: 'challenged' };
}

/** A register/verify call must repeat the session's challenge, client id and platform (no proof from another session). */
export function assertBinding(state: SessionAttestation | undefined, presented: { challengeHash: string; clientId: string; platform: string }): SessionAttestation {
  if (!state) throw new ConflictError('ChallengeNotIssued', 'Ask for a challenge first (POST /api/attestation/challenge).');
  if (presented.challengeHash !== state.challengeHash) throw new AttestationRefusedError('ChallengeMismatch', 'The challenge is not this session\'s.');
  if (presented.clientId !== state.clientId || presented.platform !== state.platform) {
    throw new AttestationRefusedError('ClientMismatch', 'The client id or platform is not the one the challenge was issued to.');
  }
  return state;
}

/** The stage a step needs; a step done twice (a replay) is refused. */
export function assertStage(state: SessionAttestation | undefined, expected: AttestationStage): SessionAttestation {
  if (!state) throw new ConflictError('ChallengeNotIssued', 'Ask for a challenge first (POST /api/attestation/challenge).');
  if (state.stage !== expected) {
    throw new ConflictError('AttestationStepOutOfOrder', `This step needs the attestation to be '${expected}', but it is '${state.stage}'.`);
  }
  return state;
}

/** App Attest counters only grow: an assertion whose counter did not exceed the last one seen is a replay. */
export function advanceCounter(last: number, presented: number): number {
  if (!Number.isSafeInteger(presented) || presented <= last) {
    throw new AttestationRefusedError('ReplayedAssertion', 'The assertion counter did not increase.');
  }
  return presented;
}

/** The keys step (register or verify) moves the session from challenged to keyed. */
export function keyed(state: SessionAttestation, keys: Required<Pick<SessionAttestation, 'deviceThumbprint' | 'clientAuthKeyPem' | 'clientEncryptionKeyPem' | 'serverPublicKeyPem' | 'serverPrivateKeyPem'>>): SessionAttestation {
  return { ...assertStage(state, 'challenged'), ...keys, stage: 'keyed' };
}
