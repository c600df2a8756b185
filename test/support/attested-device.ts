// Scripted iPhone and Android apps speaking Microsoft's device-attestation protocol over HTTP (the same calls, query names and
// bodies as the client library): challenge, register with App Attest, the encrypted token, the signed digest.
// Each step returns the raw answer, so tests can also forge, replay or cross sessions.
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  type AndroidPki, attestedAndroidKey, derOf, playIntegrityToken, type AppAttestPki, deviceEciesDecrypt, deviceEciesEncrypt, ScriptedAppAttestKey, selfSignedDeviceCert, signB64,
} from './attestation-pki.js';

/** A P-256 key no session holds: a request sealed to it is well-formed but opens nowhere. */
const throwawayKey = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

export interface Answer { status: number; body: any }

async function post(url: string, body?: unknown): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = text; }
  return { status: response.status, body: parsed };
}

export class ScriptedIosApp {
  readonly clientId = `ios-client-${Math.random().toString(36).slice(2, 10)}`;
  challengeHash?: string;
  serverKey?: string;
  private constructor(
    private readonly api: string,
    readonly key: ScriptedAppAttestKey,
    readonly auth: Awaited<ReturnType<typeof selfSignedDeviceCert>>,
    readonly encryption: Awaited<ReturnType<typeof selfSignedDeviceCert>>,
  ) {}

  static async create(api: string, appId: string): Promise<ScriptedIosApp> {
    return new ScriptedIosApp(api, await ScriptedAppAttestKey.create(appId), await selfSignedDeviceCert('device-auth'), await selfSignedDeviceCert('device-encryption'));
  }

  private identity(sessionId: string) {
    return `s=${encodeURIComponent(sessionId)}&cid=${encodeURIComponent(this.clientId)}&sys=ios`;
  }

  async challenge(sessionId: string): Promise<Answer> {
    const answer = await post(`${this.api}/attestation/challenge?${this.identity(sessionId)}`);
    if (answer.status === 200) this.challengeHash = answer.body.challengeHash;
    return answer;
  }

  /** The register body for `challengeHash` (override it to replay a proof into another session). */
  async registerBody(pki: AppAttestPki, options: { challengeHash?: string; tamper?: Parameters<ScriptedAppAttestKey['attest']>[2] } = {}) {
    const challengeHash = options.challengeHash ?? this.challengeHash!;
    const attestation = await this.key.attest(pki, Buffer.from(challengeHash, 'hex'), options.tamper);
    const assertion = this.key.assert(this.auth.der);
    const payload = JSON.stringify({ challengeHash, encryptionPublicCert: this.encryption.pem, attestJson: JSON.stringify({ attestation, assertion }) });
    return { payload, authPublicCert: this.auth.pem, signature: signB64(this.auth.privateKey, payload) };
  }

  async register(sessionId: string, body: unknown): Promise<Answer> {
    const answer = await post(`${this.api}/attestation/register?${this.identity(sessionId)}`, body);
    if (answer.status === 200) this.serverKey = answer.body.serverEncryptionPublicKey;
    return answer;
  }

  async verify(sessionId: string): Promise<Answer> {
    const payload = JSON.stringify({ challengeHash: this.challengeHash, encryptionPublicCert: this.encryption.pem });
    const answer = await post(`${this.api}/attestation/verify?${this.identity(sessionId)}`, {
      payload, authPublicCert: this.auth.pem, signature: signB64(this.auth.privateKey, payload), assertion: this.key.assert(Buffer.from(payload, 'utf8')),
    });
    if (answer.status === 200 && answer.body.serverEncryptionPublicKey) this.serverKey = answer.body.serverEncryptionPublicKey;
    return answer;
  }

  /** A sealed, signed, asserted request body; `counter` replays an old assertion counter. */
  async sealed(message: unknown, options: { counter?: number; serverKey?: string } = {}) {
    // Without a server key (no attestation yet), a throwaway one: the request is well-formed but for no session key.
    const recipient = options.serverKey ?? this.serverKey ?? throwawayKey();
    const encryptedData = await deviceEciesEncrypt(JSON.stringify(message), recipient);
    return { encryptedData, signature: signB64(this.auth.privateKey, encryptedData), assertion: this.key.assert(Buffer.from(encryptedData, 'utf8'), { counter: options.counter }) };
  }

  async tokenRequest(sessionId: string, body: unknown): Promise<Answer> {
    return post(`${this.api}/session/token?s=${encodeURIComponent(sessionId)}`, body);
  }

