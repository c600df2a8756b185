// A scripted iPhone app speaking Microsoft's device-attestation protocol over HTTP (the same calls, query names and
// bodies as the client library): challenge, register with App Attest, the encrypted token, the signed digest.
// Each step returns the raw answer, so tests can also forge, replay or cross sessions.
import { generateKeyPairSync } from 'node:crypto';
import { type AppAttestPki, deviceEciesDecrypt, deviceEciesEncrypt, ScriptedAppAttestKey, selfSignedDeviceCert, signB64 } from './attestation-pki.js';

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
    const recipient = options.serverKey ?? this.serverKey ?? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
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
