// Every rejection is a JSON { error: { code, message } } with the right 4xx, and loses nothing: no blob, no Face
// session, no row is left behind by a request that failed.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';
import { bearer, blobNames, deviceToken, faceSessionIds, fixture, getJson, startForm, startStack, type Stack } from '../support/liveness.js';

const face = fixture('face-grace-hopper.jpg');
let stack: Stack;

beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.stop(); });

async function post(form: FormData | undefined, init: RequestInit = {}) {
  const headers = { ...bearer(await deviceToken()), ...(init.headers as Record<string, string> | undefined) };
  return getJson(`${stack.api}/liveness-sessions`, { method: 'POST', body: form, ...init, headers });
}

async function expectNothingLeft(run: () => Promise<void>) {
  const blobsBefore = (await blobNames(stack)).length;
  const listBefore = (await getJson(`${stack.api}/liveness-sessions?top=1000`)).body.value.length;
  await run();
  expect((await blobNames(stack)).length).toBe(blobsBefore);
  expect((await getJson(`${stack.api}/liveness-sessions?top=1000`)).body.value.length).toBe(listBefore);
}

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(JSON.stringify(res.body)).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack traces
}

describe('POST /api/liveness-sessions rejects bad input', () => {
  it('a body that is not multipart: 415', async () => {
    expectError(await post(undefined, { body: '{}', headers: { 'content-type': 'application/json' } }), 415, 'UnsupportedMediaType');
  });

  it('a form without verifyImage: 400', async () => {
    expectError(await post(startForm(undefined, { deviceCorrelationId: 'x' })), 400, 'MissingVerifyImage');
  });

  it('an image under 1 KB: 400 InvalidImageSize', async () => {
    expectError(await post(startForm(face.subarray(0, 500))), 400, 'InvalidImageSize');
  });

  it('an image over 6 MB: 413 InvalidImageSize', async () => {
    const big = Buffer.concat([face, Buffer.alloc(6 * 1024 * 1024)]);
    expectError(await post(startForm(big)), 413, 'InvalidImageSize');
  });

  it('a text file named .jpg: 400 InvalidImageFormat', async () => {
    expectError(await post(startForm(Buffer.from('not an image '.repeat(200)), {}, 'face.jpg')), 400, 'InvalidImageFormat');
  });

  it('a truncated JPEG: 400 InvalidImage from Face, and nothing is left behind', async () => {
    await expectNothingLeft(async () => {
      expectError(await post(startForm(face.subarray(0, 4000))), 400, 'InvalidImage');
    });
  });

  it('a photo with no face: 400 InvalidImage from Face, and nothing is left behind', async () => {
    await expectNothingLeft(async () => {
      expectError(await post(startForm(fixture('noface-coffee.png'), {}, 'coffee.png')), 400, 'InvalidImage');
    });
  });

  it('a photo with two faces: 400 InvalidImage', async () => {
    const left = await sharp(face).resize(256, 256).toBuffer();
    const right = await sharp(fixture('face-astronaut.png')).resize(256, 256).toBuffer();
    const pair = await sharp({ create: { width: 512, height: 256, channels: 3, background: '#808080' } })
      .composite([{ input: left, left: 0, top: 0 }, { input: right, left: 256, top: 0 }]).jpeg().toBuffer();
    expectError(await post(startForm(pair)), 400, 'InvalidImage');
  });

  it.each([
    [{ authTokenTimeToLiveInSeconds: '59' }, 'InvalidTokenLifetime'],
    [{ authTokenTimeToLiveInSeconds: '86401' }, 'InvalidTokenLifetime'],
    [{ authTokenTimeToLiveInSeconds: 'ten' }, 'InvalidTokenLifetime'],
    [{ livenessOperationMode: 'Active' }, 'InvalidLivenessOperationMode'],
    [{ deviceCorrelationId: 'x'.repeat(65) }, 'InvalidDeviceCorrelationId'],
    [{ deviceCorrelationId: '' }, 'InvalidDeviceCorrelationId'],
    [{ enableSessionImage: 'yes' }, 'InvalidEnableSessionImage'],
    [{ somethingElse: '1' }, 'UnknownField'],
  ])('fields %j: 400 %s', async (fields, code) => {
    await expectNothingLeft(async () => {
      expectError(await post(startForm(face, fields as Record<string, string>)), 400, code);
    });
  });

  it('a verify image sent twice: 400', async () => {
    const form = startForm(face);
    form.append('verifyImage', new File([face], 'again.jpg'));
    expectError(await post(form), 400, 'DuplicateField');
  });
});

