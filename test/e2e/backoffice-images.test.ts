// The back office reads a session's verify image and session images through the API (never a public blob URL), and
// the function app allows exactly the pages' origin (CORS, as Host.CORS / the site's allowed origins configure it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import {
  backOfficeToken, bearer, checkedFetch, complete, createSession, deviceToken, eventually, fixture, getJson, startStack,
  type CreatedSession, type Stack,
} from '../support/liveness.js';

const MASTER_KEY = 'images-master-key';
const PAGES_ORIGIN = 'http://localhost:47083';
const face = fixture('face-grace-hopper.jpg');
// The capture the device sends: the astronaut PNG, so the session image is told apart from the verify image.
const capture = fixture('face-astronaut.png');

let stack: Stack;
let session: CreatedSession;
let officer: Record<string, string>;

beforeAll(async () => {
  stack = await startStack({ DEVHOST_MASTER_KEY: MASTER_KEY, DEVHOST_FUNCTION_KEY: 'images-function-key', DEVHOST_CORS: PAGES_ORIGIN });
  officer = bearer(await backOfficeToken());
  session = await createSession(stack, face, { deviceCorrelationId: 'images-device' });
  expect((await performDeviceAttempt(stack.faceEndpoint, session.authToken, capture)).status).toBe(204);
  expect((await complete(stack, session)).status).toBe(202);
  await eventually(async () => {
    const r = await getJson(`${stack.api}/backoffice/liveness-sessions/${session.sessionId}`, { headers: officer });
    return r.body?.status === 'ResultAvailable' ? r.body : undefined;
  }, 'the result to be collected');
});
afterAll(async () => { await stack?.stop(); });

describe('back-office images', () => {
  it('GET .../verify-image answers the stored bytes with their type, never cached, never sniffed', async () => {
    for (const [url, headers] of [
      [`${stack.api}/backoffice/liveness-sessions/${session.sessionId}/verify-image`, officer],
      [`${stack.api}/liveness-sessions/${session.sessionId}/verify-image`, { 'x-functions-key': MASTER_KEY }],
    ] as const) {
      const res = await checkedFetch(url, { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toContain('sandbox');
      expect(Buffer.from(await res.arrayBuffer()).equals(face)).toBe(true);
    }
  });

  it('GET .../session-images/{attemptId} answers the frame Face kept for that attempt', async () => {
    const res = await checkedFetch(`${stack.api}/backoffice/liveness-sessions/${session.sessionId}/session-images/1`, { headers: officer });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png'); // the emulator keeps the capture as sent; its bytes say PNG
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Buffer.from(await res.arrayBuffer()).equals(capture)).toBe(true);
  });

  it('404 for an attempt without an image, a malformed attempt id and an unknown session; the caller learns nothing more', async () => {
    const base = `${stack.api}/backoffice/liveness-sessions`;
    const missing = await getJson(`${base}/${session.sessionId}/session-images/2`, { headers: officer });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'ImageNotFound' } } });
    expect((await getJson(`${base}/${session.sessionId}/session-images/0`, { headers: officer })).status).toBe(404);
    expect((await getJson(`${base}/${session.sessionId}/session-images/x1`, { headers: officer })).status).toBe(404);
    const unknown = await getJson(`${base}/019b78c9-0a80-7000-8000-000000000000/verify-image`, { headers: officer });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'SessionNotFound' } } });
  });

  it('a device token (even the owner\'s) opens neither route, nor does a back-office token without the role', async () => {
    const owner = await getJson(`${stack.api}/backoffice/liveness-sessions/${session.sessionId}/verify-image`, { headers: bearer(session.deviceToken) });
    expect(owner.status).toBe(401);
    const hostRoute = await fetch(`${stack.api}/liveness-sessions/${session.sessionId}/verify-image`, { headers: bearer(await deviceToken()) });
    expect(hostRoute.status).toBe(401);
    const noRole = await getJson(`${stack.api}/backoffice/liveness-sessions/${session.sessionId}/session-images/1`, { headers: bearer(await backOfficeToken([])) });
    expect(noRole.status).toBe(403);
  });

  it('after the session is deleted its images are gone too', async () => {
    const other = await createSession(stack, face);
    const url = `${stack.api}/backoffice/liveness-sessions/${other.sessionId}`;
    expect((await checkedFetch(`${url}/verify-image`, { headers: officer })).status).toBe(200);
    expect((await checkedFetch(url, { method: 'DELETE', headers: officer })).status).toBe(204);
    expect((await getJson(`${url}/verify-image`, { headers: officer })).status).toBe(404);
  });
});

describe('CORS: exactly the pages\' origin', () => {
  const url = () => `${stack.api}/liveness-sessions`;
  const preflight = (origin: string) => fetch(url(), {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,idempotency-key' },
  });

  it('a preflight from the pages\' origin is allowed, for the method and headers it asks for', async () => {
    const res = await preflight(PAGES_ORIGIN);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(PAGES_ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toBe('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization,idempotency-key');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('any other origin gets no CORS headers, on the preflight or on the answer', async () => {
    for (const origin of ['http://localhost:47084', 'https://evil.example', 'http://127.0.0.1:47083']) {
      const res = await preflight(origin);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const answer = await fetch(`${stack.api}/health`, { headers: { origin } });
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('answers to the pages\' origin carry its origin, errors included', async () => {
    const ok = await fetch(`${stack.api}/backoffice/liveness-sessions?top=1`, { headers: { origin: PAGES_ORIGIN, ...officer } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(PAGES_ORIGIN);
    expect(ok.headers.get('vary')).toContain('Origin');
    const refused = await fetch(`${stack.api}/backoffice/liveness-sessions?top=1`, { headers: { origin: PAGES_ORIGIN } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(PAGES_ORIGIN);
  });
});
