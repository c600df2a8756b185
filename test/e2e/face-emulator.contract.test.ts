// Contract tests for the Face API v1.2 liveness-with-verify emulator (dev/face-emulator), driven through the
// official REST client @azure-rest/ai-vision-face@1.0.0-beta.3 exactly as the app server uses it, plus the device
// call (dev/face-emulator/device.ts) and the /emulator/* control endpoints. The emulator is shared with other
// suites (started by test/setup/global-setup.ts), so clock advances and faults are always scoped to our own
// session ids / paths.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import createClient, { isUnexpected } from '@azure-rest/ai-vision-face';
import { AzureKeyCredential } from '@azure/core-auth';
import sharp from 'sharp';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { encodeBmp24 } from '../../dev/face-emulator/bmp.js';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';

const endpoint = inject('faceEndpoint');
const apiKey = inject('faceApiKey');

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));
const GRACE = fixture('face-grace-hopper.jpg');
const ASTRONAUT = fixture('face-astronaut.png');
const COFFEE = fixture('noface-coffee.png');
const CAT = fixture('noface-cat-chelsea.png');

const sha256Upper = (...parts: Array<Uint8Array | string>): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').toUpperCase();
};

const ACCESS_DENIED = 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.';
const SESSION_NOT_FOUND = 'Session ID is not found. The session ID is expired or does not exist.';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const client = createClient(endpoint, new AzureKeyCredential(apiKey), { allowInsecureConnection: true });
/** For fault tests: the SDK's retry policy would otherwise honour Retry-After and retry 429/503 itself. */
const noRetryClient = createClient(endpoint, new AzureKeyCredential(apiKey), {
  allowInsecureConnection: true, retryOptions: { maxRetries: 0 },
});

type Part = { name: string; body: string | number | boolean | Uint8Array; filename?: string; contentType?: string };

let deviceCounter = 0;
function parts(overrides: Record<string, string | number | boolean | null> = {}, image: Uint8Array | null = GRACE, filename = 'verify.jpg'): Part[] {
  const values: Record<string, string | number | boolean | null> = {
    livenessOperationMode: 'PassiveActive',
    deviceCorrelationId: `contract-device-${process.pid}-${++deviceCounter}`,
    ...overrides,
  };
  const list: Part[] = Object.entries(values).filter(([, v]) => v !== null).map(([name, body]) => ({ name, body: body! }));
  if (image) list.push({ name: 'verifyImage', body: image, filename, contentType: 'application/octet-stream' });
  return list;
}

async function create(overrides: Record<string, string | number | boolean | null> = {}, image: Uint8Array | null = GRACE, filename?: string) {
  // The parts are deliberately looser than the SDK's type (odd values, missing parts): the emulator must judge them.
  return client.path('/detectLivenessWithVerify-sessions').post({ contentType: 'multipart/form-data', body: parts(overrides, image, filename) as never });
}