describe('session endpoints reject unknown ids and bad queries', () => {
  const unknown = '3f1c5a3e-0000-4000-8000-000000000000';
  it.each([
    ['POST', `/liveness-sessions/${unknown}/complete`],
    ['GET', `/liveness-sessions/${unknown}`],
    ['GET', `/liveness-sessions/${unknown}/audit-entries`],
    ['DELETE', `/liveness-sessions/${unknown}`],
    ['GET', '/liveness-sessions/not-a-guid'],
    ['POST', '/liveness-sessions/..%2F..%2Fetc/complete'],
    ['GET', `/liveness-sessions/${unknown}/status`],
  ])('%s %s: 404 SessionNotFound', async (method, route) => {
    expectError(await getJson(`${stack.api}${route}`, { method, headers: bearer(await deviceToken()) }), 404, 'SessionNotFound');
  });

  it.each([
    ['top=0', 'BadArgument'],
    ['top=1001', 'BadArgument'],
    ['top=abc', 'BadArgument'],
    ['status=Unknown', 'BadArgument'],
    ['continuationToken=garbage', 'InvalidContinuationToken'],
    ['orderBy=name', 'BadArgument'],
  ])('list with %s: 400 %s', async (query, code) => {
    expectError(await getJson(`${stack.api}/liveness-sessions?${query}`), 400, code);
  });
});

describe('when Face is rate limiting or failing', () => {
  let privateFace: RunningFaceEmulator;
  let isolated: Stack;
  const key = 'private-key';
  beforeAll(async () => {
    // A private emulator: its faults must not reach the suites that share the global one.
    privateFace = await startFaceEmulator({ port: 0, apiKey: key });
    isolated = await startStack({ FACE_MAX_RETRIES: '1', FACE_RETRY_BUDGET_MS: '1500' }, { endpoint: privateFace.url, key });
  });
  afterAll(async () => { await isolated?.stop(); await privateFace?.close(); });

  it('a 429 from Face becomes 503 with Retry-After, and nothing is left behind', async () => {
    const control = { faceEndpoint: privateFace.url, faceKey: key };
    const put = await fetch(`${privateFace.url}/emulator/faults`, {
      method: 'PUT', headers: { 'ocp-apim-subscription-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1, errorStatus: 429, retryAfterSeconds: 7 }),
    });
    expect(put.status).toBeLessThan(300);
    try {
      const res = await getJson(`${isolated.api}/liveness-sessions`, { method: 'POST', body: startForm(face), headers: bearer(await deviceToken()) });
      expectError(res, 503, 'FaceUnavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await blobNames(isolated)).toEqual([]);
      expect((await faceSessionIds(control)).size).toBe(0);
    } finally {
      await fetch(`${privateFace.url}/emulator/faults`, { method: 'DELETE', headers: { 'ocp-apim-subscription-key': key } });
    }
  });

  it('a 500 from Face becomes 503, and the next request succeeds', async () => {
    await fetch(`${privateFace.url}/emulator/faults`, {
      method: 'PUT', headers: { 'ocp-apim-subscription-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1, errorStatus: 500 }),
    });
    const failed = await getJson(`${isolated.api}/liveness-sessions`, { method: 'POST', body: startForm(face), headers: bearer(await deviceToken()) });
    await fetch(`${privateFace.url}/emulator/faults`, { method: 'DELETE', headers: { 'ocp-apim-subscription-key': key } });
    expectError(failed, 503, 'FaceUnavailable');
    expect(await blobNames(isolated)).toEqual([]);
    const ok = await getJson(`${isolated.api}/liveness-sessions`, { method: 'POST', body: startForm(face), headers: bearer(await deviceToken()) });
    expect(ok.status).toBe(201);
  });

  it('health reports Face unhealthy with a wrong key and healthy with the right one', async () => {
    const healthy = await getJson(`${isolated.api}/health`);
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({ status: 'healthy', checks: { storage: { status: 'healthy' }, face: { status: 'healthy' } } });
    const wrong = await startStack({}, { endpoint: privateFace.url, key: 'wrong-key' });
    try {
      const res = await getJson(`${wrong.api}/health`);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'unhealthy', checks: { storage: { status: 'healthy' }, face: { status: 'unhealthy' } } });
      expect(JSON.stringify(res.body)).not.toContain('wrong-key');
    } finally {
      await wrong.stop();
    }
  });
});
