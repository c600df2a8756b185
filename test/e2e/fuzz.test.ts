// Property-based fuzzing (fast-check) of every HTTP endpoint through the dev host: hand-built (often broken)
// multipart bodies, odd content types, huge and non-UTF-8 fields, odd path ids, query strings, Authorization and
// Idempotency-Key headers, and random methods. Whatever arrives, the app must answer below 500, every rejection must
// be a JSON error body, nothing may leak (stack traces, the caller's credentials), and nothing may reach the app's
// "unhandled error" path.
//
// Requests go out through node:http rather than fetch: fetch normalises paths (`..`, `%2e%2e`), refuses some methods
// and header bytes, and we want the bytes on the wire to be exactly the ones generated.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backOfficeToken, bearer, createSession, deviceToken, fixture, getJson, issueToken, startForm, startStack, type CreatedSession, type Stack,
} from '../support/liveness.js';
import { DEVICE_AUDIENCE } from '../../dev/oidc-issuer/issuer.js';
import { useTestSeed } from '../support/seed.js';

/** fast-check's seed for every property here; TEST_SEED=<n> replays a run (fast-check's failure report adds the path). */
const SEED = useTestSeed(import.meta.url);
const face = fixture('face-grace-hopper.jpg');
const noFace = fixture('noface-coffee.png');

let stack: Stack;
let base: URL;
let owned: CreatedSession; // a real session owned by `tokens.device`
let foreign: CreatedSession; // a real session owned by another device subject

/** Every request sent by the fuzzer, by status. */
const stats = { requests: 0, serverErrors: 0, statuses: {} as Record<number, number>, codes: {} as Record<string, number>, devHostAnswers: 0, created: 0 };
const problems: string[] = [];

// ---------------------------------------------------------------------------------------------------------------
// Credentials the fuzzer picks from. `secret` marks values whose echo in a response body would be a leak.
interface AuthChoice { label: string; value?: string }
const tokens = { device: '', otherDevice: '', expiredDevice: '', backOffice: '', backOfficeNoRole: '', wrongAudience: '' };

function authChoices(): fc.Arbitrary<AuthChoice> {
  const tamper = (t: string) => `${t.slice(0, -6)}${t.slice(-6).split('').reverse().join('')}`;
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant({ label: 'device', value: `Bearer ${tokens.device}` }) },
    { weight: 1, arbitrary: fc.constant({ label: 'other-device', value: `Bearer ${tokens.otherDevice}` }) },
    { weight: 1, arbitrary: fc.constant({ label: 'expired', value: `Bearer ${tokens.expiredDevice}` }) },
    { weight: 2, arbitrary: fc.constant({ label: 'back-office', value: `Bearer ${tokens.backOffice}` }) },
    { weight: 1, arbitrary: fc.constant({ label: 'back-office-no-role', value: `Bearer ${tokens.backOfficeNoRole}` }) },
    { weight: 1, arbitrary: fc.constant({ label: 'wrong-audience', value: `Bearer ${tokens.wrongAudience}` }) },
    { weight: 1, arbitrary: fc.constant({ label: 'tampered', value: `Bearer ${tamper(tokens.device)}` }) },
    { weight: 1, arbitrary: fc.constant({ label: 'lowercase-scheme', value: `bearer ${tokens.device}` }) },
    { weight: 1, arbitrary: fc.constant({ label: 'none' }) },
    { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a.b.c', 'Bearer ..', `Bearer ${'A'.repeat(6000)}.${'B'.repeat(10)}.c`)
      .map((value) => ({ label: 'fixed-garbage', value })) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 0, maxLength: 300 })
      .map((s) => ({ label: 'garbage', value: headerSafe(s) })) },
    { weight: 2, arbitrary: fc.tuple(fc.base64String({ maxLength: 200 }), fc.base64String({ maxLength: 200 }), fc.base64String({ maxLength: 80 }))
      .map(([a, b, c]) => ({ label: 'jwt-shaped', value: `Bearer ${a.replace(/=/g, '')}.${b.replace(/=/g, '')}.${c.replace(/=/g, '')}` })) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 })
      .map((s) => ({ label: 'latin1', value: `Bearer ${Buffer.from(s, 'utf8').toString('latin1')}` }))
      .map((a) => ({ ...a, value: headerSafe(a.value) })) },
  );
}

