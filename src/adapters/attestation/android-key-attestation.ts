// Android registration in Microsoft's device-attestation protocol (backend_samples/OVERVIEW.md, "Android
// registration"): attestJson = {"token": <Play Integrity token>, "certificateChain": [base64 DER, leaf first]}. The
// request-signing certificate must be the chain's leaf, the chain must end at a pinned Google hardware-attestation
// root, the leaf's key-attestation extension (1.3.6.1.4.1.11129.2.1.17) must say TEE or StrongBox and carry the
// session's challenge bytes, no certificate may be revoked (Google's status list; fails closed), and the Play
// Integrity verdict's requestHash must be hex(SHA-256(leaf DER)). ASN.1 by @peculiar/asn1-android.
import { AsnConvert } from '@peculiar/asn1-schema';
import { NonStandardKeyDescription, SecurityLevel } from '@peculiar/asn1-android';
import { z } from 'zod';
import { ChainError, pemToDer, verifyChain } from './certs.js';
import { checkVerdict, PlayIntegrityError, type PlayIntegrityDecoder, type PlayIntegrityVerdict, type VerdictPolicy } from './play-integrity.js';
import type { RevocationList } from './revocation.js';

export const KEY_ATTESTATION_OID = '1.3.6.1.4.1.11129.2.1.17';

export class AndroidAttestationError extends Error {
  constructor(readonly reason: string, message: string) { super(message); this.name = 'AndroidAttestationError'; }
}

export interface AndroidAttestationSettings extends VerdictPolicy {
  /** Google's hardware-attestation roots (PEM), or test roots. */
  rootsPem: string[];
}

const envelopeSchema = z.object({ token: z.string().min(1).max(16_384), certificateChain: z.array(z.string().min(1).max(16_384)).min(2).max(10) });

export interface AndroidRegistration { securityLevel: 'TrustedEnvironment' | 'StrongBox'; verdict: PlayIntegrityVerdict }

export class AndroidAttestationVerifier {
  constructor(
    private readonly settings: AndroidAttestationSettings,
    private readonly integrity: PlayIntegrityDecoder,
    private readonly revocations: RevocationList,
  ) {}

  async verifyRegistration(attestJson: string, challengeHash: string, authCertPem: string, now: Date): Promise<AndroidRegistration> {
    let envelope: z.infer<typeof envelopeSchema>;
    try {
      envelope = envelopeSchema.parse(JSON.parse(attestJson));
    } catch {
      throw new AndroidAttestationError('Malformed', 'attestJson must hold a Play Integrity token and a certificate chain.');
    }
    const chain = envelope.certificateChain.map((c) => Buffer.from(c, 'base64'));
    const leaf = pemToDer(authCertPem);
    if (!leaf.equals(chain[0]!)) throw new AndroidAttestationError('LeafMismatch', 'The signing certificate is not the attested leaf.');
    let certs;
    try {
      certs = await verifyChain(chain, this.settings.rootsPem, now);
    } catch (error) {
      if (error instanceof ChainError) throw new AndroidAttestationError(error.reason, error.message);
      throw error;
    }
    // Only the leaf may carry a key description: a chain whose issuer carries one was minted with an attested key.
    if (certs.slice(1).some((c) => c.getExtension(KEY_ATTESTATION_OID))) {
      throw new AndroidAttestationError('AttestedKeyAsIssuer', 'An attested key issued a certificate in the chain.');
    }
    const extension = certs[0]!.getExtension(KEY_ATTESTATION_OID);
    if (!extension) throw new AndroidAttestationError('NoKeyDescription', 'The leaf carries no key attestation.');
    let description: NonStandardKeyDescription;
    try {
      description = AsnConvert.parse(extension.value, NonStandardKeyDescription);
    } catch {
      throw new AndroidAttestationError('NoKeyDescription', 'The key attestation could not be parsed.');
    }
    const level = description.attestationSecurityLevel;
    if (level !== SecurityLevel.trustedEnvironment && level !== SecurityLevel.strongBox) {
      throw new AndroidAttestationError('SoftwareKey', 'The key is not hardware-backed.');
    }
    if (!/^[0-9a-f]{64}$/i.test(challengeHash) || !Buffer.from(description.attestationChallenge.buffer).equals(Buffer.from(challengeHash, 'hex'))) {
      throw new AndroidAttestationError('ChallengeMismatch', 'The key attestation is not bound to this challenge.');
    }
    for (const cert of certs) {
      if (await this.revocations.isRevoked(cert.serialNumber)) {
        throw new AndroidAttestationError('Revoked', 'A certificate in the chain is revoked (or the status list is unavailable).');
      }
    }
    let verdict: PlayIntegrityVerdict;
    try {
      verdict = await this.integrity.decode(envelope.token);
      checkVerdict(verdict, leaf, this.settings, now);
    } catch (error) {
      if (error instanceof PlayIntegrityError) throw new AndroidAttestationError(error.reason, error.message);
      throw error;
    }
    return { securityLevel: level === SecurityLevel.strongBox ? 'StrongBox' : 'TrustedEnvironment', verdict };
  }
}
