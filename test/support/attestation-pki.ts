// Test PKI for device attestation, made in the test: a root and intermediate standing in for Apple's App Attest CA or
// Google's hardware-attestation CA, leaves carrying the platform's extension, and Play Integrity keys. Nothing here
// is trusted outside the test that made it: the server under test trusts these roots only through its settings.
import 'reflect-metadata'; // @peculiar/x509 (its tsyringe container) needs the Reflect metadata polyfill
import { createHash, createPublicKey, generateKeyPairSync, KeyObject, randomBytes, sign, webcrypto } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AuthorizationList, KeyDescription, SecurityLevel } from '@peculiar/asn1-android';
import { CompactEncrypt, CompactSign } from 'jose';
import * as asn1js from 'asn1js';
import { encode } from 'cborg';
import { BasicConstraintsExtension, Extension, X509Certificate, X509CertificateGenerator } from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const subtle = webcrypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface Ca { cert: X509Certificate; keys: CryptoKeyPair; pem: string }

export async function newKeys(): Promise<CryptoKeyPair> {
  return subtle.generateKey(EC, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** A self-signed CA (the stand-in root). */
export async function rootCa(name: string, notAfter = new Date(Date.now() + 365 * 86_400_000)): Promise<Ca> {
  const keys = await newKeys();
  const cert = await X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`, keys, signingAlgorithm: SIGN, notBefore: new Date(Date.now() - 86_400_000), notAfter,
    extensions: [new BasicConstraintsExtension(true, undefined, true)],
  });
  return { cert, keys, pem: cert.toString('pem') };
}

/** A certificate for `publicKey` issued by `issuer` (a CA when `ca`), with extra extensions. */
export async function issue(issuer: Ca, name: string, publicKey: CryptoKey, options: { ca?: boolean; extensions?: Extension[]; notAfter?: Date } = {}): Promise<X509Certificate> {
  return X509CertificateGenerator.create({
    subject: `CN=${name}`, issuer: issuer.cert.subject, publicKey, signingKey: issuer.keys.privateKey, signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - 3_600_000), notAfter: options.notAfter ?? new Date(Date.now() + 30 * 86_400_000),
    extensions: [...(options.ca ? [new BasicConstraintsExtension(true, undefined, true)] : []), ...(options.extensions ?? [])],
  });
}

export async function intermediateCa(root: Ca, name: string): Promise<Ca> {
  const keys = await newKeys();
  const cert = await issue(root, name, keys.publicKey, { ca: true });
  return { cert, keys, pem: cert.toString('pem') };
}

export const keyObject = async (key: CryptoKey): Promise<KeyObject> => KeyObject.from(key);
export const derOf = (cert: X509Certificate) => Buffer.from(cert.rawData);
export const sha256 = (...parts: Uint8Array[]) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest(); };

/** The uncompressed point of a P-256 public key. */
export function pointOf(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

/** ECDSA-SHA-256, DER, base64 — the protocol's request signature. */
export function signB64(privateKey: KeyObject, data: string | Uint8Array): string {
  return sign('sha256', typeof data === 'string' ? Buffer.from(data, 'utf8') : data, { key: privateKey, dsaEncoding: 'der' }).toString('base64');
}

/** A device-side key pair with a self-signed certificate (the request-signing and encryption certificates). */
export async function selfSignedDeviceCert(name: string): Promise<{ pem: string; der: Buffer; privateKey: KeyObject; publicKey: KeyObject }> {
  const keys = await newKeys();
  const cert = await X509CertificateGenerator.createSelfSigned({ name: `CN=${name}`, keys, signingAlgorithm: SIGN });
  return { pem: cert.toString('pem'), der: derOf(cert), privateKey: await keyObject(keys.privateKey), publicKey: await keyObject(keys.publicKey) };
}

// --- App Attest -------------------------------------------------------------------------------------------------

export const AAGUID_PRODUCTION = Buffer.from('appattest\0\0\0\0\0\0\0', 'latin1');
export const AAGUID_DEVELOPMENT = Buffer.from('appattestdevelop', 'latin1');

export interface AppAttestPki { root: Ca; intermediate: Ca }
export async function appAttestPki(): Promise<AppAttestPki> {
  const root = await rootCa('Test App Attestation Root CA');
  return { root, intermediate: await intermediateCa(root, 'Test App Attestation CA 1') };
}

/** An App Attest key on a scripted iPhone: attests once, then asserts with a growing counter. */
export class ScriptedAppAttestKey {
  private counter = 0;
  private constructor(private readonly keys: CryptoKeyPair, private readonly privateKey: KeyObject, private readonly publicKey: KeyObject, readonly appId: string) {}
  static async create(appId: string): Promise<ScriptedAppAttestKey> {
    const keys = await newKeys();
    return new ScriptedAppAttestKey(keys, await keyObject(keys.privateKey), await keyObject(keys.publicKey), appId);
  }

  /** The attestation object for `clientDataHash` (base64 CBOR); `tamper` forges single fields for attack tests. */
  async attest(pki: AppAttestPki, clientDataHash: Buffer, tamper: { aaguid?: Buffer; appId?: string; nonceFor?: Buffer; signer?: Ca } = {}): Promise<string> {
    const credentialId = sha256(pointOf(this.publicKey));
    const header = Buffer.alloc(37);
    sha256(Buffer.from(tamper.appId ?? this.appId, 'utf8')).copy(header, 0);
    header[32] = 0x40;
    const length = Buffer.alloc(2);
    length.writeUInt16BE(credentialId.length);
    const authData = Buffer.concat([header, tamper.aaguid ?? AAGUID_PRODUCTION, length, credentialId]);
    const nonce = sha256(authData, tamper.nonceFor ?? clientDataHash);
    const value = new asn1js.Sequence({ value: [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.OctetString({ valueHex: nonce })] })] }).toBER();
    const cred = await issue(tamper.signer ?? pki.intermediate, 'scripted-app-attest-key', this.keys.publicKey, { extensions: [new Extension('1.2.840.113635.100.8.2', false, value)] });
    return Buffer.from(encode({ fmt: 'apple-appattest', attStmt: { x5c: [derOf(cred), derOf(pki.intermediate.cert)], receipt: Buffer.from('receipt') }, authData })).toString('base64');
  }

  /** An assertion over `clientData` (base64 CBOR), with the next counter (or `counter` to replay an old one). */
  assert(clientData: Uint8Array, options: { counter?: number; appId?: string } = {}): string {
    const counter = options.counter ?? ++this.counter;
    const authenticatorData = Buffer.alloc(37);
    sha256(Buffer.from(options.appId ?? this.appId, 'utf8')).copy(authenticatorData, 0);
    authenticatorData[32] = 0x40;
    authenticatorData.writeUInt32BE(counter, 33);
    const nonce = sha256(authenticatorData, sha256(clientData));
    const signature = sign('sha256', nonce, { key: this.privateKey, dsaEncoding: 'der' });
    return Buffer.from(encode({ signature, authenticatorData })).toString('base64');
  }
}

// --- ECIES (the device side, written against WebCrypto: independent of the server's node:crypto version) ---------

export async function deviceEciesEncrypt(plaintext: string, recipientSpkiPem: string): Promise<string> {
  const recipientDer = createPublicKey(recipientSpkiPem).export({ type: 'spki', format: 'der' });
  const recipient = await subtle.importKey('spki', recipientDer, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const sender = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']) as CryptoKeyPair;
  const point = Buffer.from(await subtle.exportKey('raw', sender.publicKey));
  const shared = Buffer.from(await subtle.deriveBits({ name: 'ECDH', public: recipient }, sender.privateKey, 256));
  const ikm = await subtle.importKey('raw', Buffer.concat([point, shared]), 'HKDF', false, ['deriveKey']);
  const aes = await subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(), info: new Uint8Array() }, ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const sealed = Buffer.from(await subtle.encrypt({ name: 'AES-GCM', iv }, aes, Buffer.from(plaintext, 'utf8')));
  return Buffer.concat([point, iv, sealed]).toString('base64');
}

export async function deviceEciesDecrypt(sealedB64: string, recipientPrivate: KeyObject): Promise<string> {
  const blob = Buffer.from(sealedB64, 'base64');
  const point = blob.subarray(0, 65);
  const sender = await subtle.importKey('raw', point, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const own = await subtle.importKey('pkcs8', recipientPrivate.export({ type: 'pkcs8', format: 'der' }), { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const shared = Buffer.from(await subtle.deriveBits({ name: 'ECDH', public: sender }, own, 256));
  const ikm = await subtle.importKey('raw', Buffer.concat([point, shared]), 'HKDF', false, ['deriveKey']);
  const aes = await subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(), info: new Uint8Array() }, ikm, { name: 'AES-GCM', length: 256 }, false, ['decrypt']);
  return Buffer.from(await subtle.decrypt({ name: 'AES-GCM', iv: blob.subarray(65, 77) }, aes, blob.subarray(77))).toString('utf8');
}

export { generateKeyPairSync, SecurityLevel };

// --- Android Key Attestation and Play Integrity -------------------------------------------------------------------

export interface AndroidPki { root: Ca; intermediate: Ca; integrityAes: Buffer; integritySigner: { privateKey: KeyObject; publicKey: KeyObject } }

export async function androidPki(): Promise<AndroidPki> {
  const root = await rootCa('Test Google Hardware Attestation Root');
  const signer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { root, intermediate: await intermediateCa(root, 'Test Attestation Intermediate'), integrityAes: randomBytes(32), integritySigner: signer };
}

/** The server settings that trust this PKI's Play Integrity keys (as the Play Console shows them: base64). */
export const playIntegrityKeySettings = (pki: AndroidPki) => ({
  ATTESTATION_PLAY_INTEGRITY_DECRYPTION_KEY: pki.integrityAes.toString('base64'),
  ATTESTATION_PLAY_INTEGRITY_VERIFICATION_KEY: pki.integritySigner.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
});

/** A Keystore key whose certificate carries a KeyDescription with `challenge` (TEE unless told otherwise). */
export async function attestedAndroidKey(pki: AndroidPki, challenge: Buffer, level: SecurityLevel = SecurityLevel.trustedEnvironment, issuer: Ca = pki.intermediate) {
  const keys = await newKeys();
  const description = new KeyDescription({
    attestationVersion: 4, attestationSecurityLevel: level, keymasterVersion: 41, keymasterSecurityLevel: level,
    attestationChallenge: new OctetString(challenge), uniqueId: new OctetString(),
    softwareEnforced: new AuthorizationList(), teeEnforced: new AuthorizationList(),
  });
  const cert = await issue(issuer, 'Android Keystore Key', keys.publicKey, { extensions: [new Extension('1.3.6.1.4.1.11129.2.1.17', false, AsnConvert.serialize(description))] });
  return { cert, der: derOf(cert), pem: cert.toString('pem'), privateKey: await keyObject(keys.privateKey) };
}

/** A Play Integrity token as Google would issue it (JWS ES256 inside JWE A256KW/A256GCM), for `requestHash`. */
export async function playIntegrityToken(pki: AndroidPki, requestHash: string, packageName: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const verdict = {
    requestDetails: { requestPackageName: packageName, requestHash, timestampMillis: String(Date.now()) },
    appIntegrity: { appRecognitionVerdict: 'PLAY_RECOGNIZED', packageName },
    deviceIntegrity: { deviceRecognitionVerdict: ['MEETS_DEVICE_INTEGRITY', 'MEETS_STRONG_INTEGRITY'] },
    ...overrides,
  };
  const jws = await new CompactSign(Buffer.from(JSON.stringify(verdict))).setProtectedHeader({ alg: 'ES256' }).sign(pki.integritySigner.privateKey);
  return new CompactEncrypt(Buffer.from(jws)).setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM' }).encrypt(pki.integrityAes);
}
