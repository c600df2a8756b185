// The per-session encryption of Microsoft's device-attestation protocol (backend_samples/OVERVIEW.md, "Per-session
// encryption"): Tink-compatible ECIES over P-256. A message is sealed to a recipient's P-256 public key with a fresh
// sender key: ECDH, then HKDF-SHA-256 (ikm = sender point || shared secret, empty salt and info, 32 bytes), then
// AES-256-GCM with a random 12-byte IV. The wire form is base64 of sender point (65 bytes, uncompressed) || IV (12)
// || ciphertext || tag (16). Only node:crypto primitives are used; nothing here is hand-rolled cryptography.
import {
  createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync,
  randomBytes, verify, type KeyObject,
} from 'node:crypto';

const POINT = 65;
const IV = 12;
const TAG = 16;

export interface PemKeyPair { publicKeyPem: string; privateKeyPem: string }

/** A fresh P-256 key pair, SPKI and PKCS#8 PEM (the server's per-session key, returned to the device as SPKI PEM). */
export function generateP256KeyPair(): PemKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** The uncompressed point (0x04 || X || Y) of a P-256 public key. */
export function uncompressedPoint(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new Error('not a P-256 public key');
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

function aesKey(senderPoint: Buffer, shared: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.concat([senderPoint, shared]), Buffer.alloc(0), Buffer.alloc(0), 32));
}

/** Seals `plaintext` to the recipient's P-256 public key (PEM or KeyObject). */
export function eciesEncrypt(plaintext: string | Uint8Array, recipient: string | KeyObject): string {
  const recipientKey = typeof recipient === 'string' ? createPublicKey(recipient) : recipient;
  if (recipientKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('the recipient key is not P-256');
  const sender = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const senderPoint = uncompressedPoint(sender.publicKey);
  const key = aesKey(senderPoint, diffieHellman({ privateKey: sender.privateKey, publicKey: recipientKey }));
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([senderPoint, iv, body, cipher.getAuthTag()]).toString('base64');
}

/** Opens a sealed message with the recipient's private key. @throws when it is malformed or was tampered with */
export function eciesDecrypt(sealed: string, recipientPrivate: string | KeyObject): Buffer {
  const blob = Buffer.from(sealed, 'base64');
  if (blob.length < POINT + IV + TAG) throw new Error('ciphertext too short');
  const senderPoint = blob.subarray(0, POINT);
  if (senderPoint[0] !== 4) throw new Error('the sender point is not uncompressed');
  const senderKey = createPublicKey({
    format: 'jwk',
    key: { kty: 'EC', crv: 'P-256', x: senderPoint.subarray(1, 33).toString('base64url'), y: senderPoint.subarray(33).toString('base64url') },
  });
  const privateKey = typeof recipientPrivate === 'string' ? createPrivateKey(recipientPrivate) : recipientPrivate;
  const key = aesKey(senderPoint, diffieHellman({ privateKey, publicKey: senderKey }));
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(POINT, POINT + IV));
  decipher.setAuthTag(blob.subarray(blob.length - TAG));
  return Buffer.concat([decipher.update(blob.subarray(POINT + IV, blob.length - TAG)), decipher.final()]);
}

/** ECDSA-SHA-256 (DER signature, base64) over the UTF-8 bytes of `data`, as the protocol's request signatures are. */
export function verifyEcdsaSha256(data: string | Uint8Array, signatureBase64: string, publicKey: string | KeyObject): boolean {
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    return verify('sha256', typeof data === 'string' ? Buffer.from(data, 'utf8') : data, { key, dsaEncoding: 'der' }, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}
