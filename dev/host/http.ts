// HTTP front end of the dev host (node:http). Semantics follow the Functions HTTP extension, see README in
// dev/host/main.ts. Choices that are the dev host's own: unknown path → 404 JSON; known path but wrong method →
// 405 JSON with an `Allow` header (the real host answers 404 there; 405 tells a developer what went wrong).
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { applyCors, type CorsConfig } from './cors.js';
import { scalarText, triggerOf, type Registration } from './core.js';
import type { FunctionsLibrary, Invoker } from './invoke.js';
import { describeError, flushLogs, hostLog } from './log.js';
import { RouteTable } from './routes.js';

export const MAX_BODY_BYTES = 104_857_600; // 100 MB, the documented request length limit
export const MAX_URL_LENGTH = 4096; // documented URL length limit

export interface KeyConfig { enforce: boolean; functionKey: string; masterKey: string }

export function keyConfigFromEnv(env: NodeJS.ProcessEnv = process.env): KeyConfig {
  const enforce = env.DEVHOST_ENFORCE_KEYS === '1' || !!env.DEVHOST_FUNCTION_KEY || !!env.DEVHOST_MASTER_KEY;
  return { enforce, functionKey: env.DEVHOST_FUNCTION_KEY || 'dev-function-key', masterKey: env.DEVHOST_MASTER_KEY || 'dev-master-key' };
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The key the caller presented (`x-functions-key` header first, then `code` query), if any. */
function presentedKey(req: http.IncomingMessage, url: URL): string | undefined {
  const header = req.headers['x-functions-key'];
  return (Array.isArray(header) ? header[0] : header) || url.searchParams.get('code') || undefined;
}

export interface HttpFunction { registration: Registration; route: string; methods: string[]; authLevel: string }

export interface AdminApi {
  /** Runs a non-HTTP function like POST /admin/functions/{name}. Resolves when it was accepted. */
  invokeNonHttp(registration: Registration, input: unknown): void;
}

export interface HttpServerOptions {
  registrations: Registration[];
  routePrefix: string;
  invoker: Invoker;
  lib: FunctionsLibrary;
  keys: KeyConfig;
  admin: AdminApi;
  maxBodyBytes?: number;
  /**
   * Whether the app turned on HTTP streaming (app.setup({ enableHttpStream: true })). Then, like the host with
   * streaming on, the function gets the request body as it arrives instead of a buffered copy.
   */
  streaming?: () => boolean;
  /** Allowed origins (Host.CORS); undefined: no CORS headers at all, as the host without CORS settings. */
  cors?: CorsConfig;
  /**
   * How long a request may take to arrive whole (headers and body), in ms; 0 = no limit. Past it the host answers 408
   * and closes, whatever the function is doing with the body (DEVHOST_REQUEST_TIMEOUT_SECONDS).
   */
  requestTimeoutMs?: number;
}

/** How long an idle keep-alive connection stays open: Kestrel's default KeepAliveTimeout, 130 s. */
export const KEEP_ALIVE_TIMEOUT_MS = 130_000;

/** Default of DEVHOST_REQUEST_TIMEOUT_SECONDS: 230 s, the longest any HTTP request may take on Azure (its load balancer). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 230_000;

/**
 * Starts the request's deadline: when its body has not arrived whole in time, answer 408 (JSON, like the app's errors)
 * and close the connection; the function, if it is reading the body, then sees the body fail. Returns whether it fired.
 */
function requestDeadline(req: http.IncomingMessage, res: http.ServerResponse, timeoutMs: number): () => boolean {
  let fired = false;
  if (timeoutMs <= 0 || req.complete) return () => fired;
  const timer = setTimeout(() => {
    if (req.complete || res.writableEnded) return;
    fired = true;
    hostLog(`Request ${req.method ?? ''} ${(req.url ?? '/').split('?')[0]} did not arrive whole within ${timeoutMs / 1000} s: answered 408.`, 'warning');
    if (res.headersSent) { req.socket.destroy(); return; }
    sendJson(res, 408, { error: { code: 'RequestTimeout', message: `The request did not arrive within ${timeoutMs / 1000} seconds.` } });
  }, timeoutMs);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
  req.once('end', () => clearTimeout(timer));
  return () => fired;
}

/** Computes the HTTP functions' routes (route prefix + route, or the function name). */
export function httpFunctions(registrations: Registration[], routePrefix: string): HttpFunction[] {
  const out: HttpFunction[] = [];
  for (const registration of registrations) {
    const trigger = triggerOf(registration.metadata);
    if (!trigger || trigger.type.toLowerCase() !== 'httptrigger') continue;
    const route = scalarText(trigger.route, registration.metadata.name).replace(/^\/+/, '');
    const full = routePrefix ? `${routePrefix}/${route}` : route;
    const methods = (Array.isArray(trigger.methods) && trigger.methods.length ? trigger.methods : ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']).map((m) => String(m).toUpperCase());
    out.push({ registration, route: full, methods, authLevel: scalarText(trigger.authLevel, 'anonymous').toLowerCase() });
  }
  return out;
}

/** Headers on the dev host's own answers (404, 401, 413, ...); the app sets its own on the answers it makes. */
const HOST_ANSWER_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

/**
 * Writes an answer: what the invocation logged goes out first (so it is out before the caller sees the answer), then
 * the head, with `Connection: close` when the body has not been read (closeIfBodyUnread), and the body.
 */
function send(res: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders, body?: string | Buffer): void {
  flushLogs();
  closeIfBodyUnread(res);
  res.writeHead(status, headers);
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) { res.destroy(); return; }
  const text = JSON.stringify(body);
  send(res, status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...HOST_ANSWER_HEADERS, ...headers }, text);
}

