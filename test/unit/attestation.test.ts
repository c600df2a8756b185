// Device attestation, in process: the core's rules, ECIES against an independent WebCrypto implementation, and each
// platform verifier under test roots made here (good; forged signature; wrong root; wrong app; wrong challenge;
// replayed counter; a proof from another session).
import 'reflect-metadata';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { advanceCounter, assertBinding, assertStage, attestationRequired, AttestationRefusedError, type SessionAttestation } from '../../src/core/attestation.js';
import { AndroidAttestationVerifier } from '../../src/adapters/attestation/android-key-attestation.js';
import { AppAttestVerifier } from '../../src/adapters/attestation/app-attest.js';
import { normaliseSerial } from '../../src/adapters/attestation/revocation.js';
import { eciesDecrypt, eciesEncrypt, generateP256KeyPair } from '../../src/adapters/attestation/ecies.js';
import { GooglePlayIntegrityDecoder, LocalPlayIntegrityDecoder } from '../../src/adapters/attestation/play-integrity.js';
import { attestationDeps } from '../../src/composition.js';
import { parseConfig } from '../../src/config/config.js';
import {
  AAGUID_DEVELOPMENT, androidPki, appAttestPki, attestedAndroidKey, derOf, deviceEciesDecrypt, deviceEciesEncrypt, intermediateCa,
  playIntegrityKeySettings, playIntegrityToken, rootCa, ScriptedAppAttestKey, SecurityLevel, selfSignedDeviceCert,
} from '../support/attestation-pki.js';

const APP_ID = 'ABCDE12345.com.example.liveness';
const now = () => new Date();
const challenge = () => randomBytes(32).toString('hex');

describe('core rules', () => {
  const state: SessionAttestation = { platform: 'ios', clientId: 'c1', challengeHash: 'aa'.repeat(32), challengeDateTime: '2026-01-01T00:00:00Z', stage: 'challenged' };
  it('a challenge binds the session, client and platform', () => {
    expect(() => assertBinding(state, { challengeHash: 'aa'.repeat(32), clientId: 'c1', platform: 'ios' })).not.toThrow();
    expect(() => assertBinding(state, { challengeHash: 'bb'.repeat(32), clientId: 'c1', platform: 'ios' })).toThrow(AttestationRefusedError);
    expect(() => assertBinding(state, { challengeHash: 'aa'.repeat(32), clientId: 'c2', platform: 'ios' })).toThrow(/client id or platform/);
    expect(() => assertBinding(state, { challengeHash: 'aa'.repeat(32), clientId: 'c1', platform: 'android' })).toThrow(AttestationRefusedError);
    expect(() => assertBinding(undefined, { challengeHash: 'aa'.repeat(32), clientId: 'c1', platform: 'ios' })).toThrow(/challenge first/);
  });
  it('each step happens once, in order', () => {
    expect(assertStage(state, 'challenged')).toBe(state);
    expect(() => assertStage({ ...state, stage: 'keyed' }, 'challenged')).toThrow(/'challenged'/);
    expect(() => assertStage({ ...state, stage: 'tokenReleased' }, 'keyed')).toThrow(/'keyed'/);
  });
  it('counters only grow', () => {
    expect(advanceCounter(3, 4)).toBe(4);
    expect(() => advanceCounter(3, 3)).toThrow(/did not increase/);
    expect(() => advanceCounter(3, 1)).toThrow(AttestationRefusedError);
  });
  it('policy: required per platform, never for web', () => {
    const policy = { ios: 'required', android: 'off' } as const;
    expect(attestationRequired('ios', policy)).toBe(true);
    expect(attestationRequired('android', policy)).toBe(false);
    expect(attestationRequired('web', policy)).toBe(false);
    expect(attestationRequired(undefined, policy)).toBe(false);
  });
});

describe('ECIES (Tink layout)', () => {
  it('round-trips with an independent WebCrypto implementation, both ways, and refuses a tampered ciphertext', async () => {
    const server = generateP256KeyPair();
    expect(eciesDecrypt(await deviceEciesEncrypt('to the server', server.publicKeyPem), server.privateKeyPem).toString()).toBe('to the server');
    const device = await selfSignedDeviceCert('enc');
    const sealed = eciesEncrypt('to the device', device.publicKey);
    expect(await deviceEciesDecrypt(sealed, device.privateKey)).toBe('to the device');
    const bytes = Buffer.from(sealed, 'base64');
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 1;
    expect(() => eciesDecrypt(bytes.toString('base64'), device.privateKey)).toThrow();
    expect(() => eciesDecrypt(sealed, generateP256KeyPair().privateKeyPem)).toThrow();
  });
});

