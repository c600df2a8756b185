// Attested mobile devices over HTTP, on the running stack (dev host, Azurite, Face emulator): a scripted iPhone app
// speaks Microsoft's device-attestation protocol, gets its Face token encrypted to itself, captures, reports its
// digest and passes; forged, replayed and cross-session attestations get no token. The App Attest root is a test CA
// made here and trusted by this host only through its settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseSerial } from '../../src/adapters/attestation/revocation.js';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { androidPki, appAttestPki, playIntegrityKeySettings, rootCa, signB64, type AndroidPki, type AppAttestPki } from '../support/attestation-pki.js';
import { ScriptedAndroidApp, ScriptedIosApp } from '../support/attested-device.js';
import { bearer, createSession, emulator, eventually, fixture, getJson, startStack, type Stack } from '../support/liveness.js';

const face = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
const APP_ID = 'ABCDE12345.com.example.liveness';
const MASTER_KEY = 'attest-master-key';
const PACKAGE = 'com.example.liveness';
let stack: Stack;
let pki: AppAttestPki;
let android: AndroidPki;
// Google's revocation list, served locally: the host reads it as it would read android.googleapis.com.
const revoked: Record<string, { status: string }> = {};
const revocationList = createServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.setHeader('cache-control', 'max-age=0'); res.end(JSON.stringify({ entries: revoked })); });

beforeAll(async () => {
  pki = await appAttestPki();
  android = await androidPki();
  await new Promise<void>((resolve) => revocationList.listen(0, '127.0.0.1', resolve));
  stack = await startStack({
    LIVENESS_ATTESTATION_ANDROID: 'required',
    ATTESTATION_GOOGLE_ROOTS_PEM: android.root.pem,
    ATTESTATION_ANDROID_REVOCATION_URL: `http://127.0.0.1:${(revocationList.address() as AddressInfo).port}/status`,
    ...playIntegrityKeySettings(android),
    DEVHOST_MASTER_KEY: MASTER_KEY,
    LIVENESS_ATTESTATION_IOS: 'required',
    ATTESTATION_IOS_APP_ID: APP_ID,
    ATTESTATION_APPLE_ROOTS_PEM: pki.root.pem,
    ATTESTATION_ANDROID_PACKAGE_NAME: PACKAGE,
    ATTESTATION_ANDROID_SHA256_CERT_FINGERPRINTS: 'AB:CD',
  });
});
afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => revocationList.close(resolve));
});

const attestedSession = () => createSession(stack, face, { platform: 'ios' });

