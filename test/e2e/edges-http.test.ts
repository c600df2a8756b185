// The HTTP edges, end to end through the dev host with streaming on: nothing large is read before authentication,
// anonymous health cannot spend Face calls or read backend errors, every answer carries nosniff + no-store, and a
// malformed continuation token is a 400.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFaceTamperProxy, type FaceTamperProxy } from '../support/face-tamper-proxy.js';
import { backOfficeToken, bearer, deviceToken, getJson, startStack, type Stack } from '../support/liveness.js';

const MB = 1024 * 1024;
let face: FaceTamperProxy;
let stack: Stack;

beforeAll(async () => {
  face = await startFaceTamperProxy(inject('faceEndpoint'));
  stack = await startStack({}, { endpoint: face.url, key: inject('faceApiKey') });
});
afterAll(async () => {
  await stack?.stop();
  await face?.close();
});

/**
 * Sends a `totalBytes` multipart POST over a raw socket, 64 KiB at a time, and stops as soon as the answer's status
 * line arrives. Returns the status and how many body bytes the client had handed to the socket by then.
 */
async function rawPost(url: string, path: string, totalBytes: number, options: { headers?: Record<string, string>; chunked?: boolean } = {}): Promise<{ status: number; sentBytes: number }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  socket.on('error', () => {}); // the host may hang up on the rest of the body: expected
  let response = '';
  let answered: { status: number; sentBytes: number } | undefined;
  let sent = 0;
  let onAnswer: () => void = () => {};
  const answer = new Promise<void>((resolve) => { onAnswer = resolve; });
  socket.on('data', (data: Buffer) => {
    response += data.toString('latin1');
    const match = /^HTTP\/1\.1 (\d{3})/.exec(response);
    if (match && !answered) { answered = { status: Number(match[1]), sentBytes: sent }; onAnswer(); }
  });
  socket.once('close', () => onAnswer());
  const head = [
    `POST ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Content-Type: multipart/form-data; boundary=edge',
    options.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${totalBytes}`,
    ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`), '', '',
  ].join('\r\n');
  socket.write(head);
  const part = Buffer.concat([Buffer.from('--edge\r\nContent-Disposition: form-data; name="verifyImage"; filename="v.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'), Buffer.alloc(64 * 1024 - 100, 0xff)]);
  const filler = Buffer.alloc(64 * 1024, 0xff);
  while (sent < totalBytes && !answered && !socket.destroyed) {
    const data = sent === 0 ? part : filler;
    const ok = socket.write(options.chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data);
    sent += data.length;
    if (!ok) await Promise.race([new Promise((r) => socket.once('drain', r)), answer]);
    // Let the answer be read as it arrives: loopback buffers take megabytes without a 'drain', and a loop that never
    // yields would count bytes written after the answer came, or miss an answer a reset then destroys.
    else await new Promise((r) => setImmediate(r));
  }
  await Promise.race([answer, new Promise((r) => setTimeout(r, 30_000))]);
  socket.destroy();
  if (!answered) throw new Error(`no answer after ${sent} bytes`);
  return answered;
}

describe('read nothing before authentication', () => {
  it('answers a 60 MB unauthenticated create with 401 before 10 MB were sent (Content-Length and chunked)', async () => {
    for (const chunked of [false, true]) {
      const { status, sentBytes } = await rawPost(stack.api, '/api/liveness-sessions', 60 * MB, { chunked });
      expect(status, `chunked=${chunked}`).toBe(401);
      expect(sentBytes, `chunked=${chunked}: bytes sent before the answer`).toBeLessThan(10 * MB);
    }
  });

  it('refuses an authenticated oversize body as it arrives (413 long before 60 MB, no Content-Length)', async () => {
    const token = await deviceToken();
    const { status, sentBytes } = await rawPost(stack.api, '/api/liveness-sessions', 60 * MB, { chunked: true, headers: bearer(token) });
    expect(status).toBe(413);
    // An authenticated caller's body is read up to the 6 MB image limit; the loopback socket buffers hold a few MB
    // more on the client's side. Reading on to the end would put this at 60 MB.
    expect(sentBytes).toBeLessThan(16 * MB);
  });

  it('refuses an oversize Content-Length up front', async () => {
    const token = await deviceToken();
    const { status, sentBytes } = await rawPost(stack.api, '/api/liveness-sessions', 60 * MB, { headers: bearer(token) });
    expect(status).toBe(413);
    expect(sentBytes).toBeLessThan(10 * MB);
  });
});

describe('GET /api/health', () => {
  it('20 concurrent anonymous calls cost at most 2 Face calls and show only healthy/unhealthy', async () => {
    const before = face.calls.length;
    const answers = await Promise.all(Array.from({ length: 20 }, () => getJson(`${stack.api}/health`)));
    const faceCalls = face.calls.length - before;
    expect(faceCalls).toBeGreaterThanOrEqual(0);
    expect(faceCalls).toBeLessThanOrEqual(2);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body.status).toBe('healthy');
      for (const check of Object.values(a.body.checks as Record<string, Record<string, unknown>>)) {
        expect(Object.keys(check).sort()).toEqual(['latencyMs', 'status']);
      }
    }
    // Still cached: more calls, no more Face calls.
    await getJson(`${stack.api}/health`);
    expect(face.calls.length - before).toBe(faceCalls);
  });

  it('an unhealthy dependency is reported without details; the reason goes to the log by name only', async () => {
    const broken = await startStack({}, { endpoint: face.url, key: 'wrong-key' });
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => getJson(`${broken.api}/health`)));
      for (const a of answers) {
        expect(a.status).toBe(503);
        expect(a.body.checks.face).toEqual({ status: 'unhealthy', latencyMs: expect.any(Number) });
        expect(a.body.checks.storage.status).toBe('healthy');
        expect(JSON.stringify(a.body)).not.toMatch(/credential|401|Face refused|reason/i);
      }
      const probeLines = broken.logs().split('\n').filter((l) => l.includes('health probe failed'));
      expect(probeLines.length).toBe(1); // one probe for the five callers
      expect(probeLines[0]).toMatch(/FaceUnavailableError/);
      expect(probeLines[0]).not.toMatch(/wrong-key|Face refused/);
    } finally {
      await broken.stop();
    }
  });
});

describe('security headers', () => {
  const expectHeaders = (headers: Headers, what: string) => {
    expect(headers.get('x-content-type-options'), what).toBe('nosniff');
    expect(headers.get('cache-control'), what).toBe('no-store');
  };

  it('are on success, app errors and the dev host\'s own answers', async () => {
    expectHeaders((await fetch(`${stack.api}/health`)).headers, 'health 200');
    expectHeaders((await fetch(`${stack.api}/openapi.json`)).headers, 'openapi document');
    expectHeaders((await fetch(`${stack.api}/liveness-sessions`, { method: 'POST' })).headers, 'app 401');
    expectHeaders((await fetch(`${stack.api}/liveness-sessions/not-a-session/complete`, { method: 'POST', headers: bearer(await deviceToken()) })).headers, 'app 404');
    expectHeaders((await fetch(`${stack.api}/no-such-route`)).headers, 'host 404');
    expectHeaders((await fetch(`${stack.api}/health`, { method: 'DELETE' })).headers, 'host 405');
  });
});

describe('continuation tokens', () => {
  it('a malformed token is a 400, not a 503', async () => {
    const auth = bearer(await backOfficeToken());
    const tokens = {
      rowKeyObject: Buffer.from(JSON.stringify({ nextPartitionKey: 'p', nextRowKey: {} })).toString('base64'),
      partitionKeyNumber: Buffer.from(JSON.stringify({ nextPartitionKey: 1 })).toString('base64'),
      extraField: Buffer.from(JSON.stringify({ nextPartitionKey: 'p', other: 'x' })).toString('base64'),
      array: Buffer.from('["p"]').toString('base64'),
      notJson: 'bm90IGpzb24=',
    };
    for (const [name, token] of Object.entries(tokens)) {
      const res = await getJson(`${stack.api}/backoffice/liveness-sessions?continuationToken=${encodeURIComponent(token)}`, { headers: auth });
      expect(res.status, name).toBe(400);
      expect(res.body.error.code, name).toBe('InvalidContinuationToken');
    }
    // A well-formed one still works.
    const ok = Buffer.from(JSON.stringify({ nextPartitionKey: 'p', nextRowKey: 'r' })).toString('base64');
    expect((await getJson(`${stack.api}/backoffice/liveness-sessions?continuationToken=${encodeURIComponent(ok)}`, { headers: auth })).status).toBe(200);
  });
});