describe('App Attest verifier', async () => {
  const pki = await appAttestPki();
  const verifier = new AppAttestVerifier({ appId: APP_ID, allowDevelopment: false, rootsPem: [pki.root.pem] });
  const auth = await selfSignedDeviceCert('auth');
  async function envelope(key: ScriptedAppAttestKey, challengeHash: string, tamper: Parameters<ScriptedAppAttestKey['attest']>[2] = {}) {
    return JSON.stringify({ attestation: await key.attest(pki, Buffer.from(challengeHash, 'hex'), tamper), assertion: key.assert(auth.der) });
  }

  it('accepts a good attestation and then growing assertions', async () => {
    const key = await ScriptedAppAttestKey.create(APP_ID);
    const c = challenge();
    const registered = await verifier.verifyRegistration(await envelope(key, c), c, auth.pem, now());
    expect(registered).toMatchObject({ signCount: 1, environment: 'production' });
    expect(verifier.verifyAssertion(registered.credCertPem, key.assert(Buffer.from('payload')), Buffer.from('payload'))).toBe(2);
  });
  it('refuses a forged signature, a wrong root, a wrong app, a wrong challenge, another session\'s proof, the development environment', async () => {
    const key = await ScriptedAppAttestKey.create(APP_ID);
    const c = challenge();
    const good = JSON.parse(await envelope(key, c));
    const forged = await ScriptedAppAttestKey.create(APP_ID);
    // An assertion by another key (forged signature over the signing certificate).
    await expect(verifier.verifyRegistration(JSON.stringify({ ...good, assertion: forged.assert(auth.der) }), c, auth.pem, now())).rejects.toMatchObject({ reason: 'BadAssertion' });
    await expect(verifier.verifyRegistration(await envelope(key, c, { signer: await rootCa('Attacker CA') }), c, auth.pem, now())).rejects.toMatchObject({ reason: 'BadSignature' });
    const otherRoot = new AppAttestVerifier({ appId: APP_ID, allowDevelopment: false, rootsPem: [(await rootCa('Other root')).pem] });
    await expect(otherRoot.verifyRegistration(await envelope(key, c), c, auth.pem, now())).rejects.toMatchObject({ reason: 'UntrustedRoot' });
    await expect(verifier.verifyRegistration(await envelope(key, c, { appId: 'ZZZZZ99999.com.attacker' }), c, auth.pem, now())).rejects.toMatchObject({ reason: 'WrongApp' });
    await expect(verifier.verifyRegistration(await envelope(key, c), challenge(), auth.pem, now())).rejects.toMatchObject({ reason: 'ChallengeMismatch' });
    const other = challenge();
    await expect(verifier.verifyRegistration(await envelope(key, c, { nonceFor: Buffer.from(other, 'hex') }), c, auth.pem, now())).rejects.toMatchObject({ reason: 'ChallengeMismatch' });
    await expect(verifier.verifyRegistration(await envelope(key, c, { aaguid: AAGUID_DEVELOPMENT }), c, auth.pem, now())).rejects.toMatchObject({ reason: 'DevelopmentEnvironment' });
    // The registration assertion must be over the signing certificate it registers.
    const otherAuth = await selfSignedDeviceCert('other');
    await expect(verifier.verifyRegistration(JSON.stringify(good), c, otherAuth.pem, now())).rejects.toMatchObject({ reason: 'BadAssertion' });
  });
  it('reports a replayed assertion counter for the core to refuse', async () => {
    const key = await ScriptedAppAttestKey.create(APP_ID);
    const c = challenge();
    const { credCertPem } = await verifier.verifyRegistration(await envelope(key, c), c, auth.pem, now());
    const presented = verifier.verifyAssertion(credCertPem, key.assert(Buffer.from('x'), { counter: 1 }), Buffer.from('x'));
    expect(() => advanceCounter(1, presented)).toThrow(/did not increase/);
    expect(() => verifier.verifyAssertion(credCertPem, key.assert(Buffer.from('x')), Buffer.from('y'))).toThrow(/does not verify/);
  });
});

