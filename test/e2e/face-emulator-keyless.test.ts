// The keyless path: Entra ID bearer tokens for the Face resource (audience https://cognitiveservices.azure.com)
// against the emulator, which checks them against the dev issuer's keys. The Azure SDK sends bearer tokens over https
// only, so the emulator serves https here with a throwaway self-signed certificate (openssl). First the official
// client with a managed-identity-style token credential; then the app itself with no FACE_API_KEY: its
// DefaultAzureCredential takes the App Service managed-identity route (IDENTITY_ENDPOINT / IDENTITY_HEADER, served by
// the dev issuer), exactly as in Azure, and a whole check runs through it.
import { spawnSync } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import createClient, { isUnexpected } from '@azure-rest/ai-vision-face';
import { AzureKeyCredential, type AccessToken, type TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COGNITIVE_SERVICES_AUDIENCE, startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';
import { DEV_IDENTITY_HEADER, startDevIssuer, type RunningDevIssuer } from '../../dev/oidc-issuer/issuer.js';
import { bearer, checkedFetch, createSession, eventually, fixture, getJson, startStack, type Stack } from '../support/liveness.js';

const KEY = 'keyless-test-key';
const GRACE = fixture('face-grace-hopper.jpg');
const issuerUrl = inject('issuerUrl');

let dir: string;
let cert: string;
let emulator: RunningFaceEmulator;
let foreignIssuer: RunningDevIssuer;

/** What ManagedIdentityCredential does on App Service: GET IDENTITY_ENDPOINT?resource=… with X-IDENTITY-HEADER. */
const managedIdentity = (resource = COGNITIVE_SERVICES_AUDIENCE): TokenCredential => ({
  async getToken(): Promise<AccessToken> {
    const res = await fetch(`${issuerUrl}/msi/token?resource=${encodeURIComponent(resource)}&api-version=2019-08-01`, {
      headers: { 'x-identity-header': DEV_IDENTITY_HEADER },
    });
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    const body = await res.json() as { access_token: string; expires_on: string };
    return { token: body.access_token, expiresOnTimestamp: Number(body.expires_on) * 1000 };
  },
});
const fixed = (token: string): TokenCredential => ({ getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) });

const clientWith = (credential: TokenCredential, apiVersion = 'v1.2') => createClient(emulator.url, credential, {
  apiVersion: apiVersion as 'v1.2', tlsOptions: { ca: readFileSync(cert) }, retryOptions: { maxRetries: 0 },
});

/** The device call over https to the test certificate (what performDeviceAttempt does, with the certificate trusted). */
async function deviceAttempt(authToken: string, capture: Uint8Array): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('Content', new Blob([new Uint8Array(capture)]), 'capture.jpg');
  form.append('Metadata', JSON.stringify({ sdk: 'keyless-test' }));
  const encoded = new Request('http://form.invalid', { method: 'POST', body: form });
  const body = Buffer.from(await encoded.arrayBuffer());
  return new Promise((resolve, reject) => {
    const req = https.request(`${emulator.url}/face/v1.3-preview.1/detectLivenessWithVerify/singleModal`, {
      method: 'POST', ca: readFileSync(cert),
      headers: { authorization: `Bearer ${authToken}`, 'content-type': encoded.headers.get('content-type')!, 'content-length': body.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function createBody() {
  return [
    { name: 'livenessOperationMode', body: 'Passive' }, { name: 'deviceCorrelationId', body: 'keyless-device' },
    { name: 'verifyImage', body: GRACE, filename: 'verify.jpg', contentType: 'application/octet-stream' },
  ];
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'face-keyless-'));
  cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const made = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
  [emulator, foreignIssuer] = await Promise.all([
    startFaceEmulator({ port: 0, apiKey: KEY, engine: 'stub', tls: { key: readFileSync(key), cert: readFileSync(cert) }, tokenAuth: { issuer: issuerUrl } }),
    startDevIssuer({ port: 0 }),
  ]);
});

afterAll(async () => {
  await Promise.all([emulator?.close(), foreignIssuer?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Entra ID bearer tokens at the emulator (official client)', () => {
  it('accepts a token for the Face resource from the configured issuer, on v1.2 and v1.3 management calls', async () => {
    for (const version of ['v1.2', 'v1.3-preview.1']) {
      const client = clientWith(managedIdentity(), version);
      const created = await client.path('/detectLivenessWithVerify-sessions').post({ contentType: 'multipart/form-data', body: createBody() as never });
      if (isUnexpected(created)) throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`);
      const got = await client.path('/detectLivenessWithVerify-sessions/{sessionId}', created.body.sessionId).get();
      expect(got.status).toBe('200');
      expect((await client.path('/detectLivenessWithVerify-sessions/{sessionId}', created.body.sessionId).delete()).status).toBe('204');
    }
    const settings = await clientWith(managedIdentity(), 'v1.3-preview.1').pathUnchecked('/settings').get();
    expect(settings.status).toBe('200');
  });

  it('refuses a token for another audience, from another issuer, or expired', async () => {
    const wrongAudience = managedIdentity('api://face-liveness-device');
    const foreign = fixed(await foreignIssuer.issueToken({ sub: 'intruder', aud: COGNITIVE_SERVICES_AUDIENCE }));
    const res = await fetch(`${issuerUrl}/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'late', aud: COGNITIVE_SERVICES_AUDIENCE, expires_in: -3600 }),
    });
    const expired = fixed(((await res.json()) as { access_token: string }).access_token);
    for (const credential of [wrongAudience, foreign, expired]) {
      const answer = await clientWith(credential).path('/detectLivenessWithVerify-sessions/{sessionId}', '00000000-0000-0000-0000-000000000000').get();
      expect(answer.status).toBe('401');
    }
  });
});

describe("the app's keyless credential path (no FACE_API_KEY: DefaultAzureCredential, managed identity)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      FACE_API_KEY: '',
      FACE_API_VERSION: 'v1.3-preview.1',
      IDENTITY_ENDPOINT: `${issuerUrl}/msi/token`,
      IDENTITY_HEADER: DEV_IDENTITY_HEADER,
      NODE_EXTRA_CA_CERTS: cert,
    }, { endpoint: emulator.url, key: KEY });
  });
  afterAll(async () => { await stack?.stop(); });

  it('creates, collects and decides a check with Entra ID tokens only', async () => {
    const created = await createSession(stack, GRACE, { deviceCorrelationId: 'keyless-phone' });
    const device = await deviceAttempt(created.authToken, GRACE);
    expect(device.status).toBe(200);
    const digest = (device.body as { digest: string }).digest;
    const res = await checkedFetch(`${stack.api}/liveness-sessions/${created.sessionId}/complete`, {
      method: 'POST', headers: { ...bearer(created.deviceToken), 'content-type': 'application/json' }, body: JSON.stringify({ digest }),
    });
    expect(res.status).toBe(202);
    const session = await eventually(async () => {
      const r = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`);
      return r.body?.decision ? r.body : undefined;
    }, 'the keyless session to be decided');
    expect(session.decision).toMatchObject({ outcome: 'pass', digestMatches: true });
    // Abuse monitoring was turned on at the resource with the same credential.
    const keyed = createClient(emulator.url, new AzureKeyCredential(KEY), { apiVersion: 'v1.3-preview.1' as 'v1.2', tlsOptions: { ca: readFileSync(cert) } });
    expect((await keyed.pathUnchecked('/settings').get()).body).toEqual({ livenessAbuseMonitoring: { enabled: true } });
    expect(stack.logs()).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/); // no token in the logs
  });
});
