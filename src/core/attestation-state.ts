// The device-attestation state a session carries (types only, no imports: session.ts and attestation.ts both use
// them). The rules are in attestation.ts.
export const DEVICE_PLATFORMS = ['ios', 'android', 'web'] as const;
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number];
export type AttestedPlatform = Exclude<DevicePlatform, 'web'>;
export type AttestationPolicy = 'off' | 'required';

/** Where a session's attestation stands; each step happens once. */
export type AttestationStage = 'challenged' | 'keyed' | 'tokenReleased' | 'digested';

export interface SessionAttestation {
  platform: AttestedPlatform;
  /** The client id the app sent with the challenge (`cid`); every later call must repeat it. */
  clientId: string;
  /** 64 hex digits: the one-time challenge (its bytes are App Attest's clientDataHash / Key Attestation's challenge). */
  challengeHash: string;
  challengeDateTime: string;
  stage: AttestationStage;
  /** SHA-256 (hex) of the registered request-signing certificate: the device's key in the DeviceRegistry. */
  deviceThumbprint?: string;
  /** The device's request-signing key and its per-session encryption key (SPKI PEM). */
  clientAuthKeyPem?: string;
  clientEncryptionKeyPem?: string;
  /** This session's server key pair (the private key is dropped once the digest is in). */
  serverPublicKeyPem?: string;
  serverPrivateKeyPem?: string;
}