describe('a scripted attested iPhone app', () => {
  it('gets no token from create, gets it through the protocol, passes, and its digest is stored with the session', async () => {
    const created = await attestedSession();
    expect(created.authToken).toBeUndefined();
    expect((created as any).attestation).toMatchObject({ required: true, platform: 'ios' });

    const app = await ScriptedIosApp.create(stack.api, APP_ID);
    expect((await app.challenge(created.sessionId)).status).toBe(200);
    expect(app.challengeHash).toMatch(/^[0-9a-f]{64}$/);
    // One challenge per session.
    expect((await app.challenge(created.sessionId)).status).toBe(409);
    const registered = await app.register(created.sessionId, await app.registerBody(pki));
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    const { answer, token } = await app.token(created.sessionId);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(JSON.stringify(answer.body)).not.toContain(token!);
    // Released once: a second request (a fresh, valid one) gets nothing.
    expect((await app.token(created.sessionId)).answer.status).toBe(409);

    const attempt = await performDeviceAttempt(stack.faceEndpoint, token!, capture);
    expect(attempt.status).toBeLessThan(300);
    // The app reports the digest its client SDK got for the attempt: Face's own (read here as the SDK would learn it),
    // so the digest binding lets the result through.
    const faceSessionId = (await stack.repository.get(created.sessionId))!.faceSessionId!;
    const faceSession = await emulator(stack, 'GET', `/face/v1.2/detectLivenessWithVerify-sessions/${faceSessionId}`);
    const faceDigest = (faceSession.body as { results: { attempts: Array<{ result?: { digest?: string } }> } }).results.attempts[0]?.result?.digest;
    expect(faceDigest).toMatch(/^[0-9A-Fa-f]+$/);
    const digest = await app.digest(created.sessionId, faceDigest!);
    expect(digest.answer.status, JSON.stringify(digest.answer.body)).toBe(200);
    expect(digest.ack).toMatchObject({ success: true });
    const stored = (await stack.repository.get(created.sessionId))!;
    expect(stored.attestedDigest).toMatchObject({ digest: faceDigest, source: 'attestation' });
    expect(stored.attestation?.stage).toBe('digested');
    expect(stored.attestation?.serverPrivateKeyPem).toBeUndefined();

    expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/complete`, { method: 'POST', headers: bearer(created.deviceToken) })).status).toBe(202);
    const session = await eventually(async () => {
      const r = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`, { headers: { 'x-functions-key': MASTER_KEY } });
      return ['ResultAvailable', 'Failed'].includes(r.body?.status) ? r.body : undefined;
    }, 'result');
    expect(session.status).toBe('ResultAvailable');
    expect(session.decision?.outcome ?? session.decision).toBeTruthy();
  });

  it('a returning device verifies with a fresh assertion instead of registering again', async () => {
    const app = await ScriptedIosApp.create(stack.api, APP_ID);
    const first = await attestedSession();
    await app.challenge(first.sessionId);
    expect((await app.register(first.sessionId, await app.registerBody(pki))).status).toBe(200);
    const second = await attestedSession();
    await app.challenge(second.sessionId);
    const verified = await app.verify(second.sessionId);
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(verified.body).toMatchObject({ exists: true });
    expect((await app.token(second.sessionId)).token).toBeTruthy();
  });
});

describe('a scripted attested Android app', () => {
  it('registers with Key Attestation and Play Integrity, gets its token, passes the capture and reports its digest', async () => {
    const created = await createSession(stack, face, { platform: 'android' });
    expect(created.authToken).toBeUndefined();
    const app = await ScriptedAndroidApp.create(stack.api, PACKAGE);
    expect((await app.challenge(created.sessionId)).status).toBe(200);
    const registered = await app.register(created.sessionId, await app.registerBody(android));
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    const { answer, token } = await app.token(created.sessionId);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect((await performDeviceAttempt(stack.faceEndpoint, token!, capture)).status).toBeLessThan(300);
    expect((await app.digest(created.sessionId, 'feedbeef01')).status).toBe(200);
    expect((await stack.repository.get(created.sessionId))!.attestedDigest?.digest).toBe('feedbeef01');
    // A signed digest that is not Face's digest of the attempt binds the result to a failure (DigestMismatch).
    expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/complete`, { method: 'POST', headers: bearer(created.deviceToken) })).status).toBe(202);
    const session = await eventually(async () => {
      const r = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`, { headers: { 'x-functions-key': MASTER_KEY } });
      return ['ResultAvailable', 'Failed'].includes(r.body?.status) ? r.body : undefined;
    }, 'result');
    expect(session).toMatchObject({ status: 'Failed', failureReason: 'DigestMismatch' });
  });

  it('gets no token with a weak device verdict, a verdict for another app, or a revoked attestation key', async () => {
    for (const verdict of [
      { deviceIntegrity: { deviceRecognitionVerdict: ['MEETS_BASIC_INTEGRITY'] } },
      { appIntegrity: { appRecognitionVerdict: 'PLAY_RECOGNIZED', packageName: 'com.attacker.app' } },
    ]) {
      const created = await createSession(stack, face, { platform: 'android' });
      const app = await ScriptedAndroidApp.create(stack.api, PACKAGE);
      await app.challenge(created.sessionId);
      expect((await app.register(created.sessionId, await app.registerBody(android, { verdict }))).status).toBe(401);
    }
    const created = await createSession(stack, face, { platform: 'android' });
    const app = await ScriptedAndroidApp.create(stack.api, PACKAGE);
    await app.challenge(created.sessionId);
    const body = await app.registerBody(android);
    revoked[normaliseSerial(app.key!.cert.serialNumber)] = { status: 'REVOKED' };
    // The host caches the list as long as its Cache-Control says (here: not at all), so it sees the new entry.
    const answer = await app.register(created.sessionId, body);
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('Revoked');
    expect((await app.token(created.sessionId)).answer.status).toBe(409);
  });
});

