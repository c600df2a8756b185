// The device-attestation adapters wired to the core's ports: the protocol's cryptography (ECIES, ECDSA, X.509) and
// the platform verifiers, whose failures become the core's AttestationRefusedError (401, the reason as its code).
import 'reflect-metadata'; // @peculiar/x509 (its tsyringe container) needs the Reflect metadata polyfill
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { X509Certificate } from '@peculiar/x509';
import { AttestationRefusedError, type AttestationCrypto, type PlatformVerifiers } from '../../core/attestation.js';
import { AndroidAttestationError, AndroidAttestationVerifier } from './android-key-attestation.js';
import { AppAttestError, AppAttestVerifier } from './app-attest.js';
import { eciesDecrypt, eciesEncrypt, generateP256KeyPair, verifyEcdsaSha256 } from './ecies.js';
import { pemToDer } from './certs.js';

/** Certificates the protocol carries are small; a larger one is refused before it is parsed. */
export const MAX_CERT_PEM_CHARS = 16_384;

export const attestationCrypto: AttestationCrypto = {
  // As the sample: SHA-256 of 32 random bytes, hex.
  randomChallenge: () => createHash('sha256').update(randomBytes(32)).digest('hex'),
  thumbprint: (certPem) => createHash('sha256').update(pemToDer(certPem)).digest('hex'),
  p256KeyOf(certPem, now) {
    if (certPem.length > MAX_CERT_PEM_CHARS || !certPem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new AttestationRefusedError('InvalidCertificate', 'Expected a PEM certificate.');
    }
    let cert: X509Certificate;
    try { cert = new X509Certificate(certPem); } catch { throw new AttestationRefusedError('InvalidCertificate', 'The certificate could not be parsed.'); }
    if (cert.notBefore.getTime() > now.getTime() || cert.notAfter.getTime() < now.getTime()) {
      throw new AttestationRefusedError('CertificateNotValidNow', 'The certificate is expired or not yet valid.');
    }
    const key = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new AttestationRefusedError('InvalidCertificate', 'The certificate key must be P-256.');
    return key.export({ type: 'spki', format: 'pem' }).toString();
  },
  verifySignature: verifyEcdsaSha256,
  generateKeyPair: generateP256KeyPair,
  encrypt: (plaintext, recipient) => eciesEncrypt(plaintext, recipient),
  decrypt(sealed, privateKeyPem) {
    try { return eciesDecrypt(sealed, privateKeyPem).toString('utf8'); } catch { throw new AttestationRefusedError('DecryptionFailed', 'The request could not be decrypted.'); }
  },
};

async function refusing<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppAttestError || error instanceof AndroidAttestationError) throw new AttestationRefusedError(error.reason, error.message);
    throw error;
  }
}

export function platformVerifiers(ios: AppAttestVerifier | undefined, android: AndroidAttestationVerifier | undefined): PlatformVerifiers {
  const unconfigured = (platform: string) => new AttestationRefusedError('PlatformNotConfigured', `Attestation is not configured for ${platform}.`);
  return {
    ios: (attestJson, challengeHash, authCertPem, now) => refusing(() => {
      if (!ios) throw unconfigured('iOS');
      return ios.verifyRegistration(attestJson, challengeHash, authCertPem, now);
    }),
    iosAssertion(credCertPem, assertion, clientData) {
      if (!ios) throw unconfigured('iOS');
      try {
        return ios.verifyAssertion(credCertPem, assertion, clientData);
      } catch (error) {
        if (error instanceof AppAttestError) throw new AttestationRefusedError(error.reason, error.message);
        throw error;
      }
    },
    android: (attestJson, challengeHash, authCertPem, now) => refusing(async () => {
      if (!android) throw unconfigured('Android');
      await android.verifyRegistration(attestJson, challengeHash, authCertPem, now);
    }),
  };
}