describe('Android Key Attestation + Play Integrity verifier', async () => {
  const pki = await androidPki();
  const { root, intermediate } = pki;
  const decoder = new LocalPlayIntegrityDecoder({
    decryptionKeyBase64: playIntegrityKeySettings(pki).ATTESTATION_PLAY_INTEGRITY_DECRYPTION_KEY,
    verificationKeyBase64: playIntegrityKeySettings(pki).ATTESTATION_PLAY_INTEGRITY_VERIFICATION_KEY,
  });
  const revoked = new Set<string>();
  const policy = { packageName: 'com.example.liveness', minimumDeviceIntegrity: 'strong' as const, allowDevelopment: false, maxAgeMs: 300_000 };
  const verifier = new AndroidAttestationVerifier({ ...policy, rootsPem: [root.pem] }, decoder, { isRevoked: async (s) => revoked.has(normaliseSerial(s)) });
  const leaf = (challengeHash: string, options: { level?: SecurityLevel; issuer?: typeof intermediate } = {}) =>
    attestedAndroidKey(pki, Buffer.from(challengeHash, 'hex'), options.level, options.issuer);
  const token = (requestHash: string, overrides: Record<string, unknown> = {}) => playIntegrityToken(pki, requestHash, 'com.example.liveness', overrides);
  const attest = async (l: { der: Buffer }, t: string, chain = [l.der, derOf(intermediate.cert), derOf(root.cert)]) =>
    JSON.stringify({ token: t, certificateChain: chain.map((d) => d.toString('base64')) });
  const hashOf = (der: Buffer) => createHash('sha256').update(der).digest('hex');

  it('accepts a hardware key bound to the challenge with a verdict bound to that key', async () => {
    const c = challenge();
    const l = await leaf(c);
    await expect(verifier.verifyRegistration(await attest(l, await token(hashOf(l.der))), c, l.pem, now())).resolves.toMatchObject({ securityLevel: 'TrustedEnvironment' });
  });
  it('refuses a wrong root, a software key, another challenge, a verdict for another key, another app, a weak device, a forged verdict, a revoked certificate', async () => {
    const c = challenge();
    const l = await leaf(c);
    const t = await token(hashOf(l.der));
    const rogueRoot = await rootCa('Rogue root');
    const rogue = await intermediateCa(rogueRoot, 'Rogue intermediate');
    const rogueLeaf = await leaf(c, { issuer: rogue });
    await expect(verifier.verifyRegistration(await attest(rogueLeaf, await token(hashOf(rogueLeaf.der)), [rogueLeaf.der, derOf(rogue.cert), derOf(rogueRoot.cert)]), c, rogueLeaf.pem, now())).rejects.toMatchObject({ reason: 'UntrustedRoot' });
    const software = await leaf(c, { level: SecurityLevel.software });
    await expect(verifier.verifyRegistration(await attest(software, await token(hashOf(software.der))), c, software.pem, now())).rejects.toMatchObject({ reason: 'SoftwareKey' });
    await expect(verifier.verifyRegistration(await attest(l, t), challenge(), l.pem, now())).rejects.toMatchObject({ reason: 'ChallengeMismatch' });
    const other = await leaf(c);
    await expect(verifier.verifyRegistration(await attest(l, await token(hashOf(other.der))), c, l.pem, now())).rejects.toMatchObject({ reason: 'RequestHashMismatch' });
    await expect(verifier.verifyRegistration(await attest(l, t), c, other.pem, now())).rejects.toMatchObject({ reason: 'LeafMismatch' });
    await expect(verifier.verifyRegistration(await attest(l, await token(hashOf(l.der), { appIntegrity: { appRecognitionVerdict: 'PLAY_RECOGNIZED', packageName: 'com.attacker' } })), c, l.pem, now())).rejects.toMatchObject({ reason: 'WrongApp' });
    await expect(verifier.verifyRegistration(await attest(l, await token(hashOf(l.der), { deviceIntegrity: { deviceRecognitionVerdict: ['MEETS_BASIC_INTEGRITY'] } })), c, l.pem, now())).rejects.toMatchObject({ reason: 'DeviceIntegrity' });
    const [h, p] = t.split('.');
    await expect(verifier.verifyRegistration(await attest(l, `${h}.${p}.AAAA.BBBB.CCCC`), c, l.pem, now())).rejects.toMatchObject({ reason: 'UndecryptableToken' });
    revoked.add(normaliseSerial(l.cert.serialNumber));
    await expect(verifier.verifyRegistration(await attest(l, t), c, l.pem, now())).rejects.toMatchObject({ reason: 'Revoked' });
  });
});

