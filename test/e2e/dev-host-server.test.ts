// The dev host under load behaves like a server, black box over HTTP/1.1 keep-alive (the app, streaming on):
//  - an early answer (the app's 400 to a create with 20,000 form parts, the host's 401 before it reads a body, a 413)
//    says `Connection: close` and the host hangs up only after the answer went out, so a client that reuses
//    connections never gets ECONNRESET on its next request;
//  - a body that trickles in after authentication meets a deadline (DEVHOST_REQUEST_TIMEOUT_SECONDS): 408 with a JSON
//    error body, then the connection is closed.
// The client is node:http with a keep-alive agent limited to one socket, so every request after the first would ride
// the connection the early answer came on, if the host left it open.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../dev/eventually.js';
import { bearer, deviceToken, startStack, type Stack } from '../support/liveness.js';

const MASTER_KEY = 'server-test-master-key';
const MAX_BODY = 8 * 1024 * 1024;
let stack: Stack;
let base: URL;

beforeAll(async () => {
  stack = await startStack({
    DEVHOST_MASTER_KEY: MASTER_KEY,
    DEVHOST_FUNCTION_KEY: 'server-test-function-key',
    DEVHOST_MAX_BODY_BYTES: String(MAX_BODY),
    DEVHOST_REQUEST_TIMEOUT_SECONDS: '2',
  });
  base = new URL(stack.api);
});
afterAll(async () => { await stack?.stop(); });

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string; reusedSocket: boolean }

/**
 * One request on `agent`. `body` is written in 64 KiB pieces (yielding between them, so an early answer is read as it
 * comes); write errors after the answer arrived are expected (the host hangs up on the rest) and ignored. Any error
 * before an answer fails the request.
 */
function send(agent: http.Agent, options: { method: string; path: string; headers?: Record<string, string>; body?: Buffer; chunked?: boolean }): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    let answered = false;
    const req = http.request({
      agent, host: base.hostname, port: base.port, method: options.method, path: options.path,
      headers: { ...options.headers, ...(options.body && !options.chunked ? { 'content-length': String(options.body.length) } : {}) },
    }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), reusedSocket: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', (err) => { if (!answered) reject(err); });
    void (async () => {
      const body = options.body;
      if (!body) { req.end(); return; }
      for (let offset = 0; offset < body.length && !answered && !req.destroyed; offset += 65_536) {
        if (!req.write(body.subarray(offset, offset + 65_536))) {
          await new Promise<void>((resolve) => {
            const done = (): void => { req.off('drain', done); req.off('close', done); resolve(); };
            req.once('drain', done);
            req.once('close', done);
          });
        }
        else await new Promise((r) => setImmediate(r));
      }
      if (!req.destroyed) req.end();
    })();
  });
}

/** 50 ordinary requests on the same agent after an early answer: every one must be answered (no ECONNRESET). */
async function fiftyNormalRequests(agent: http.Agent): Promise<void> {
  const token = await deviceToken();
  for (let i = 0; i < 50; i++) {
    const answer = i % 10 === 9
      ? await send(agent, { method: 'GET', path: `${base.pathname}/liveness-sessions/0190a0a0-0000-7000-8000-000000000000/status`, headers: bearer(token) })
      : await send(agent, { method: 'GET', path: `${base.pathname}/privacy` });
    expect(answer.status, `request ${i + 1} of 50`).toBe(i % 10 === 9 ? 404 : 200);
  }
}

/** A multipart body of `parts` small text parts. */
function manyParts(parts: number): { body: Buffer; contentType: string } {
  const boundary = 'many-parts-boundary';
  const one = (i: number) => `--${boundary}\r\nContent-Disposition: form-data; name="field${i}"\r\n\r\nvalue-${i}\r\n`;
  return { body: Buffer.from(`${Array.from({ length: parts }, (_, i) => one(i)).join('')}--${boundary}--\r\n`), contentType: `multipart/form-data; boundary=${boundary}` };
}

describe('an early answer closes the connection cleanly', () => {
  it("the app's 400 to a create with 20,000 form parts says Connection: close; 50 requests on the same agent then succeed", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await send(agent, { method: 'GET', path: `${base.pathname}/privacy` }); // the agent now holds a kept-alive socket
      const { body, contentType } = manyParts(20_000);
      const early = await send(agent, { method: 'POST', path: `${base.pathname}/liveness-sessions`, headers: { ...bearer(await deviceToken()), 'content-type': contentType }, body });
      expect(early.status).toBe(400);
      expect(early.reusedSocket).toBe(true);
      expect(early.headers.connection).toBe('close');
      expect(JSON.parse(early.body)).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
      await fiftyNormalRequests(agent);
    } finally {
      agent.destroy();
    }
  });

  it("the host's 401 before reading a body (admin route without the key) says Connection: close", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const early = await send(agent, {
        method: 'PUT', path: `${base.pathname}/subjects/some-subject/reference`, headers: { 'content-type': 'image/jpeg' }, body: Buffer.alloc(4 * 1024 * 1024, 0xff),
      });
      expect(early.status).toBe(401);
      expect(early.headers.connection).toBe('close');
      await fiftyNormalRequests(agent);
    } finally {
      agent.destroy();
    }
  });

  it('a 413 (declared and streamed) says Connection: close', async () => {
    const token = await deviceToken();
    for (const chunked of [false, true]) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const early = await send(agent, {
          method: 'POST', path: `${base.pathname}/liveness-sessions`, chunked,
          headers: { ...bearer(token), 'content-type': 'multipart/form-data; boundary=x', ...(chunked ? { 'transfer-encoding': 'chunked' } : {}) },
          body: Buffer.alloc(MAX_BODY + 1024 * 1024, 0x41),
        });
        expect(early.status, `chunked=${chunked}`).toBe(413);
        expect(early.headers.connection, `chunked=${chunked}`).toBe('close');
        await fiftyNormalRequests(agent);
      } finally {
        agent.destroy();
      }
    }
  });
});

describe('a body that trickles in', () => {
  it('an authenticated create whose body stalls gets 408 (JSON error) after DEVHOST_REQUEST_TIMEOUT_SECONDS, then the host closes', async () => {
    const token = await deviceToken();
    const socket = net.connect(Number(base.port), base.hostname);
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    let received = '';
    let closed = false;
    socket.on('data', (d: Buffer) => { received += d.toString('utf8'); });
    socket.on('error', () => {});
    socket.on('close', () => { closed = true; });
    const started = Date.now();
    socket.write([
      `POST ${base.pathname}/liveness-sessions HTTP/1.1`, `Host: ${base.host}`, `Authorization: ${bearer(token).authorization}`,
      'Content-Type: multipart/form-data; boundary=slow', 'Content-Length: 100000', '', '',
    ].join('\r\n'));
    socket.write('--slow\r\nContent-Disposition: form-data; name="consentVersion"\r\n\r\n'); // then nothing more
    await eventually(() => closed, 'the host to answer and close the connection', { timeoutMs: 15_000 });
    const elapsed = Date.now() - started;
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received.toLowerCase()).toContain('connection: close');
    const body = received.slice(received.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toEqual({ error: { code: 'RequestTimeout', message: expect.any(String) } });
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(10_000);
    // The host is fine afterwards.
    expect((await fetch(`${stack.api}/privacy`)).status).toBe(200);
  });
});
