// Apple App Attest, as Microsoft's device-attestation protocol uses it (backend_samples/OVERVIEW.md, "iOS
// registration"; Apple's "Validating apps that connect to your server"). Registration carries an attestation (CBOR:
// fmt "apple-appattest", attStmt.x5c = [credCert, intermediate], authData) made with clientDataHash = the session's
// challenge bytes, and an assertion over SHA-256 of the request-signing certificate (DER), which binds that separate
// Secure Enclave key to the attested one. Later calls carry a fresh assertion over the bytes the request signs; its
// counter must grow. CBOR by cborg, X.509 by @peculiar/x509, the nonce extension by asn1js.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { decode } from 'cborg';
import * as asn1js from 'asn1js';
import { ChainError, pemToDer, verifyChain } from './certs.js';
import { uncompressedPoint } from './ecies.js';

export const APP_ATTEST_NONCE_OID = '1.2.840.113635.100.8.2';
const AAGUID_PRODUCTION = Buffer.from('appattest\0\0\0\0\0\0\0', 'latin1');
const AAGUID_DEVELOPMENT = Buffer.from('appattestdevelop', 'latin1');

export interface AppAttestSettings {
  /** `<Team ID>.<bundle id>`: its SHA-256 is the rpIdHash every attestation and assertion must carry. */
  appId: string;
  /** Accept the development environment (aaguid "appattestdevelop"), for Xcode builds. Off in production. */
  allowDevelopment: boolean;
  /** Apple App Attestation Root CA (PEM), or test roots. */
  rootsPem: string[];
}

export class AppAttestError extends Error {
  constructor(readonly reason: string, message: string) { super(message); this.name = 'AppAttestError'; }
}

export interface AppAttestRegistration {
  /** The attested key's certificate (PEM): later assertions are checked with its key. */
  credCertPem: string;
  /** The registration assertion's counter: the next assertion must carry a larger one. */
  signCount: number;
  environment: 'production' | 'development';
}

const bytes = (value: unknown, what: string): Buffer => {
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw new AppAttestError('Malformed', `${what} is missing or not a byte string.`);
};

function cbor(base64: unknown, what: string): Record<string, unknown> {
  if (typeof base64 !== 'string' || base64.length === 0) throw new AppAttestError('Malformed', `${what} is missing.`);
  let value: unknown;
  try { value = decode(Buffer.from(base64, 'base64')); } catch { throw new AppAttestError('Malformed', `${what} is not CBOR.`); }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new AppAttestError('Malformed', `${what} is not a CBOR map.`);
  return value as Record<string, unknown>;
}

interface AuthData { rpIdHash: Buffer; signCount: number; aaguid?: Buffer; credentialId?: Buffer }

function parseAuthData(authData: Buffer, attested: boolean): AuthData {
  if (authData.length < 37) throw new AppAttestError('Malformed', 'authenticatorData is too short.');
  const head = { rpIdHash: authData.subarray(0, 32), signCount: authData.readUInt32BE(33) };
  if (!attested) return head;
  if (authData.length < 55) throw new AppAttestError('Malformed', 'authData has no attested credential data.');
  const length = authData.readUInt16BE(53);
  if (authData.length < 55 + length) throw new AppAttestError('Malformed', 'authData is truncated.');
  return { ...head, aaguid: authData.subarray(37, 53), credentialId: authData.subarray(55, 55 + length) };
}

/** The nonce in the credential certificate: extension 1.2.840.113635.100.8.2 = SEQUENCE { [1] EXPLICIT OCTET STRING }. */
export function credCertNonce(extensionValue: ArrayBuffer): Buffer | undefined {
  const parsed = asn1js.fromBER(extensionValue);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return undefined;
  const tagged = parsed.result.valueBlock.value[0];
  if (!(tagged instanceof asn1js.Constructed) || tagged.idBlock.tagClass !== 3 || tagged.idBlock.tagNumber !== 1) return undefined;
  const inner = tagged.valueBlock.value[0];
  return inner instanceof asn1js.OctetString ? Buffer.from(inner.valueBlock.valueHexView) : undefined;
}