describe('Google Play Integrity API adapter (the sample\'s way), over a fake fetch', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serviceAccountJson = JSON.stringify({ client_email: 'verifier@project.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
  const verdict = { requestDetails: { requestHash: 'ab', timestampMillis: '1' }, appIntegrity: { packageName: 'com.example.liveness' } };

  it('signs an OAuth assertion, then decodes the token with the access token it got', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      if (url.endsWith('/token')) return new Response(JSON.stringify({ access_token: 'at-1', expires_in: 3600 }), { status: 200 });
      return new Response(JSON.stringify({ tokenPayloadExternal: verdict }), { status: 200 });
    }) as typeof fetch;
    const decoder = new GooglePlayIntegrityDecoder({ serviceAccountJson, packageName: 'com.example.liveness', fetch: fakeFetch });
    await expect(decoder.decode('integrity-token')).resolves.toMatchObject(verdict);
    expect(calls[0]!.url).toBe('https://oauth2.googleapis.com/token');
    const assertion = new URLSearchParams(String(calls[0]!.init.body)).get('assertion')!;
    expect(JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString())).toMatchObject({
      iss: 'verifier@project.iam.gserviceaccount.com', aud: 'https://oauth2.googleapis.com/token', scope: 'https://www.googleapis.com/auth/playintegrity',
    });
    expect(calls[1]!.url).toBe('https://playintegrity.googleapis.com/v1/com.example.liveness:decodeIntegrityToken');
    expect((calls[1]!.init.headers as Record<string, string>).authorization).toBe('Bearer at-1');
    expect(JSON.parse(String(calls[1]!.init.body))).toEqual({ integrity_token: 'integrity-token' });
  });

  it('says whether Google was unavailable or refused the token', async () => {
    const answering = (status: number) => (async (url: string) => (url.endsWith('/token')
      ? new Response(JSON.stringify({ access_token: 'at', expires_in: 3600 }))
      : new Response('{}', { status }))) as typeof fetch;
    await expect(new GooglePlayIntegrityDecoder({ serviceAccountJson, packageName: 'p', fetch: answering(503) }).decode('t')).rejects.toMatchObject({ reason: 'GoogleUnavailable', unavailable: true });
    await expect(new GooglePlayIntegrityDecoder({ serviceAccountJson, packageName: 'p', fetch: answering(400) }).decode('t')).rejects.toMatchObject({ reason: 'TokenRejected', unavailable: false });
  });
});

describe('attestation settings', () => {
  const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', FACE_ENDPOINT: 'http://127.0.0.1:1', DEVICE_AUTH_ISSUER: 'http://127.0.0.1:2', DEVICE_AUTH_AUDIENCE: 'a' };
  it('defaults: off, Apple\'s and Google\'s real roots, no verifier configured', () => {
    const config = parseConfig(base);
    expect(config.liveness.attestationPolicy).toEqual({ ios: 'off', android: 'off' });
    expect(config.attestation.ios).toBeUndefined();
    expect(parseConfig({ ...base, ATTESTATION_IOS_APP_ID: APP_ID }).attestation.ios!.rootsPem[0]).toContain('MIICITCCAaegAwIBAgIQC/O+DvHN0uD7jG5yH2IXmDAKBggqhkjOPQQDAzBSMSYw');
  });
  it('refuses a required platform without what it needs, naming the settings', () => {
    expect(() => parseConfig({ ...base, ATTESTATION_IOS_APP_ID: 'not-an-app-id' })).toThrow(/ATTESTATION_IOS_APP_ID/);
    const required = parseConfig({ ...base, LIVENESS_ATTESTATION_IOS: 'required', LIVENESS_ATTESTATION_ANDROID: 'required', ATTESTATION_ANDROID_PACKAGE_NAME: 'com.x' });
    expect(() => attestationDeps(required, {} as never)).toThrow(/ATTESTATION_IOS_APP_ID[\s\S]*ATTESTATION_PLAY_INTEGRITY_SERVICE_ACCOUNT_JSON/);
  });
});