/**
 * How much of an unread request body the host still reads (and discards) after an early answer, before it hangs up.
 * More than the socket buffers on both sides can hold (a few MB each on loopback): what a client wrote before it could
 * see the answer must fit, or the host's close turns into a reset that can destroy the answer before the client reads
 * it (a test saw EPIPE instead of its 413 with a 1 MB cap). Still bounded, in bytes and in time.
 */
const LINGER_BYTES = 16 * 1_048_576;
const LINGER_MS = 2_000;

/**
 * An answer written before the request body has arrived (a 401 for an upload, the app's 400 to a malformed form, a
 * 413, a 408) ends the connection: it says `Connection: close`, so no client sends its next request on it, and the host
 * closes the way a server must when the client may still be sending (a "lingering close"): once the answer is
 * flushed it sends FIN, keeps reading and discarding at most LINGER_BYTES for at most LINGER_MS, then closes.
 * Closing at once with unread data would reset the connection, and a reset drops whatever the client had not read
 * yet, the answer included. Nothing more is read: reading everything would let anyone make the host swallow any
 * number of bytes without credentials. Must run before the answer's headers are written.
 */
function closeIfBodyUnread(res: http.ServerResponse): void {
  const req = res.req;
  if (!req || req.complete) return;
  res.setHeader('connection', 'close');
  const socket = req.socket as net.Socket & { destroySoon?: () => void };
  // Node ends a `Connection: close` response with socket.destroySoon() (FIN, then destroy as soon as it is flushed):
  // this socket lingers instead.
  socket.destroySoon = () => lingeringClose(req, socket);
}

function lingeringClose(req: http.IncomingMessage, socket: net.Socket): void {
  if (socket.destroyed) return;
  socket.end();
  let drained = 0;
  const close = (): void => { clearTimeout(timer); socket.destroy(); };
  const timer = setTimeout(close, LINGER_MS);
  socket.once('close', () => clearTimeout(timer));
  req.on('data', (chunk: Buffer) => { drained += chunk.length; if (drained > LINGER_BYTES) close(); });
  req.on('error', () => {});
  req.resume();
}

/**
 * The request body as a stream the function reads (host streaming): at most `limit` bytes; past that the stream
 * fails (the function's read fails) and `overLimit()` says so, so the host answers 413 like the real one.
 */