  /** The whole token step. @returns the Face token, or the refusal */
  async token(sessionId: string): Promise<{ answer: Answer; token?: string }> {
    const answer = await this.tokenRequest(sessionId, await this.sealed({ challengeHash: this.challengeHash, clientId: this.clientId, system: 'ios' }));
    if (answer.status !== 200) return { answer };
    return { answer, token: JSON.parse(await deviceEciesDecrypt(answer.body.encryptedData, this.encryption.privateKey)).token };
  }

  async digest(sessionId: string, digest: string): Promise<{ answer: Answer; ack?: any }> {
    const answer = await post(`${this.api}/liveness/digest?s=${encodeURIComponent(sessionId)}`, await this.sealed({ cid: this.clientId, os: 'ios', digest }));
    if (answer.status !== 200) return { answer };
    return { answer, ack: JSON.parse(await deviceEciesDecrypt(answer.body.encryptedData, this.encryption.privateKey)) };
  }
}

/**
 * A scripted Android app: its request-signing key is a Keystore key attested with the session's challenge (so it is
 * made after the challenge), registered with the chain and a Play Integrity token bound to that key's certificate.
 */
export class ScriptedAndroidApp {
  readonly clientId = `android-client-${Math.random().toString(36).slice(2, 10)}`;
  challengeHash?: string;
  serverKey?: string;
  key?: Awaited<ReturnType<typeof attestedAndroidKey>>;
  private constructor(private readonly api: string, readonly packageName: string, readonly encryption: Awaited<ReturnType<typeof selfSignedDeviceCert>>) {}

  static async create(api: string, packageName: string): Promise<ScriptedAndroidApp> {
    return new ScriptedAndroidApp(api, packageName, await selfSignedDeviceCert('device-encryption'));
  }

  private identity(sessionId: string) {
    return `s=${encodeURIComponent(sessionId)}&cid=${encodeURIComponent(this.clientId)}&sys=android`;
  }

  async challenge(sessionId: string): Promise<Answer> {
    const answer = await post(`${this.api}/attestation/challenge?${this.identity(sessionId)}`);
    if (answer.status === 200) this.challengeHash = answer.body.challengeHash;
    return answer;
  }

  /** Attests a fresh key for `challengeHash` and builds the register body; `verdict` overrides parts of Google's verdict. */
  async registerBody(pki: AndroidPki, options: { challengeHash?: string; verdict?: Record<string, unknown> } = {}) {
    this.key = await attestedAndroidKey(pki, Buffer.from(options.challengeHash ?? this.challengeHash!, 'hex'));
    const token = await playIntegrityToken(pki, createHash('sha256').update(this.key.der).digest('hex'), this.packageName, options.verdict);
    const certificateChain = [this.key.der, derOf(pki.intermediate.cert), derOf(pki.root.cert)].map((d) => d.toString('base64'));
    const payload = JSON.stringify({ challengeHash: this.challengeHash, encryptionPublicCert: this.encryption.pem, attestJson: JSON.stringify({ token, certificateChain }) });
    return { payload, authPublicCert: this.key.pem, signature: signB64(this.key.privateKey, payload) };
  }

  async register(sessionId: string, body: unknown): Promise<Answer> {
    const answer = await post(`${this.api}/attestation/register?${this.identity(sessionId)}`, body);
    if (answer.status === 200) this.serverKey = answer.body.serverEncryptionPublicKey;
    return answer;
  }

  async token(sessionId: string): Promise<{ answer: Answer; token?: string }> {
    const recipient = this.serverKey ?? throwawayKey();
    const encryptedData = await deviceEciesEncrypt(JSON.stringify({ challengeHash: this.challengeHash, clientId: this.clientId, system: 'android' }), recipient);
    const answer = await post(`${this.api}/session/token?s=${encodeURIComponent(sessionId)}`, { encryptedData, signature: signB64(this.key!.privateKey, encryptedData) });
    if (answer.status !== 200) return { answer };
    return { answer, token: JSON.parse(await deviceEciesDecrypt(answer.body.encryptedData, this.encryption.privateKey)).token };
  }

  async digest(sessionId: string, digest: string): Promise<Answer> {
    const encryptedData = await deviceEciesEncrypt(JSON.stringify({ cid: this.clientId, os: 'android', digest }), this.serverKey!);
    return post(`${this.api}/liveness/digest?s=${encodeURIComponent(sessionId)}`, { encryptedData, signature: signB64(this.key!.privateKey, encryptedData) });
  }
}
