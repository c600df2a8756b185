// Play Integrity verdicts. Microsoft's sample sends the token to Google's decodeIntegrityToken API with a service
// account (GooglePlayIntegrityDecoder does the same, over fetch, with a jose-signed OAuth assertion). Google also
// documents decrypting and verifying the token on the server with the two keys from the Play Console (an AES-256
// key for the JWE, A256KW + A256GCM, and an EC public key for the inner ES256 JWS): LocalPlayIntegrityDecoder does
// that with jose, and it is what the tests use, with keys made in the test. Both give the same verdict object
// (Google's tokenPayloadExternal); checkVerdict holds the sample's rules on it.
import { createHash, createPublicKey } from 'node:crypto';
import { compactDecrypt, compactVerify, importPKCS8, SignJWT } from 'jose';
import { z } from 'zod';

export class PlayIntegrityError extends Error {
  constructor(readonly reason: string, message: string, readonly unavailable = false) { super(message); this.name = 'PlayIntegrityError'; }
}

export const verdictSchema = z.looseObject({
  requestDetails: z.looseObject({
    requestPackageName: z.string().optional(),
    requestHash: z.string().optional(),
    timestampMillis: z.union([z.string(), z.number()]).optional(),
  }),
  appIntegrity: z.looseObject({
    appRecognitionVerdict: z.string().optional(),
    packageName: z.string().optional(),
    certificateSha256Digest: z.array(z.string()).optional(),
  }).optional(),
  deviceIntegrity: z.looseObject({ deviceRecognitionVerdict: z.array(z.string()).optional() }).optional(),
});
export type PlayIntegrityVerdict = z.infer<typeof verdictSchema>;

/** Turns a client's integrity token into Google's verdict. @throws PlayIntegrityError */
export interface PlayIntegrityDecoder { decode(token: string): Promise<PlayIntegrityVerdict> }

function parseVerdict(json: unknown): PlayIntegrityVerdict {
  const parsed = verdictSchema.safeParse(json);
  if (!parsed.success) throw new PlayIntegrityError('MalformedVerdict', 'The integrity verdict has an unexpected shape.');
  return parsed.data;
}

/** Local decryption and verification with the Play Console's response-encryption keys (both base64, as shown there). */
export class LocalPlayIntegrityDecoder implements PlayIntegrityDecoder {
  private readonly decryptionKey: Uint8Array;
  private readonly verificationKey: ReturnType<typeof createPublicKey>;
  constructor(keys: { decryptionKeyBase64: string; verificationKeyBase64: string }) {
    this.decryptionKey = Buffer.from(keys.decryptionKeyBase64, 'base64');
    if (this.decryptionKey.length !== 32) throw new Error('the Play Integrity decryption key must be 32 bytes (base64)');
    this.verificationKey = createPublicKey({ key: Buffer.from(keys.verificationKeyBase64, 'base64'), format: 'der', type: 'spki' });
  }

  async decode(token: string): Promise<PlayIntegrityVerdict> {
    let jws: string;
    try {
      const { plaintext, protectedHeader } = await compactDecrypt(token, this.decryptionKey, { keyManagementAlgorithms: ['A256KW'], contentEncryptionAlgorithms: ['A256GCM'] });
      void protectedHeader;
      jws = new TextDecoder().decode(plaintext);
    } catch {
      throw new PlayIntegrityError('UndecryptableToken', 'The integrity token could not be decrypted.');
    }
    try {
      const { payload } = await compactVerify(jws, this.verificationKey, { algorithms: ['ES256'] });
      return parseVerdict(JSON.parse(new TextDecoder().decode(payload)));
    } catch (error) {
      if (error instanceof PlayIntegrityError) throw error;
      throw new PlayIntegrityError('BadTokenSignature', 'The integrity token signature does not verify.');
    }
  }
}

const serviceAccountSchema = z.looseObject({ client_email: z.string(), private_key: z.string(), token_uri: z.url().optional() });

/** Google's decodeIntegrityToken API with a service account, as Microsoft's sample does it. */
export class GooglePlayIntegrityDecoder implements PlayIntegrityDecoder {
  private readonly account: z.infer<typeof serviceAccountSchema>;
  private access?: { token: string; expires: number };
  constructor(private readonly options: { serviceAccountJson: string; packageName: string; apiBase?: string; timeoutMs?: number; fetch?: typeof fetch }) {
    this.account = serviceAccountSchema.parse(JSON.parse(options.serviceAccountJson));
  }

