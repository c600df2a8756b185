// Certificate chains to pinned roots, with @peculiar/x509 (signatures through WebCrypto). A chain is leaf first;
// each certificate must be signed by the next, valid now, and every issuer a CA (a key that may only sign requests,
// such as a device's attested key, must not be able to mint a "certificate" under the root). The last certificate
// is a pinned root itself or is signed by one.
import 'reflect-metadata'; // @peculiar/x509 (its tsyringe container) needs the Reflect metadata polyfill
import { BasicConstraintsExtension, X509Certificate } from '@peculiar/x509';

export class ChainError extends Error {
  constructor(readonly reason: string, message: string) { super(message); this.name = 'ChainError'; }
}

export function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

/** Splits a setting that holds one or more PEM certificates. */
export function splitPems(pems: string): string[] {
  return pems.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export function parseCertificate(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new ChainError('CertificateUnreadable', 'A certificate could not be parsed.');
  }
}

function withinValidity(cert: X509Certificate, now: Date): boolean {
  return cert.notBefore.getTime() <= now.getTime() && now.getTime() <= cert.notAfter.getTime();
}

function isCa(cert: X509Certificate): boolean {
  const bc = cert.getExtension(BasicConstraintsExtension);
  return bc !== null && bc.ca;
}

/**
 * Verifies `chain` (DER, leaf first) up to one of `rootsPem`. @throws ChainError naming what failed
 * @returns the parsed chain
 */
export async function verifyChain(chain: Uint8Array[], rootsPem: string[], now: Date): Promise<X509Certificate[]> {
  if (chain.length === 0) throw new ChainError('EmptyChain', 'The certificate chain is empty.');
  if (chain.length > 10) throw new ChainError('ChainTooLong', 'The certificate chain is too long.');
  const certs = chain.map(parseCertificate);
  const roots = rootsPem.map((pem) => new X509Certificate(pem));
  if (roots.length === 0) throw new ChainError('NoRoots', 'No trusted roots are configured.');
  for (const [i, cert] of certs.entries()) {
    if (!withinValidity(cert, now)) throw new ChainError('CertificateNotValidNow', `Certificate ${i} of the chain is outside its validity period.`);
    const issuer = certs[i + 1];
    if (!issuer) break;
    if (!isCa(issuer)) throw new ChainError('IssuerNotCa', `Certificate ${i + 1} of the chain is not a CA.`);
    if (!(await cert.verify({ publicKey: issuer, signatureOnly: true }))) {
      throw new ChainError('BadSignature', `Certificate ${i} of the chain is not signed by certificate ${i + 1}.`);
    }
  }
  const top = certs[certs.length - 1]!;
  const topDer = Buffer.from(top.rawData);
  if (roots.some((root) => Buffer.from(root.rawData).equals(topDer))) return certs;
  for (const root of roots) {
    if (root.subject !== top.issuer || !withinValidity(root, now)) continue;
    if (certs.length > 0 && !isCa(root)) continue;
    if (await top.verify({ publicKey: root, signatureOnly: true })) return certs;
  }
  throw new ChainError('UntrustedRoot', 'The certificate chain does not end at a trusted root.');
}