function verifyAssertionSignature(key: KeyObject, authenticatorData: Buffer, clientData: Uint8Array, signature: Buffer): boolean {
  const clientDataHash = createHash('sha256').update(clientData).digest();
  const nonce = createHash('sha256').update(authenticatorData).update(clientDataHash).digest();
  try {
    return verify('sha256', nonce, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

export class AppAttestVerifier {
  private readonly rpIdHash: Buffer;
  constructor(private readonly settings: AppAttestSettings) {
    this.rpIdHash = createHash('sha256').update(settings.appId, 'utf8').digest();
  }

  /**
   * Registration: `attestJson` is `{"attestation": <base64 CBOR>, "assertion": <base64 CBOR>}`; the attestation's
   * clientDataHash must be the challenge bytes, the assertion's client data the signing certificate's DER.
   */
  async verifyRegistration(attestJson: string, challengeHash: string, authCertPem: string, now: Date): Promise<AppAttestRegistration> {
    let envelope: { attestation?: unknown; assertion?: unknown };
    try { envelope = JSON.parse(attestJson) as typeof envelope; } catch { throw new AppAttestError('Malformed', 'attestJson is not JSON.'); }
    const attestation = cbor(envelope?.attestation, 'attestation');
    if (attestation.fmt !== 'apple-appattest') throw new AppAttestError('WrongFormat', 'The attestation format is not apple-appattest.');
    const statement = attestation.attStmt as { x5c?: unknown } | undefined;
    const x5c = Array.isArray(statement?.x5c) ? statement.x5c : [];
    if (x5c.length < 2) throw new AppAttestError('Malformed', 'attStmt.x5c must hold the credential and intermediate certificates.');
    const authData = bytes(attestation.authData, 'authData');
    let credCert: Awaited<ReturnType<typeof verifyChain>>[number];
    try {
      // The chain is verified from the credential certificate up, so the first entry is the credential's.
      credCert = (await verifyChain(x5c.map((c, i) => bytes(c, `x5c[${i}]`)), this.settings.rootsPem, now))[0]!;
    } catch (error) {
      if (error instanceof ChainError) throw new AppAttestError(error.reason, error.message);
      throw error;
    }
    const parsed = parseAuthData(authData, true);
    if (!parsed.rpIdHash.equals(this.rpIdHash)) throw new AppAttestError('WrongApp', 'The attestation is for another app.');
    const development = parsed.aaguid!.equals(AAGUID_DEVELOPMENT);
    if (!development && !parsed.aaguid!.equals(AAGUID_PRODUCTION)) throw new AppAttestError('UnknownEnvironment', 'The App Attest environment is unknown.');
    if (development && !this.settings.allowDevelopment) throw new AppAttestError('DevelopmentEnvironment', 'Development App Attest keys are not accepted.');
    if (parsed.signCount !== 0) throw new AppAttestError('Malformed', 'An attestation must carry counter 0.');
    const credKey = createPublicKey({ key: Buffer.from(credCert.publicKey.rawData), format: 'der', type: 'spki' });
    if (!createHash('sha256').update(uncompressedPoint(credKey)).digest().equals(parsed.credentialId!)) {
      throw new AppAttestError('KeyMismatch', 'The credential id is not the hash of the attested key.');
    }
    if (!/^[0-9a-f]{64}$/i.test(challengeHash)) throw new AppAttestError('Malformed', 'The challenge must be 64 hex digits.');
    const expectedNonce = createHash('sha256').update(authData).update(Buffer.from(challengeHash, 'hex')).digest();
    const nonceExtension = credCert.getExtension(APP_ATTEST_NONCE_OID);
    const nonce = nonceExtension ? credCertNonce(nonceExtension.value) : undefined;
    if (!nonce || !nonce.equals(expectedNonce)) throw new AppAttestError('ChallengeMismatch', 'The attestation is not bound to this challenge.');

    const assertion = cbor(envelope.assertion, 'assertion');
    // The caller checks the counter grew past the attestation's 0 (core/attestation.ts advanceCounter).
    const signCount = this.checkAssertion(credKey, assertion, pemToDer(authCertPem));
    return { credCertPem: credCert.toString('pem'), signCount, environment: development ? 'development' : 'production' };
  }

  /**
   * A later call: a fresh assertion over `clientData` (the bytes the request signs).
   * @returns its counter, which the caller must check grew (core/attestation.ts advanceCounter)
   */
  verifyAssertion(credCertPem: string, assertionBase64: string | undefined, clientData: Uint8Array): number {
    const key = createPublicKey(credCertPem);
    return this.checkAssertion(key, cbor(assertionBase64, 'assertion'), clientData);
  }

  private checkAssertion(key: KeyObject, assertion: Record<string, unknown>, clientData: Uint8Array): number {
    const authenticatorData = bytes(assertion.authenticatorData, 'assertion.authenticatorData');
    const signature = bytes(assertion.signature, 'assertion.signature');
    const parsed = parseAuthData(authenticatorData, false);
    if (!parsed.rpIdHash.equals(this.rpIdHash)) throw new AppAttestError('WrongApp', 'The assertion is for another app.');
    if (!verifyAssertionSignature(key, authenticatorData, clientData, signature)) {
      throw new AppAttestError('BadAssertion', 'The assertion signature does not verify.');
    }
    return parsed.signCount;
  }
}