/** Node refuses CR, LF and NUL (and anything outside latin-1) in header values; keep everything else. */
function headerSafe(s: string): string {
  return s.replace(/[\r\n\0]/g, ' ').replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}

// ---------------------------------------------------------------------------------------------------------------
// The request primitive and the per-response checks.
interface Answer { status: number; headers: http.IncomingHttpHeaders; text: string }

function send(method: string, path: string, headers: Record<string, string | undefined>, body?: Buffer): Promise<Answer> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) clean[k] = v;
  if (body) clean['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers: clean }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The dev host's own answers for requests that never reach the app (no route, wrong method, limits). */
const DEV_HOST_ERRORS = new Map<number, string>([
  [400, 'Bad request URL'], [404, 'Not Found'], [405, 'Method Not Allowed'], [413, 'Request body too large'], [414, 'URI too long'],
]);

async function check(what: string, method: string, path: string, headers: Record<string, string | undefined>, body?: Buffer): Promise<Answer> {
  const answer = await send(method, path, headers, body);
  stats.requests++;
  stats.statuses[answer.status] = (stats.statuses[answer.status] ?? 0) + 1;
  const fail = (why: string) => {
    problems.push(`${what}: ${method} ${path.slice(0, 200)} -> ${answer.status} ${answer.text.slice(0, 300)} (${why})`);
    throw new Error(`${why}: ${method} ${path.slice(0, 200)} -> ${answer.status} ${answer.text.slice(0, 500)}`);
  };
  if (answer.status >= 500) { stats.serverErrors++; fail('5xx'); }
  if (/\bat .+\.(ts|js):\d+|\bat .*\(.*:\d+:\d+\)/.test(answer.text)) fail('stack trace in body');
  const auth = headers.authorization;
  if (auth) {
    const credential = auth.replace(/^\s*bearer\s+/i, '').trim();
    if (credential.length >= 16 && answer.text.includes(credential)) fail('Authorization value echoed');
  }
  if (answer.status >= 400 && method !== 'HEAD') {
    let parsed: unknown;
    try { parsed = JSON.parse(answer.text); } catch { fail('rejection body is not JSON'); }
    if (!String(answer.headers['content-type'] ?? '').startsWith('application/json')) fail('rejection is not application/json');
    const e = (parsed as { error?: unknown }).error;
    if (typeof e === 'string') {
      // The dev host answered itself: the route never reached the app. Its shape is { error: string, ...details }.
      if (DEV_HOST_ERRORS.get(answer.status) !== e) fail('unexpected dev-host error');
      stats.devHostAnswers++;
    } else {
      // The app's shape, exactly: { error: { code, message } } and nothing else.
      const ok = parsed !== null && typeof parsed === 'object' && Object.keys(parsed as object).length === 1
        && e !== null && typeof e === 'object' && Object.keys(e as object).sort().join(',') === 'code,message'
        && typeof (e as { code: unknown }).code === 'string' && (e as { code: string }).code.length > 0
        && typeof (e as { message: unknown }).message === 'string';
      if (!ok) fail('rejection is not { error: { code, message } }');
      const code = `${what} ${answer.status} ${(e as { code: string }).code}`;
      stats.codes[code] = (stats.codes[code] ?? 0) + 1;
    }
  }
  return answer;
}

// ---------------------------------------------------------------------------------------------------------------
// Multipart bodies, by hand.
const FIELD_NAMES = ['verifyImage', 'deviceCorrelationId', 'livenessOperationMode', 'authTokenTimeToLiveInSeconds', 'enableSessionImage'];

const hugeText = fc.integer({ min: 1_025, max: 100_000 }).chain((n) => fc.constantFrom('x', 'é', '\u{1F600}', '\0').map((c) => c.repeat(Math.ceil(n / c.length))));
const nonUtf8 = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(a)]));