function limitedBody(req: http.IncomingMessage, limit: number): { body: AsyncIterable<Buffer>; overLimit: () => boolean } {
  let size = 0;
  let over = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    // destroyOnReturn false: a function that stops reading must not tear the socket down before it answers.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) { over = true; throw new Error(`Request body larger than ${limit} bytes`); }
      yield chunk;
    }
  }
  return { body: chunks(), overLimit: () => over };
}

/** Reads the body up to `limit` bytes; resolves undefined (after answering 413) when it is larger. */
async function readBody(req: http.IncomingMessage, res: http.ServerResponse, limit: number): Promise<Buffer | undefined> {
  const tooLarge = (): undefined => {
    sendJson(res, 413, { error: 'Request body too large', limitBytes: limit }); // then a lingering close
    return undefined;
  };
  // destroyOnReturn false: leaving the loop early (413) must not reset the socket before the answer is read.
  const incoming = (): AsyncIterable<Buffer> => req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return tooLarge();
  // With a Content-Length, read straight into one buffer of that size: no chunk list plus a concatenated copy, which
  // would hold every large upload twice at its peak.
  if (Number.isInteger(declared) && declared >= 0) {
    const body = Buffer.allocUnsafe(declared);
    let offset = 0;
    for await (const chunk of incoming()) {
      if (offset + chunk.length > declared) return tooLarge();
      chunk.copy(body, offset);
      offset += chunk.length;
    }
    return offset === declared ? body : body.subarray(0, offset);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming()) {
    size += chunk.length;
    if (size > limit) { chunks.length = 0; return tooLarge(); }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** anonymous: open; function: function key or master key; admin/system: master key only. */
export function authorized(required: string, key: string | undefined, keys: KeyConfig): boolean {
  if (!keys.enforce || required === 'anonymous') return true;
  if (!key) return false;
  if (sameSecret(key, keys.masterKey)) return true;
  return required === 'function' && sameSecret(key, keys.functionKey);
}

function serializeCookie(c: Record<string, unknown>): string {
  let s = `${scalarText(c.name)}=${scalarText(c.value)}`;
  if (c.domain) s += `; Domain=${scalarText(c.domain)}`;
  if (c.path) s += `; Path=${scalarText(c.path)}`;
  if (c.expires) s += `; Expires=${(c.expires instanceof Date ? c.expires : new Date(scalarText(c.expires))).toUTCString()}`;
  if (c.maxAge !== undefined) s += `; Max-Age=${scalarText(c.maxAge)}`;
  if (c.secure) s += '; Secure';
  if (c.httpOnly) s += '; HttpOnly';
  if (c.sameSite) s += `; SameSite=${scalarText(c.sameSite)}`;
  if (c.partitioned) s += '; Partitioned';
  return s;
}

interface ResponseLike { status: number; headers: Headers; cookies: Record<string, unknown>[]; arrayBuffer(): Promise<ArrayBuffer> }

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PLAIN_VALUE = /^[^\s\0\r\n](?:[^\0\r\n]*[^\s\0\r\n])?$/;

/**
 * The answer for the common result, `{ status, jsonBody, headers }` with plain header values, computed the way the
 * library's HttpResponse computes it (JSON text; `content-type: application/json` unless set; header names in lower
 * case, in order) without building a WHATWG Response and reading it back through a stream, which took about 1 ms of
 * every answer under load. Anything else (a body, cookies, a Response, a status without a body, a header the Headers
 * class would normalise) returns undefined and takes the library's path. Tested against that path.
 */
export function plainJsonAnswer(result: object): { status: number; headers: Record<string, string>; body: Buffer } | undefined {
  const init = result as { status?: unknown; jsonBody?: unknown; headers?: unknown };
  if (Object.keys(init).some((key) => key !== 'status' && key !== 'jsonBody' && key !== 'headers')) return undefined;
  const status = init.status ?? 200;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599 || status === 204 || status === 205 || status === 304) return undefined;
  if (init.jsonBody === undefined || init.jsonBody === null) return undefined;
  const headers: Record<string, string> = {};
  if (init.headers !== undefined) {
    if (typeof init.headers !== 'object' || init.headers === null) return undefined;
    const prototype: unknown = Object.getPrototypeOf(init.headers);
    if (prototype !== Object.prototype && prototype !== null) return undefined; // a Headers, a Map: the library's path
    for (const [name, value] of Object.entries(init.headers as Record<string, unknown>)) {
      const key = name.toLowerCase();
      if (typeof value !== 'string' || !TOKEN.test(name) || !PLAIN_VALUE.test(value) || key === 'set-cookie' || key in headers) return undefined;
      headers[key] = value;
    }
  }
  const text = JSON.stringify(init.jsonBody) as string | undefined;
  if (text === undefined) return undefined;
  headers['content-type'] ??= 'application/json';
  const body = Buffer.from(text, 'utf8');
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(headers).sort()) sorted[key] = headers[key]!;
  return { status, headers: sorted, body };
}