async function createOk(overrides: Record<string, string | number | boolean | null> = {}, image: Uint8Array | null = GRACE) {
  const res = await create(overrides, image);
  if (isUnexpected(res)) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function getSession(sessionId: string) {
  return client.path('/detectLivenessWithVerify-sessions/{sessionId}', sessionId).get();
}

async function control(method: string, path: string, body?: unknown, key: string | null = apiKey): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (key !== null) headers['ocp-apim-subscription-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${endpoint}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function expectError(res: { status: string; headers: Record<string, string>; body: unknown }, status: string, code: string, message?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['x-ms-error-code']).toBe(code);
  const error = (res.body as { error: { code: string; message: string } }).error;
  expect(error.code).toBe(code);
  if (message !== undefined) expect(error.message).toBe(message);
}

let twoFaces: Buffer;
beforeAll(async () => {
  // Two different real faces side by side: the only honest way to get a "more than one face" image offline.
  const astronautRgb = await sharp(ASTRONAUT).removeAlpha().toBuffer();
  twoFaces = await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#808080' } })
    .composite([{ input: GRACE, left: 0, top: 0 }, { input: astronautRgb, left: 512, top: 0 }])
    .jpeg({ quality: 90 }).toBuffer();
});

describe('Face emulator: session lifecycle through the official client', () => {
  it('create → get → device attempt → get → session image → delete → 404', async () => {
    const deviceCorrelationId = `lifecycle-${Date.now()}`;
    const createRes = await create({ deviceCorrelationId, enableSessionImage: true, returnVerifyImageHash: true, authTokenTimeToLiveInSeconds: 300 });
    expect(createRes.status).toBe('200');
    expect(createRes.headers['apim-request-id']).toMatch(UUID);
    if (isUnexpected(createRes)) throw new Error('unexpected');
    const created = createRes.body;
    expect(created.sessionId).toMatch(UUID);
    expect(created.authToken).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(created.status).toBe('NotStarted');
    expect(created.modelVersion).toBe('2024-11-15');
    expect(created.results.attempts).toEqual([]);
    expect(created.results.verifyReferences).toHaveLength(1);
    const ref = created.results.verifyReferences[0]!;
    expect(ref.referenceType).toBe('image');
    expect(ref.qualityForRecognition).toBe('high');
    // Grace Hopper's face is in the upper middle of the 512×512 portrait (detector box ≈ left 130, top 83, 261 px).
    expect(ref.faceRectangle.left).toBeGreaterThan(100);
    expect(ref.faceRectangle.left).toBeLessThan(170);
    expect(ref.faceRectangle.top).toBeGreaterThan(50);
    expect(ref.faceRectangle.top).toBeLessThan(120);
    expect(ref.faceRectangle.width).toBeGreaterThan(220);
    expect(ref.faceRectangle.width).toBeLessThan(300);

    const get1 = await getSession(created.sessionId);
    expect(get1.status).toBe('200');
    if (isUnexpected(get1)) throw new Error('unexpected');
    expect(get1.body.sessionId).toBe(created.sessionId);
    expect(get1.body.authToken).toBe(created.authToken);
    expect(get1.body.results.attempts).toEqual([]);

    const listed = await control('GET', '/emulator/sessions');
    expect(listed.status).toBe(200);
    const mine = listed.body.sessions.find((s: { sessionId: string }) => s.sessionId === created.sessionId);
    expect(mine).toMatchObject({ sessionId: created.sessionId, deviceCorrelationId, deleted: false, attempts: 0 });

    const capture = await sharp(GRACE).resize(400).webp().toBuffer();
    const metadata = 'opaque-sdk-metadata-1';
    const device = await performDeviceAttempt(endpoint, created.authToken, capture, { metadata });
    expect(device).toEqual({ status: 204 });

    const get2 = await getSession(created.sessionId);
    if (isUnexpected(get2)) throw new Error('unexpected');
    expect(get2.body.status).toBe('Succeeded');
    expect(get2.body.results.attempts).toHaveLength(1);
    const attempt = get2.body.results.attempts[0]!;
    expect(attempt.attemptId).toBe(1);
    expect(attempt.attemptStatus).toBe('Succeeded');
    expect(attempt.error).toBeUndefined();
    const result = attempt.result!;
    expect(result.livenessDecision).toBe('realface');
    expect(result.verifyResult).toEqual({ matchConfidence: 0.95, isIdentical: true });
    expect(result.verifyImageHash).toBe(sha256Upper(GRACE));
    expect(result.digest).toMatch(/^[0-9A-F]{64}$/);
    expect(result.digest).toBe(sha256Upper(capture, metadata));
    expect(result.targets.color.faceRectangle.width).toBeGreaterThan(100); // found in the 400 px capture
    expect(typeof result.sessionImageId).toBe('string');

    // Binary bodies must be read as a stream: the client's default body for octet-stream is a decoded string.
    const image = await client.path('/sessionImages/{sessionImageId}', result.sessionImageId!).get().asNodeStream();
    expect(image.status).toBe('200');
    expect(image.headers['content-type']).toBe('application/octet-stream');
    const chunks: Buffer[] = [];
    for await (const chunk of image.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).equals(capture)).toBe(true);

    const del = await client.path('/detectLivenessWithVerify-sessions/{sessionId}', created.sessionId).delete();
    expect(del.status).toBe('204');
    expect(isUnexpected(del)).toBe(false);

    const get3 = await getSession(created.sessionId);
    expectError(get3, '404', 'SessionNotFound', SESSION_NOT_FOUND);
    const del2 = await client.path('/detectLivenessWithVerify-sessions/{sessionId}', created.sessionId).delete();
    expectError(del2, '404', 'SessionNotFound', SESSION_NOT_FOUND);

    const imageAfter = await client.path('/sessionImages/{sessionImageId}', result.sessionImageId!).get();
    expect(imageAfter.status).toBe('404');
    const deviceAfter = await performDeviceAttempt(endpoint, created.authToken, capture);
    expect(deviceAfter.status).toBe(401);
    expect(deviceAfter.body).toMatchObject({ error: { code: 'Unauthorized' } });

    const listedAfter = await control('GET', '/emulator/sessions');
    expect(listedAfter.body.sessions.some((s: { sessionId: string }) => s.sessionId === created.sessionId)).toBe(false);
  });

  it('omits verifyImageHash and sessionImageId unless asked, and lists attempts newest first', async () => {
    const session = await createOk();
    for (let i = 0; i < 3; i++) expect((await performDeviceAttempt(endpoint, session.authToken, GRACE, { metadata: `m${i}` })).status).toBe(204);
    const got = await getSession(session.sessionId);
    if (isUnexpected(got)) throw new Error('unexpected');
    expect(got.body.results.attempts.map((a) => a.attemptId)).toEqual([3, 2, 1]);
    expect(got.body.results.attempts[0]!.result!.digest).toBe(sha256Upper(GRACE, 'm2'));
    expect(got.body.results.attempts[0]!.result!.verifyImageHash).toBeUndefined();
    expect(got.body.results.attempts[0]!.result!.sessionImageId).toBeUndefined();

    // At most 3 attempts per session token.
    const fourth = await performDeviceAttempt(endpoint, session.authToken, GRACE);
    expect(fourth.status).toBe(403);
    expect(fourth.body).toMatchObject({ error: { code: 'AttemptLimitExceeded' } });
    const after = await getSession(session.sessionId);
    if (isUnexpected(after)) throw new Error('unexpected');
    expect(after.body.results.attempts).toHaveLength(3);
  });

  it('accepts PNG, WebP, GIF and BMP verify images and lower-case operation modes', async () => {
    const astronaut = await createOk({ livenessOperationMode: 'passive' }, ASTRONAUT);
    expect(astronaut.results.verifyReferences).toHaveLength(1);
    expect(astronaut.results.verifyReferences[0]!.faceRectangle.width).toBeGreaterThan(100);

    const webp = await createOk({ livenessOperationMode: 'passiveactive' }, await sharp(GRACE).webp().toBuffer());
    const gif = await createOk({}, await sharp(GRACE).gif().toBuffer());
    const raw = await sharp(GRACE).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const bmp = encodeBmp24({ width: raw.info.width, height: raw.info.height, data: raw.data });
    const bmpSession = await createOk({}, bmp);
    for (const s of [webp, gif, bmpSession]) {
      expect(s.results.verifyReferences).toHaveLength(1);
      expect(Math.abs(s.results.verifyReferences[0]!.faceRectangle.left - 130)).toBeLessThan(40);
    }
  });

  it('accepts the legacy Parameters envelope and unquoted disposition names (raw multipart)', async () => {
    const boundary = 'xYzBoundary123';
    const head = (name: string, extra = ''): string => `--${boundary}\r\nContent-Disposition: form-data; name=${name}${extra}\r\n`;
    const body = Buffer.concat([
      Buffer.from(`${head('Parameters')}Content-Type: application/json\r\n\r\n${JSON.stringify({ livenessOperationMode: 'Passive', deviceCorrelationId: 'legacy-device', authTokenTimeToLiveInSeconds: 120 })}\r\n`),
      Buffer.from(`${head('VerifyImage', '; filename=VerifyImage')}Content-Type: application/octet-stream\r\n\r\n`),
      GRACE,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${endpoint}/face/v1.2/detectLivenessWithVerify-sessions`, {
      method: 'POST', headers: { 'ocp-apim-subscription-key': apiKey, 'content-type': `multipart/form-data; boundary=${boundary}` }, body,
    });
    expect(res.status).toBe(200);
    const json = await res.json() as { results: { verifyReferences: unknown[] } };
    expect(json.results.verifyReferences).toHaveLength(1);
  });
});

describe('Face emulator: service errors', () => {
  it('401 for a wrong or missing key on management and control calls', async () => {
    const wrong = createClient(endpoint, new AzureKeyCredential('wrong-key'), { allowInsecureConnection: true });
    const res = await wrong.path('/detectLivenessWithVerify-sessions').post({ contentType: 'multipart/form-data', body: parts() as never });
    expectError(res, '401', '401', ACCESS_DENIED);
    const get = await wrong.path('/detectLivenessWithVerify-sessions/{sessionId}', '00000000-0000-0000-0000-000000000000').get();
    expectError(get, '401', '401', ACCESS_DENIED);
    expect((await control('GET', '/emulator/sessions', undefined, null)).status).toBe(401);
    const health = await control('GET', '/emulator/health', undefined, null);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', engine: 'human-blazeface-facemesh-wasm' });
  });

  it('415 BadArgument for a non-multipart create', async () => {
    const res = await client.path('/detectLivenessWithVerify-sessions').post({
      contentType: 'application/json', body: { livenessOperationMode: 'Passive', deviceCorrelationId: 'json-device' },
    } as never);
    expectError(res, '415', 'BadArgument', 'Invalid Media Type.');
  });

  it('InvalidLivenessOperationMode for missing or unknown modes', async () => {
    expectError(await create({ livenessOperationMode: 'Active' }), '400', 'InvalidLivenessOperationMode',
      "Invalid livenessOperationMode specified. Must be 'Passive'.");
    expectError(await create({ livenessOperationMode: null }), '400', 'InvalidLivenessOperationMode');
  });

  it('InvalidTokenLifetime outside 60..86400, bounds accepted', async () => {
    const message = 'Invalid authTokenTimeToLiveInSeconds specified. Must be within 60 to 86400.';
    expectError(await create({ authTokenTimeToLiveInSeconds: 59 }), '400', 'InvalidTokenLifetime', message);
    expectError(await create({ authTokenTimeToLiveInSeconds: 86401 }), '400', 'InvalidTokenLifetime', message);
    expect((await create({ authTokenTimeToLiveInSeconds: 60 })).status).toBe('200');
    expect((await create({ authTokenTimeToLiveInSeconds: 86400 })).status).toBe('200');
  });

  it('InvalidDeviceCorrelationId when missing, empty or over 64 chars (unless set in client)', async () => {
    const message = 'A device correlation ID is required in the request body during session create or session start. Must not be null or empty, and be no more than 64 characters.';
    expectError(await create({ deviceCorrelationId: null }), '400', 'InvalidDeviceCorrelationId', message);
    expectError(await create({ deviceCorrelationId: '' }), '400', 'InvalidDeviceCorrelationId', message);
    expectError(await create({ deviceCorrelationId: 'x'.repeat(65) }), '400', 'InvalidDeviceCorrelationId', message);
    expect((await create({ deviceCorrelationId: 'x'.repeat(64) })).status).toBe('200');
    expect((await create({ deviceCorrelationId: null, deviceCorrelationIdSetInClient: true })).status).toBe('200');
  });

  it('InvalidImageSize for images under 1 KB and over 6 MB', async () => {
    expectError(await create({}, GRACE.subarray(0, 1000)), '400', 'InvalidImageSize', 'Image size is too small.');
    const big = Buffer.alloc(6 * 1024 * 1024 + 1, 7);
    GRACE.copy(big, 0);
    expectError(await create({}, big), '400', 'InvalidImageSize', 'Image size is too big.');
  });

  it('InvalidImage: undecodable, truncated, no face (coffee, cat), more than one face', async () => {
    const decodeMsg = 'Decoding error, image format unsupported.';
    expectError(await create({}, Buffer.from('this is not an image '.repeat(100)), 'text.jpg'), '400', 'InvalidImage', decodeMsg);
    expectError(await create({}, GRACE.subarray(0, Math.floor(GRACE.length / 3))), '400', 'InvalidImage', decodeMsg);
    expectError(await create({}, COFFEE, 'coffee.png'), '400', 'InvalidImage', 'No face detected in the image.');
    expectError(await create({}, CAT, 'cat.png'), '400', 'InvalidImage', 'No face detected in the image.');
    expectError(await create({}, twoFaces), '400', 'InvalidImage', 'There is more than 1 face in the image.');
  });

  it('refuses a create without verifyImage (the spec requires it), and an unknown livenessModelVersion (enum 2024-11-15)', async () => {
    expectError(await create({}, null), '400', 'BadArgument', 'The verifyImage part is required.');
    expectError(await create({ livenessModelVersion: '2099-01-01' }), '400', 'BadArgument');
    expectError(await create({ livenessModelVersion: 'latest' }), '400', 'BadArgument');
    const ok = await createOk({ livenessModelVersion: '2024-11-15' });
    expect(ok.modelVersion).toBe('2024-11-15');
    // v1.2 declares no numberOfClientAttemptsAllowed: the part is ignored and a token allows 3 attempts.
    const three = await createOk({ numberOfClientAttemptsAllowed: 1 });
    for (let i = 0; i < 3; i++) expect((await performDeviceAttempt(endpoint, three.authToken, GRACE, { metadata: `n${i}` })).status).toBe(204);
    expect((await performDeviceAttempt(endpoint, three.authToken, GRACE)).status).toBe(403);
  });

  it('rejects a verifyImage part without filename (the real backend requires it)', async () => {
    const res = await client.path('/detectLivenessWithVerify-sessions').post({
      contentType: 'multipart/form-data',
      body: [{ name: 'livenessOperationMode', body: 'Passive' }, { name: 'deviceCorrelationId', body: 'no-filename' }, { name: 'verifyImage', body: GRACE }],
    });
    expectError(res, '400', 'BadArgument');
  });

  it('404 JSON for unknown routes and unknown sessions', async () => {
    const res = await fetch(`${endpoint}/face/v1.2/nope`, { headers: { 'ocp-apim-subscription-key': apiKey } });
    expect(res.status).toBe(404);
    expect(res.headers.get('apim-request-id')).toMatch(UUID);
    expect(await res.json()).toEqual({ error: { code: 'NotFound', message: 'Resource not found.' } });
    expectError(await getSession('11111111-1111-1111-1111-111111111111'), '404', 'SessionNotFound', SESSION_NOT_FOUND);
  });
});

describe('Face emulator: token and session expiry via /emulator/clock', () => {
  it('expires the token after its TTL and the session after 48 h', async () => {
    const session = await createOk({ authTokenTimeToLiveInSeconds: 60 });
    // Session-scoped clock advance: other suites share this emulator.
    expect((await control('POST', '/emulator/clock', { advanceSeconds: 59, sessionId: session.sessionId })).status).toBe(200);
    expect((await performDeviceAttempt(endpoint, session.authToken, GRACE)).status).toBe(204);
    await control('POST', '/emulator/clock', { advanceSeconds: 2, sessionId: session.sessionId });
    const expired = await performDeviceAttempt(endpoint, session.authToken, GRACE);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ error: { code: 'Unauthorized' } });
    // The session itself is still readable until 48 h.
    const got = await getSession(session.sessionId);
    expect(got.status).toBe('200');
    await control('POST', '/emulator/clock', { advanceSeconds: 48 * 3600, sessionId: session.sessionId });
    expectError(await getSession(session.sessionId), '404', 'SessionNotFound', SESSION_NOT_FOUND);
  });
});

describe('Face emulator: scripted outcomes', () => {
  it('spoofface scripted by session id', async () => {
    const session = await createOk();
    expect((await control('POST', '/emulator/scripts', { sessionId: session.sessionId, livenessDecision: 'spoofface' })).status).toBe(201);
    expect((await performDeviceAttempt(endpoint, session.authToken, GRACE)).status).toBe(204);
    const got = await getSession(session.sessionId);
    if (isUnexpected(got)) throw new Error('unexpected');
    expect(got.body.results.attempts[0]!.result!.livenessDecision).toBe('spoofface');
    expect(got.body.results.attempts[0]!.result!.verifyResult).toEqual({ matchConfidence: 0.95, isIdentical: true });
  });

  it('mismatch scripted by deviceCorrelationId, and verifyConfidenceThreshold', async () => {
    const deviceCorrelationId = `mismatch-${Date.now()}`;
    await control('POST', '/emulator/scripts', { deviceCorrelationId, matchConfidence: 0.1 });
    const session = await createOk({ deviceCorrelationId });
    await performDeviceAttempt(endpoint, session.authToken, GRACE);
    const got = await getSession(session.sessionId);
    if (isUnexpected(got)) throw new Error('unexpected');
    expect(got.body.results.attempts[0]!.result).toMatchObject({ livenessDecision: 'realface', verifyResult: { matchConfidence: 0.1, isIdentical: false } });

    const strict = await createOk({ verifyConfidenceThreshold: 0.97 });
    await performDeviceAttempt(endpoint, strict.authToken, GRACE);
    const strictGot = await getSession(strict.sessionId);
    if (isUnexpected(strictGot)) throw new Error('unexpected');
    expect(strictGot.body.results.attempts[0]!.result!.verifyResult).toEqual({ matchConfidence: 0.95, isIdentical: false });
  });

  it('attempt error (FaceWithMaskDetected) fails the attempt and the session', async () => {
    const session = await createOk();
    await control('POST', '/emulator/scripts', {
      sessionId: session.sessionId, attemptError: { code: 'FaceWithMaskDetected', message: 'Mask detected on face image.' },
    });
    await performDeviceAttempt(endpoint, session.authToken, GRACE);
    const got = await getSession(session.sessionId);
    if (isUnexpected(got)) throw new Error('unexpected');
    expect(got.body.status).toBe('Failed');
    const attempt = got.body.results.attempts[0]!;
    expect(attempt.attemptStatus).toBe('Failed');
    expect(attempt.result).toBeUndefined();
    expect(attempt.error).toMatchObject({ code: 'FaceWithMaskDetected', message: 'Mask detected on face image.' });
    expect(attempt.error!.targets.color.faceRectangle.width).toBeGreaterThan(0);
  });

  it('rejects scripts without a target', async () => {
    const res = await control('POST', '/emulator/scripts', { livenessDecision: 'spoofface' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BadArgument');
  });
});

describe('Face emulator: fault injection', () => {
  it('429 with Retry-After, 503, and recovery by the SDK retry policy', async () => {
    const session = await createOk();
    const path = `/detectLivenessWithVerify-sessions/${session.sessionId}$`; // only this session's GETs
    try {
      expect((await control('PUT', '/emulator/faults', { errorRate: 1, errorStatus: 429, retryAfterSeconds: 7, paths: [path] })).status).toBe(200);
      const limited = await noRetryClient.path('/detectLivenessWithVerify-sessions/{sessionId}', session.sessionId).get();
      expect(limited.status).toBe('429');
      expect(limited.headers['retry-after']).toBe('7');
      expect(limited.body).toEqual({ error: { code: '429', message: 'Rate limit is exceeded. Try again in 7 seconds.' } });

      await control('PUT', '/emulator/faults', { errorRate: 1, errorStatus: 503, paths: [path] });
      const unavailable = await noRetryClient.path('/detectLivenessWithVerify-sessions/{sessionId}', session.sessionId).get();
      expectError(unavailable, '503', 'ServiceUnavailable');

      // One 429 (Retry-After 1 s), then healthy: the default client retries and succeeds.
      await control('PUT', '/emulator/faults', { errorRate: 1, errorStatus: 429, retryAfterSeconds: 1, maxFaults: 1, paths: [path] });
      const started = Date.now();
      const recovered = await client.path('/detectLivenessWithVerify-sessions/{sessionId}', session.sessionId).get();
      expect(recovered.status).toBe('200');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect((await control('GET', '/emulator/faults')).body.injected).toBe(1);

      // Dropped connection: the client sees a network error.
      await control('PUT', '/emulator/faults', { dropRate: 1, maxFaults: 1, paths: [path] });
      await expect(noRetryClient.path('/detectLivenessWithVerify-sessions/{sessionId}', session.sessionId).get()).rejects.toThrow();
    } finally {
      expect((await control('DELETE', '/emulator/faults')).status).toBe(204);
    }
    expect((await getSession(session.sessionId)).status).toBe('200');
  });

  it('rejects invalid fault settings', async () => {
    expect((await control('PUT', '/emulator/faults', { errorRate: 2 })).status).toBe(400);
    expect((await control('PUT', '/emulator/faults', { errorStatus: 418 })).status).toBe(400);
    expect((await control('PUT', '/emulator/faults', { paths: ['('] })).status).toBe(400);
  });
});

describe('Face emulator: analysis cache', () => {
  it('serves repeated images from the memo (cache hits grow, no new misses)', async () => {
    await createOk();
    const before = (await control('GET', '/emulator/health', undefined, null)).body;
    await createOk();
    await createOk();
    const after = (await control('GET', '/emulator/health', undefined, null)).body;
    expect(after.analysisCache.hits).toBeGreaterThanOrEqual(before.analysisCache.hits + 2);
  });
});