const s = (arb: fc.Arbitrary<string>) => arb.map((v) => Buffer.from(v, 'utf8'));
/** Mostly valid values for each text field, with the near misses (case, spaces, bounds). */
const FIELD_VALUES: Record<string, fc.Arbitrary<string>> = {
  deviceCorrelationId: fc.stringMatching(/^[\x21-\x7e]{1,64}$/),
  livenessOperationMode: fc.constantFrom('Passive', 'PassiveActive', 'passive', ' PASSIVEACTIVE ', 'Active', ''),
  authTokenTimeToLiveInSeconds: fc.oneof(fc.integer({ min: 60, max: 86_400 }).map(String), fc.integer({ min: -10, max: 100_000 }).map(String),
    fc.constantFrom('60', '86400', '1e3', '0x40', '600.0', ' 600', '99999999999')),
  enableSessionImage: fc.constantFrom('true', 'false', 'TRUE', '1', 'yes', ''),
};
const validFieldValue = (name: string): fc.Arbitrary<Buffer> => s(Object.hasOwn(FIELD_VALUES, name) ? FIELD_VALUES[name]! : fc.string());

function fieldValue(name: string): fc.Arbitrary<Buffer> {
  const image = fc.constantFrom(face, face.subarray(0, 500), face.subarray(0, 4000), noFace, Buffer.from('not an image '.repeat(200)));
  return fc.oneof(
    { weight: 4, arbitrary: name === 'verifyImage' ? image : validFieldValue(name) },
    { weight: 2, arbitrary: s(fc.string({ unit: 'grapheme', maxLength: 80 })) },
    { weight: 1, arbitrary: s(hugeText) },
    { weight: 1, arbitrary: nonUtf8 },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 3000 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: image },
  );
}

interface Part { name: string; filename?: string; contentType?: string; value: Buffer; dispositionStyle: 'quoted' | 'bare' | 'none' | 'star' }

const partArb: fc.Arbitrary<Part> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom('VERIFYIMAGE', 'verifyimage', 'Parameters', '__proto__', 'constructor', '', 'a"b', 'x; filename=y', '名前', 'verifyImage\u0000') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
).chain((name) => fc.record({
  name: fc.constant(name),
  filename: fc.option(fc.constantFrom('verify.jpg', 'a.png', '', '../../etc/passwd', 'ü.jpg', 'x'.repeat(2000)), { nil: undefined, freq: 2 }),
  contentType: fc.option(fc.constantFrom('image/jpeg', 'text/plain', 'application/octet-stream', 'multipart/mixed', 'text/plain; charset=utf-16', 'garbage/'), { nil: undefined }),
  value: fieldValue(name),
  dispositionStyle: fc.constantFrom<Part['dispositionStyle']>('quoted', 'quoted', 'quoted', 'bare', 'none', 'star'),
})) as fc.Arbitrary<Part>;

/** A form a client could plausibly send (verify image file part, known fields once each), sometimes with one odd part. */
const sensibleParts: fc.Arbitrary<Part[]> = fc.record({
  image: fc.constantFrom(face, face, face, noFace, face.subarray(0, 4000), Buffer.from('not an image '.repeat(200))),
  fields: fc.subarray(FIELD_NAMES.slice(1)).chain((names) => fc.tuple(...names.map((n) => fc.oneof(
    { weight: 3, arbitrary: fc.constant(n).chain((name) => validFieldValue(name)) },
    { weight: 1, arbitrary: fieldValue(n) },
  ).map((value) => ({ name: n, value, dispositionStyle: 'quoted' as const }))))),
  odd: fc.option(partArb, { nil: undefined, freq: 3 }),
  oddAt: fc.nat(),
}).map(({ image, fields, odd, oddAt }) => {
  const parts: Part[] = [...fields, { name: 'verifyImage', filename: 'verify.jpg', contentType: 'image/jpeg', value: image, dispositionStyle: 'quoted' }];
  if (odd) parts.splice(oddAt % (parts.length + 1), 0, odd);
  return parts;
});

const boundaryArb = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,70}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/) },
  { weight: 1, arbitrary: fc.constantFrom('----fuzz', 'x', ' ', '"quoted"', 'a'.repeat(200), '--', 'boundary with space') },
);