async function writeResult(res: http.ServerResponse, lib: FunctionsLibrary, result: unknown): Promise<void> {
  if (result === undefined || result === null) { flushLogs(); res.writeHead(204).end(); return; } // Functions 2.x+: no value → 204
  if (typeof result !== 'object') throw new Error('The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".');
  const plain = result instanceof lib.HttpResponse ? undefined : plainJsonAnswer(result);
  if (plain) { send(res, plain.status, { ...plain.headers, 'content-length': String(plain.body.length) }, plain.body); return; }
  const response = (result instanceof lib.HttpResponse ? result : new lib.HttpResponse(result as Record<string, unknown>)) as ResponseLike;
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => { if (key !== 'set-cookie') headers[key] = value; });
  const setCookies = [...response.headers.getSetCookie(), ...(response.cookies ?? []).map(serializeCookie)];
  if (setCookies.length) headers['set-cookie'] = setCookies;
  const body = Buffer.from(await response.arrayBuffer());
  const status = response.status || 200;
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  if (!noBody) headers['content-length'] = String(body.length);
  send(res, status, headers, noBody ? undefined : body);
}

export function createHttpServer(options: HttpServerOptions): { server: http.Server; functions: HttpFunction[] } {
  const { invoker, lib, keys, admin } = options;
  const streaming = options.streaming ?? (() => false);
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const functions = httpFunctions(options.registrations, options.routePrefix);
  const table = new RouteTable<HttpFunction>();
  for (const f of functions) table.add(f.route, f.methods, f);
  const byName = new Map(options.registrations.map((r) => [r.metadata.name.toLowerCase(), r]));

  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = http.createServer(async (req, res) => {
    const timedOut = requestDeadline(req, res, requestTimeoutMs);
    try {
      const rawUrl = req.url ?? '/';
      if (rawUrl.length > MAX_URL_LENGTH) return sendJson(res, 414, { error: 'URI too long', limit: MAX_URL_LENGTH });
      const hostHeader = req.headers.host ?? `127.0.0.1:${(server.address() as { port?: number } | null)?.port ?? ''}`;
      let url: URL;
      try { url = new URL(rawUrl, `http://${hostHeader}`); } catch { return sendJson(res, 400, { error: 'Bad request URL' }); }
      const method = (req.method ?? 'GET').toUpperCase();
      if (applyCors(options.cors, req, res)) return;

      // ---- admin API (outside the route prefix, like the host) ----
      const adminMatch = /^\/admin\/functions(?:\/([^/]+))?\/?$/i.exec(url.pathname);
      if (adminMatch || /^\/admin\/host\/status\/?$/i.test(url.pathname)) {
        if (!authorized('admin', presentedKey(req, url), keys)) return sendJson(res, 401, { error: 'Unauthorized' });
        if (!adminMatch) return method === 'GET' ? sendJson(res, 200, { state: 'Running', version: 'devhost' }) : sendJson(res, 405, { error: 'Method Not Allowed' }, { allow: 'GET' });
        const name = adminMatch[1] ? decodeURIComponent(adminMatch[1]) : undefined;
        if (!name) {
          if (method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed' }, { allow: 'GET' });
          return sendJson(res, 200, options.registrations.map((r) => ({ name: r.metadata.name, bindings: r.metadata.bindings, ...(r.metadata.retryOptions ? { retryOptions: r.metadata.retryOptions } : {}) })));
        }
        const registration = byName.get(name.toLowerCase());
        if (!registration) return sendJson(res, 404, { error: `Function '${name}' not found` });
        if (method === 'GET') return sendJson(res, 200, { name: registration.metadata.name, bindings: registration.metadata.bindings });
        if (method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed' }, { allow: 'GET, POST' });
        const trigger = triggerOf(registration.metadata);
        if (trigger?.type.toLowerCase() === 'httptrigger') return sendJson(res, 400, { error: 'HTTP functions are invoked through their route, not the admin API' });
        const body = await readBody(req, res, 1_048_576);
        if (!body) return;
        let input: unknown;
        if (body.length) {
          try { input = (JSON.parse(body.toString('utf8')) as { input?: unknown }).input; } catch { return sendJson(res, 400, { error: 'Body must be JSON: {"input": "..."}' }); }
        }
        admin.invokeNonHttp(registration, input);
        send(res, 202, {});
        return;
      }

      // ---- function routes ----
      const resolution = table.resolve(method, url.pathname);
      if (resolution.kind === 'not-found') return sendJson(res, 404, { error: 'Not Found' });
      if (resolution.kind === 'method-not-allowed') return sendJson(res, 405, { error: 'Method Not Allowed', allow: resolution.allow }, { allow: resolution.allow.join(', ') });
      const fn = resolution.value;
      if (!authorized(fn.authLevel, presentedKey(req, url), keys)) return sendJson(res, 401, { error: 'Unauthorized' });
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
      let request: unknown;
      let overLimit = (): boolean => false;
      if (streaming()) {
        // As the library's createStreamRequest builds it from the host's proxied request: the live body, unread.
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBody) return sendJson(res, 413, { error: 'Request body too large', limitBytes: maxBody });
        const hasBody = method !== 'GET' && method !== 'HEAD';
        const limited = hasBody ? limitedBody(req, maxBody) : undefined;
        if (limited) overLimit = limited.overLimit;
        const nativeRequest = new Request(url.href, { method, headers, ...(limited ? { body: limited.body as unknown as ReadableStream, duplex: 'half' } : {}) } as RequestInit);
        request = new lib.HttpRequest({ nativeRequest, params: resolution.params });
      } else {
        const body = await readBody(req, res, maxBody);
        if (!body) return;
        request = new lib.HttpRequest({ method, url: url.href, headers, params: resolution.params, ...(body.length ? { body: { bytes: body } } : {}) });
      }
      let result: unknown;
      try {
        result = await invoker.invoke(fn.registration, [request], { reason: `This function was programmatically called via the host APIs.` });
      } catch {
        // already logged with its stack by the invoker; the client gets no details
        if (timedOut()) return;
        return sendJson(res, overLimit() ? 413 : 500, overLimit() ? { error: 'Request body too large', limitBytes: maxBody } : { error: 'Internal Server Error' });
      }
      if (overLimit()) return sendJson(res, 413, { error: 'Request body too large', limitBytes: maxBody });
      if (timedOut()) return; // answered 408 already; the function's own answer has nowhere to go
      try {
        await writeResult(res, lib, result);
      } catch (err) {
        hostLog(`Function 'Functions.${fn.registration.metadata.name}' returned an invalid HTTP response: ${describeError(err)}`, 'error');
        sendJson(res, 500, { error: 'Internal Server Error' });
      }
    } catch (err) {
      if (timedOut()) return; // the body stopped arriving: answered 408
      hostLog(`HTTP pipeline error: ${describeError(err)}`, 'error');
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal Server Error' }); else res.destroy();
    }
  });
  server.maxHeadersCount = 200;
  // Idle keep-alive connections live as long as Kestrel (the host's server) keeps them: 130 s, not Node's 5 s, after
  // which a client reusing a connection at the wrong moment gets a reset. stop() ends every connection.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Node's own whole-request timeout would answer a bare 408 without a body; the deadline above answers instead.
  server.requestTimeout = 0;
  return { server, functions };
}