  private async accessToken(): Promise<string> {
    if (this.access && this.access.expires > Date.now() + 60_000) return this.access.token;
    const tokenUri = this.account.token_uri ?? 'https://oauth2.googleapis.com/token';
    const assertion = await new SignJWT({ scope: 'https://www.googleapis.com/auth/playintegrity' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(this.account.client_email).setAudience(tokenUri).setIssuedAt().setExpirationTime('10m')
      .sign(await importPKCS8(this.account.private_key, 'RS256'));
    const answer = await this.call(tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
    });
    const parsed = z.object({ access_token: z.string(), expires_in: z.number() }).safeParse(answer);
    if (!parsed.success) throw new PlayIntegrityError('GoogleAuthFailed', 'Google did not issue an access token.');
    this.access = { token: parsed.data.access_token, expires: Date.now() + parsed.data.expires_in * 1000 };
    return this.access.token;
  }

  private async call(url: string, init: RequestInit): Promise<unknown> {
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, { ...init, signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
    } catch {
      throw new PlayIntegrityError('GoogleUnavailable', 'Google could not be reached.', true);
    }
    if (response.status === 429 || response.status >= 500) throw new PlayIntegrityError('GoogleUnavailable', `Google answered ${response.status}.`, true);
    if (!response.ok) throw new PlayIntegrityError('TokenRejected', `Google refused the integrity token (${response.status}).`);
    return response.json();
  }

  async decode(token: string): Promise<PlayIntegrityVerdict> {
    const base = this.options.apiBase ?? 'https://playintegrity.googleapis.com';
    const answer = await this.call(`${base}/v1/${encodeURIComponent(this.options.packageName)}:decodeIntegrityToken`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await this.accessToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ integrity_token: token }),
    });
    return parseVerdict((answer as { tokenPayloadExternal?: unknown } | undefined)?.tokenPayloadExternal);
  }
}

export type DeviceIntegrityLevel = 'strong' | 'device' | 'basic';
export interface VerdictPolicy {
  packageName: string;
  /** The weakest device verdict accepted (the sample's default: strong). */
  minimumDeviceIntegrity: DeviceIntegrityLevel;
  /** Accept UNRECOGNIZED_VERSION (side-loaded development builds). Off in production. */
  allowDevelopment: boolean;
  /** How far the token's time may be from ours (the sample: 5 minutes). */
  maxAgeMs: number;
}

const LEVELS: Record<DeviceIntegrityLevel, string[]> = {
  strong: ['MEETS_STRONG_INTEGRITY'],
  device: ['MEETS_STRONG_INTEGRITY', 'MEETS_DEVICE_INTEGRITY'],
  basic: ['MEETS_STRONG_INTEGRITY', 'MEETS_DEVICE_INTEGRITY', 'MEETS_BASIC_INTEGRITY'],
};

/** The sample's rules: the request hash binds the verdict to this exact key, it is fresh, for our app, on a device that passes. */
export function checkVerdict(verdict: PlayIntegrityVerdict, leafCertDer: Uint8Array, policy: VerdictPolicy, now: Date): void {
  const expectedHash = createHash('sha256').update(leafCertDer).digest('hex');
  if (verdict.requestDetails.requestHash !== expectedHash) {
    throw new PlayIntegrityError('RequestHashMismatch', 'The integrity verdict is not bound to the attested key.');
  }
  const at = Number(verdict.requestDetails.timestampMillis);
  if (!Number.isSafeInteger(at) || Math.abs(now.getTime() - at) > policy.maxAgeMs) {
    throw new PlayIntegrityError('StaleVerdict', 'The integrity verdict is missing its time or is too old.');
  }
  if (verdict.appIntegrity?.packageName !== policy.packageName || (verdict.requestDetails.requestPackageName ?? policy.packageName) !== policy.packageName) {
    throw new PlayIntegrityError('WrongApp', 'The integrity verdict is for another app.');
  }
  const recognition = verdict.appIntegrity?.appRecognitionVerdict;
  if (recognition !== 'PLAY_RECOGNIZED' && !(policy.allowDevelopment && recognition === 'UNRECOGNIZED_VERSION')) {
    throw new PlayIntegrityError('AppNotRecognized', 'Google Play does not recognize this app.');
  }
  const device = verdict.deviceIntegrity?.deviceRecognitionVerdict ?? [];
  const accepted = LEVELS[policy.allowDevelopment ? 'basic' : policy.minimumDeviceIntegrity];
  if (!device.some((v) => accepted.includes(v))) {
    throw new PlayIntegrityError('DeviceIntegrity', 'The device does not meet the integrity required.');
  }
}
