// Requests and responses of the device-attestation protocol (Microsoft's backend_samples: same paths, query names,
// bodies and answers, so an app built with Microsoft's device-attestation client libraries works unchanged). Errors
// keep this API's own shape ({ error: { code, message } }).
import { z } from 'zod';
import { parseWith, type ParseCodes } from './parse.js';

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 's must be a session id');
export const attestationIdentitySchema = z.object({
  s: uuid.meta({ description: 'The session id (from the create answer or the app link).' }),
  cid: z.string().trim().min(1, 'cid must not be empty').max(128, 'cid must be at most 128 characters').regex(/^[\x21-\x7e]+$/, 'cid must be printable ASCII')
    .meta({ description: "The app's client id (the client library's installation id)." }),
  sys: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['ios', 'android'], { error: "sys must be 'ios' or 'android'" })).meta({ description: 'The platform.' }),
});
export const attestationSessionQuerySchema = attestationIdentitySchema.pick({ s: true });

const big = (max: number, what: string) => z.string({ error: `${what} is required` }).min(1, `${what} is required`).max(max, `${what} is too long`);
export const signedPayloadSchema = z.object({
  payload: big(48_000, 'payload').meta({ description: 'JSON text: {challengeHash, encryptionPublicCert (PEM), attestJson (register only)}.' }),
  authPublicCert: big(16_384, 'authPublicCert').meta({ description: 'The request-signing certificate (PEM, P-256).' }),
  signature: big(512, 'signature').meta({ description: 'ECDSA-SHA-256 (DER, base64) of the UTF-8 bytes of payload, by the authPublicCert key.' }),
  assertion: big(8_192, 'assertion').optional().meta({ description: 'iOS verify: a fresh App Attest assertion (base64 CBOR) over the payload bytes.' }),
});
export const sealedRequestSchema = z.object({
  encryptedData: big(16_384, 'encryptedData').meta({ description: 'ECIES (P-256, HKDF-SHA-256, AES-256-GCM; Tink layout) to the session key, base64.' }),
  signature: big(512, 'signature').meta({ description: 'ECDSA-SHA-256 (DER, base64) of the encryptedData text, by the device key.' }),
  assertion: big(8_192, 'assertion').optional().meta({ description: 'iOS: a fresh App Attest assertion over the encryptedData text.' }),
});

export const challengeResponseSchema = z.object({ challengeHash: z.string(), clientId: z.string(), system: z.enum(['ios', 'android']) }).meta({ id: 'AttestationChallenge' });
export const registerResponseSchema = z.object({ message: z.string(), serverEncryptionPublicKey: z.string() }).meta({ id: 'AttestationRegistered' });
export const verifyResponseSchema = z.object({ exists: z.boolean(), serverEncryptionPublicKey: z.string().optional() }).meta({ id: 'AttestationVerified' });
export const sealedResponseSchema = z.object({ encryptedData: z.string() }).meta({ id: 'SealedResponse', description: 'ECIES to the device\'s per-session encryption key: token {token, timestamp}; digest {success, timestamp}.' });

const identityCodes: ParseCodes = { byField: { s: 'InvalidSessionId', cid: 'InvalidClientId', sys: 'InvalidSystem' }, otherwise: 'InvalidQuery' };
const bodyCodes: ParseCodes = { byField: { payload: 'InvalidBody', authPublicCert: 'InvalidBody', signature: 'InvalidBody', assertion: 'InvalidBody', encryptedData: 'InvalidBody' }, otherwise: 'InvalidBody' };

export const parseAttestationIdentity = (query: Record<string, string>) => parseWith(attestationIdentitySchema, query, identityCodes);
export const parseAttestationSession = (query: Record<string, string>) => parseWith(attestationSessionQuerySchema, query, identityCodes);
export const parseSignedPayload = (body: unknown) => parseWith(signedPayloadSchema, body, bodyCodes);
export const parseSealedRequest = (body: unknown) => parseWith(sealedRequestSchema, body, bodyCodes);