describe('attacks get no token', () => {
  async function challenged() {
    const created = await attestedSession();
    const app = await ScriptedIosApp.create(stack.api, APP_ID);
    await app.challenge(created.sessionId);
    return { created, app };
  }

  it('a forged attestation (a CA of the attacker\'s own) is refused', async () => {
    const { created, app } = await challenged();
    const forged = await app.registerBody(pki, { tamper: { signer: await rootCa('Attacker CA') } });
    const answer = await app.register(created.sessionId, forged);
    expect(answer.status).toBe(401);
    expect((await app.token(created.sessionId)).answer.status).toBe(409);
  });

  it('another app\'s attestation is refused', async () => {
    const { created, app } = await challenged();
    expect((await app.register(created.sessionId, await app.registerBody(pki, { tamper: { appId: 'ZZZZZ99999.com.attacker.app' } }))).body.error.code).toBe('WrongApp');
  });

  it('a proof made for another session is refused (cross-session)', async () => {
    const a = await challenged();
    const b = await challenged();
    // The attestation bound to session A's challenge, presented to session B (with B's or A's challenge hash).
    const proofForA = await a.app.registerBody(pki);
    expect((await b.app.register(b.created.sessionId, proofForA)).body.error.code).toBe('ChallengeMismatch');
    const bodyForB = await b.app.registerBody(pki, { tamper: { nonceFor: Buffer.from(a.app.challengeHash!, 'hex') } });
    expect((await b.app.register(b.created.sessionId, bodyForB)).body.error.code).toBe('ChallengeMismatch');
    expect((await b.app.token(b.created.sessionId)).answer.status).toBe(409);
  });

  it('a replayed registration and a replayed token request are refused', async () => {
    const { created, app } = await challenged();
    const body = await app.registerBody(pki);
    expect((await app.register(created.sessionId, body)).status).toBe(200);
    expect((await app.register(created.sessionId, body)).status).toBe(409);
    const request = await app.sealed({ challengeHash: app.challengeHash, clientId: app.clientId, system: 'ios' });
    expect((await app.tokenRequest(created.sessionId, request)).status).toBe(200);
    expect((await app.tokenRequest(created.sessionId, request)).status).not.toBe(200);
  });

  it('a token request with a replayed assertion counter, or not signed by the attested key, is refused', async () => {
    const { created, app } = await challenged();
    expect((await app.register(created.sessionId, await app.registerBody(pki))).status).toBe(200);
    const message = { challengeHash: app.challengeHash, clientId: app.clientId, system: 'ios' };
    const replayed = await app.sealed(message, { counter: 1 });
    expect((await app.tokenRequest(created.sessionId, replayed)).body.error.code).toBe('ReplayedAssertion');
    const sealed = await app.sealed(message);
    const unsigned = { ...sealed, signature: signB64(app.encryption.privateKey, sealed.encryptedData) };
    expect((await app.tokenRequest(created.sessionId, unsigned)).body.error.code).toBe('SignatureInvalid');
    expect((await app.token(created.sessionId)).token).toBeTruthy();
  });

  it('a session not created for attestation, and a web session, do not speak the protocol', async () => {
    const web = await createSession(stack, face, { platform: 'web' });
    expect(web.authToken).toBeTruthy();
    const app = await ScriptedIosApp.create(stack.api, APP_ID);
    expect((await app.challenge(web.sessionId)).status).toBe(404);
  });

  it('serves the app-link documents from settings', async () => {
    const aasa = await (await fetch(`${stack.api}/well-known/apple-app-site-association`)).json() as any;
    expect(aasa.applinks.details[0].appIDs).toEqual([APP_ID]);
    const links = await (await fetch(`${stack.api}/well-known/assetlinks.json`)).json() as any;
    expect(links[0].target).toMatchObject({ package_name: 'com.example.liveness', sha256_cert_fingerprints: ['AB:CD'] });
  });
});