interface Mutation { kind: 'none' | 'truncate' | 'no-close' | 'lf-only' | 'dup-boundary' | 'preamble' | 'no-crlf-before-close'; at: number }
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom<Mutation['kind']>('none', 'none', 'none', 'truncate', 'no-close', 'lf-only', 'dup-boundary', 'preamble', 'no-crlf-before-close'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
});

function buildMultipart(boundary: string, parts: Part[], mutation: Mutation): Buffer {
  const out: Buffer[] = [];
  const crlf = mutation.kind === 'lf-only' ? '\n' : '\r\n';
  if (mutation.kind === 'preamble') out.push(Buffer.from(`garbage before the first boundary${crlf}`));
  for (const p of parts) {
    out.push(Buffer.from(`--${boundary}${crlf}`));
    if (mutation.kind === 'dup-boundary') out.push(Buffer.from(`--${boundary}${crlf}`));
    const name = p.dispositionStyle === 'quoted' ? `name="${p.name}"` : p.dispositionStyle === 'bare' ? `name=${p.name}`
      : p.dispositionStyle === 'star' ? `name*=UTF-8''${encodeURIComponent(p.name)}` : '';
    const filename = p.filename !== undefined ? `; filename="${p.filename}"` : '';
    out.push(Buffer.from(`Content-Disposition: form-data; ${name}${filename}${crlf}`, 'utf8'));
    if (p.contentType) out.push(Buffer.from(`Content-Type: ${p.contentType}${crlf}`));
    out.push(Buffer.from(crlf), p.value, Buffer.from(mutation.kind === 'no-crlf-before-close' ? '' : crlf));
  }
  if (mutation.kind !== 'no-close') out.push(Buffer.from(`--${boundary}--${crlf}`));
  const body = Buffer.concat(out);
  return mutation.kind === 'truncate' ? body.subarray(0, Math.floor(body.length * mutation.at)) : body;
}

const contentTypeArb = (boundary: string) => fc.oneof(
  { weight: 8, arbitrary: fc.constant(`multipart/form-data; boundary=${boundary}`) },
  { weight: 1, arbitrary: fc.constant(`multipart/form-data; boundary="${boundary}"`) },
  { weight: 1, arbitrary: fc.constant(`Multipart/Form-Data;boundary=${boundary};charset=utf-8`) },
  { weight: 1, arbitrary: fc.constant('multipart/form-data; boundary=someOtherBoundary') },
  { weight: 1, arbitrary: fc.constantFrom('multipart/form-data', 'multipart/form-data; boundary=', 'multipart/mixed; boundary=x', 'application/json',
    'application/x-www-form-urlencoded', 'text/plain', 'image/jpeg', '', ';;;', 'multipart/form-data; boundary=a; boundary=b') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 100 }).map(headerSafe) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const idempotencyKeyArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,255}$/) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a b', 'x'.repeat(256), 'x'.repeat(255), '/\\#?%', "'); DROP TABLE--", 'key\t') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map(headerSafe) },
);

// ---------------------------------------------------------------------------------------------------------------
// Paths and ids.
const idArb = (): fc.Arbitrary<string> => fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(owned.sessionId, foreign.sessionId, owned.sessionId.toUpperCase(), `{${owned.sessionId}}`) },
  { weight: 2, arbitrary: fc.uuid().map(String) },
  { weight: 1, arbitrary: fc.constantFrom('', '..', '.', '%2e%2e', '..%2F..%2Fetc', '%2F', '%00', '%zz', '%', 'null', 'undefined', '00000000-0000-0000-0000-000000000000',
    `${owned.sessionId}%0A`, `${owned.sessionId}%20`, 'a/b', '~', '%252F', 'con', 'x'.repeat(3000), `${owned.sessionId}/..`) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 60 }).map((s) => s.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c)).replace(/[/?#]/g, '%2F')) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 3000 }).chain((n) => fc.constantFrom('a', '%F0%9F%98%80', '-').map((c) => c.repeat(Math.ceil(n / c.length)))) },
);

const SESSION_ROUTES = [
  (id: string) => `/api/liveness-sessions/${id}`,
  (id: string) => `/api/liveness-sessions/${id}/complete`,
  (id: string) => `/api/liveness-sessions/${id}/status`,
  (id: string) => `/api/liveness-sessions/${id}/audit-entries`,
  (id: string) => `/api/backoffice/liveness-sessions/${id}`,
  (id: string) => `/api/backoffice/liveness-sessions/${id}/audit-entries`,
];
// Only methods Node's HTTP parser knows: an unknown token never reaches JavaScript (llhttp answers a bare 400).
const METHODS = ['GET', 'GET', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'PURGE'];

// ---------------------------------------------------------------------------------------------------------------
beforeAll(async () => {
  stack = await startStack();
  base = new URL(stack.api);
  [tokens.device, tokens.otherDevice, tokens.expiredDevice, tokens.backOffice, tokens.backOfficeNoRole, tokens.wrongAudience] = await Promise.all([
    deviceToken(`fuzz-device-${randomUUID()}`),
    deviceToken(),
    issueToken({ sub: 'fuzz-expired', aud: DEVICE_AUDIENCE, expires_in: -600 }),
    backOfficeToken(),
    backOfficeToken([]),
    issueToken({ sub: 'fuzz-wrong-aud', aud: 'api://someone-else' }),
  ]);
  owned = await createSession(stack, face, {}, tokens.device);
  foreign = await createSession(stack, face);
  // The credentials are what their labels say; otherwise the label-based expectations below would prove nothing.
  const status = async (path: string, token: string) => (await getJson(`${stack.api}${path}`, { headers: bearer(token) })).status;
  const own = `/liveness-sessions/${owned.sessionId}/status`;
  expect(await status(own, tokens.device)).toBe(200);
  expect(await status(own, tokens.otherDevice)).toBe(404);
  expect(await status(own, tokens.expiredDevice)).toBe(401);
  expect(await status(own, tokens.wrongAudience)).toBe(401);
  expect(await status('/backoffice/liveness-sessions', tokens.backOffice)).toBe(200);
  expect(await status('/backoffice/liveness-sessions', tokens.backOfficeNoRole)).toBe(403);
}, 60_000);

afterAll(async () => {
  const summary = Object.entries(stats.statuses).sort(([a], [b]) => Number(a) - Number(b)).map(([s, n]) => `${s}: ${n}`).join(', ');
  console.log(`fuzz (TEST_SEED=${SEED}): ${stats.requests} requests, ${stats.serverErrors} 5xx, ${stats.devHostAnswers} answered by the dev host itself, `
    + `${stats.created} sessions created, statuses {${summary}}`);
  console.log(`fuzz: app error codes ${JSON.stringify(stats.codes)}`);
  if (problems.length) console.log(`fuzz problems:\n${problems.slice(0, 20).join('\n')}`);
  await stack?.stop();
});

describe('fuzzing every endpoint', () => {
  it('POST /api/liveness-sessions with hand-built multipart bodies, content types, tokens and Idempotency-Keys', async () => {
    await fc.assert(fc.asyncProperty(
      boundaryArb.chain((boundary) => fc.record({
        boundary: fc.constant(boundary),
        contentType: contentTypeArb(boundary),
        parts: fc.oneof({ weight: 2, arbitrary: sensibleParts }, { weight: 1, arbitrary: fc.array(partArb, { minLength: 0, maxLength: 6 }) }),
        mutation: fc.oneof({ weight: 2, arbitrary: fc.constant<Mutation>({ kind: 'none', at: 0 }) }, { weight: 1, arbitrary: mutationArb }),
        auth: fc.oneof({ weight: 3, arbitrary: fc.constant<AuthChoice>({ label: 'device', value: `Bearer ${tokens.device}` }) }, { weight: 1, arbitrary: authChoices() }),
        idempotencyKey: idempotencyKeyArb,
        path: fc.constantFrom('/api/liveness-sessions', '/api/liveness-sessions/', '/API/Liveness-Sessions', '/api/liveness-sessions?x=1'),
      })),
      async (c) => {
        const body = buildMultipart(c.boundary, c.parts, c.mutation);
        const answer = await check('create', 'POST', c.path, {
          authorization: c.auth.value, 'content-type': c.contentType, 'idempotency-key': c.idempotencyKey,
        }, body);
        if (answer.status === 201) stats.created++;
        // A create without a valid device token can never succeed.
        if (!['device', 'other-device', 'lowercase-scheme'].includes(c.auth.label)) expect(answer.status).not.toBe(201);
      },
    ), { seed: SEED, numRuns: 450 });
  });

  it('well-formed creates with odd field values (FormData-encoded), so the field validation is reached', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        deviceCorrelationId: fc.option(fc.oneof(FIELD_VALUES.deviceCorrelationId!, FIELD_VALUES.deviceCorrelationId!, fc.string({ unit: 'grapheme', maxLength: 80 }), fc.stringMatching(/^[\x21-\x7e]{1,70}$/), hugeText), { nil: undefined }),
        livenessOperationMode: fc.option(fc.oneof(fc.constantFrom('Passive', 'PassiveActive', 'passiveactive'), fc.constantFrom('Passive', 'PassiveActive'), fc.string({ maxLength: 20 })), { nil: undefined }),
        authTokenTimeToLiveInSeconds: fc.option(fc.oneof(fc.integer({ min: 60, max: 86_400 }).map(String), fc.integer({ min: 60, max: 86_400 }).map(String), fc.integer({ min: -100, max: 100_000 }).map(String), fc.string({ maxLength: 12 })), { nil: undefined }),
        enableSessionImage: fc.option(fc.oneof(fc.constantFrom('true', 'false'), fc.constantFrom('true', 'false'), fc.string({ maxLength: 8 })), { nil: undefined }),
        image: fc.constantFrom(face, face, noFace, face.subarray(0, 900), Buffer.from('GIF89a not really a gif'.repeat(100))),
        fileName: fc.constantFrom('verify.jpg', 'verify.jpg', 'x.png', '', 'ü'.repeat(300)),
        idempotencyKey: idempotencyKeyArb,
      }),
      async (c) => {
        const fields: Record<string, string> = {};
        for (const k of ['deviceCorrelationId', 'livenessOperationMode', 'authTokenTimeToLiveInSeconds', 'enableSessionImage'] as const) {
          if (c[k] !== undefined) fields[k] = c[k]!;
        }
        // Serialise the FormData with undici (fetch's own encoder), then send it over node:http like the rest.
        const request = new Request('http://x/', { method: 'POST', body: startForm(c.image, fields, c.fileName) });
        const body = Buffer.from(await request.arrayBuffer());
        const answer = await check('create-form', 'POST', '/api/liveness-sessions', {
          authorization: `Bearer ${tokens.device}`, 'content-type': request.headers.get('content-type')!, 'idempotency-key': c.idempotencyKey,
        }, body);
        if (answer.status === 201) stats.created++;
      },
    ), { seed: SEED, numRuns: 200 });
  });

  it('session routes with odd ids, methods and Authorization headers', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        route: fc.constantFrom(...SESSION_ROUTES),
        id: idArb(),
        method: fc.constantFrom(...METHODS),
        auth: authChoices(),
        query: fc.option(fc.constantFrom('?code=abc', '?x=%zz', '?', '?sessionId=1'), { nil: undefined }),
      }),
      async (c) => {
        const path = c.route(c.id) + (c.query ?? '');
        const answer = await check('session', c.method, path, { authorization: c.auth.value });
        // Another subject's token on the owner's session looks like no session at all (with the route's own method;
        // another method is the host's 405 before any auth).
        const ownMethod = (/\/complete$/.test(c.route(c.id)) && c.method === 'POST') || (/\/status$/.test(c.route(c.id)) && c.method === 'GET');
        if (c.auth.label === 'other-device' && c.id === owned.sessionId && ownMethod) expect(answer.status).toBe(404);
      },
    ), { seed: SEED, numRuns: 450 });
  });

  it('GET /api/liveness-sessions (and the back-office twin) with random query strings', async () => {
    const value = fc.oneof(
      fc.constantFrom('0', '1', '50', '1000', '1001', '-1', '1e3', ' 5', '5 ', '0005', 'NaN', 'Infinity', '', 'ResultAvailable', 'Expired', 'notastatus'),
      fc.string({ unit: 'grapheme', maxLength: 80 }),
      fc.base64String({ maxLength: 120 }),
      // continuation tokens that look like ours: base64 JSON with odd partition/row keys
      fc.record({ nextPartitionKey: fc.string({ unit: 'grapheme', maxLength: 40 }), nextRowKey: fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }), { nil: undefined }) })
        .map((t) => Buffer.from(JSON.stringify(t)).toString('base64')),
      fc.integer({ min: 900, max: 2000 }).map((n) => 'q'.repeat(n)),
    );
    await fc.assert(fc.asyncProperty(
      fc.record({
        path: fc.constantFrom('/api/liveness-sessions', '/api/backoffice/liveness-sessions'),
        pairs: fc.array(fc.tuple(fc.oneof(fc.constantFrom('top', 'continuationToken', 'status', 'deviceCorrelationId', 'code', 'TOP', 'orderBy'), fc.string({ maxLength: 10 })), value), { maxLength: 4 }),
        raw: fc.option(fc.constantFrom('&&&', '=', 'top', 'top=%', 'status=%E0%A4%A', '%zz=1', 'top=1&top=2', 'a=b=c'), { nil: undefined }),
        auth: authChoices(),
      }),
      async (c) => {
        const query = [...c.pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`), ...(c.raw ? [c.raw] : [])].join('&');
        await check('list', 'GET', `${c.path}${query ? `?${query}` : ''}`, { authorization: c.auth.value });
      },
    ), { seed: SEED, numRuns: 250 });
  });

  it('random methods and headers on every route, including /api/health', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        path: fc.constantFrom('/api/health', '/api/liveness-sessions', '/api/backoffice/liveness-sessions', `/api/liveness-sessions/${owned.sessionId}/complete`,
          '/api', '/api/', '/', '/api/backoffice', '/api/liveness-sessions/a/b/c/d', '/api/health/x', '/api//liveness-sessions'),
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'REPORT'),
        auth: authChoices(),
        contentType: fc.option(fc.constantFrom('application/json', 'multipart/form-data; boundary=x', 'text/plain'), { nil: undefined }),
        body: fc.option(fc.oneof(fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)), nonUtf8), { nil: undefined }),
        extra: fc.dictionary(fc.constantFrom('x-forwarded-for', 'x-functions-key', 'accept', 'x-ms-client-request-id', 'if-match', 'cookie'),
          fc.string({ unit: 'binary-ascii', maxLength: 200 }).map(headerSafe), { maxKeys: 3 }),
      }),
      async (c) => {
        const body = c.method === 'GET' || c.method === 'HEAD' ? undefined : c.body;
        await check('methods', c.method, c.path, { ...c.extra, authorization: c.auth.value, 'content-type': c.contentType }, body);
      },
    ), { seed: SEED, numRuns: 150 });
  });

  it('the app logged no unhandled error, and still creates, completes and serves sessions', async () => {
    const logs = stack.logs();
    const unhandled = logs.split('\n').filter((l) => /unhandled/i.test(l));
    const failedHttp = logs.split('\n').filter((l) => /Function 'Functions\.(liveness-sessions|health)[^']*' failed|HTTP pipeline error|returned an invalid HTTP response/.test(l));
    console.log(`fuzz: ${unhandled.length} unhandled-error log lines, ${failedHttp.length} failed HTTP invocations`);
    expect(unhandled).toEqual([]);
    expect(failedHttp).toEqual([]);
    expect(problems).toEqual([]);
    expect(stats.serverErrors).toBe(0);
    expect(stats.requests).toBeGreaterThan(1000);

    const created = await createSession(stack, face, { deviceCorrelationId: `fuzz-after-${Date.now()}` });
    expect(created.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const res = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/complete`, { method: 'POST', headers: bearer(created.deviceToken) });
    expect(res.status).toBe(202);
    const read = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(created.sessionId);
  });
});
