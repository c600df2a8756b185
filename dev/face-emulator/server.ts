// Face API v1.2 and v1.3-preview.1 liveness emulator (with-verify and plain sessions) on plain node:http (or https). It speaks the wire contract of the real service
// closely enough for the official `@azure-rest/ai-vision-face` client (README "Face API surface"), adds the
// device-side call the Vision UI SDK makes (README "Playing the phone"), and exposes /emulator/* control endpoints
// for tests and benches.
// Never logs keys, tokens or image bytes: log lines carry method, path (session ids are not secrets), status, time.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { z } from 'zod';
import { AbuseMonitor } from './abuse.js';
import { ScriptedDecisionEngine, VisionDecisionEngine, type DecisionEngine, type DecisionMode } from './decision-engine.js';
import { FaceError, errors } from './errors.js';
import { FaultInjector, faultSettingsSchema, type FaultSettings } from './faults.js';
import { createImageAnalyzer, type EngineName, type ImageAnalysis, type MemoizingImageAnalyzer } from './image-analyzer.js';
import { isMultipart, parseMultipart, type FilePart } from './multipart.js';
import {
  API_VERSIONS, EmulatorClock, SessionStore, sha256Hex, toWire,
  type AbuseMonitoringResult, type ApiVersion, type Attempt, type FaceRectangle, type Session, type VerifyReference,
} from './store.js';
import { checkImageSize, MAX_IMAGE_BYTES, validateCreate, validateCreateLiveness, type SessionCreateParams } from './validation.js';

export interface FaceEmulatorOptions {
  port: number;            // 0 = any free port
  host?: string;           // default 127.0.0.1
  apiKey: string;          // required Ocp-Apim-Subscription-Key
  latencyMs?: number;      // initial added latency for Face management calls
  log?: (line: string) => void;  // default: no logging (never log tokens, keys or image bytes)
  /** Image engine: 'human' (default; real BlazeFace + FaceMesh detection) or 'stub' (no ML, one centred face). */
  engine?: EngineName;
  /** Initial fault settings (e.g. from env in main.ts); `latencyMs` above overrides `faults.latencyMs`. */
  faults?: FaultSettings;
  /**
   * 'scripted' (default here, so tests that script outcomes stay exact) or 'vision' (matchConfidence from face
   * embeddings of the capture and the verify image; needs the human engine). Control-endpoint scripts override both.
   */
  decisions?: DecisionMode;
  /**
   * Entra ID bearer tokens on management and control calls, besides the key: signed by this issuer (its JWKS from
   * OIDC discovery, or `jwksUri`), for the audience `https://cognitiveservices.azure.com` (the Face resource's).
   */
  tokenAuth?: { issuer: string; jwksUri?: string; audience?: string };
  /** Serve https with this key and certificate (the Azure SDK sends bearer tokens over https only). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** v1.3 abuse monitoring at start (the `/settings` resource; default off, as a fresh resource is assumed to be). */
  abuseMonitoringEnabled?: boolean;
  /** Compute face embeddings for abuse monitoring even with scripted decisions (human engine only). */
  abuseEmbeddings?: boolean;
  /** How long a face template counts for abuse monitoring (default 7 days). */
  abuseWindowSeconds?: number;
}

export interface RunningFaceEmulator { url: string; port: number; close(): Promise<void>; }

/** The Face resource's Entra ID audience. */
export const COGNITIVE_SERVICES_AUDIENCE = 'https://cognitiveservices.azure.com';
const API_PREFIXES = API_VERSIONS.map((v) => [v, `/face/${v.toLowerCase()}/`] as const);
const DEVICE_PATHS = ['detectlivenesswithverify/singlemodal', 'detectliveness/singlemodal'];
/** Device captures may be short WebP videos; cap what we buffer. */
const MAX_DEVICE_CONTENT_BYTES = 20 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length });
  res.end(payload);
}

function sendError(res: ServerResponse, error: FaceError): void {
  sendJson(res, error.status, error.body(), { ...error.headers, 'x-ms-error-code': error.code });
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** Consume whatever is left of the request body so an early response doesn't reset the client's upload. */
function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.complete) return Promise.resolve();
  return new Promise((resolve) => {
    req.on('end', resolve);
    req.on('close', resolve);
    req.on('error', resolve);
    req.resume();
  });
}

async function readJson(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw errors.badArgument('Request body is too large.');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try { return JSON.parse(text) as unknown; } catch { throw errors.badArgument('JSON parsing error.'); }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw errors.badArgument(`Request body is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function keyMatches(provided: string | string[] | undefined, expected: string): boolean {
  if (typeof provided !== 'string') return false;
  const a = Buffer.from(provided);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The device call comes from a browser page on another origin (the Vision web component, or the repo's device page
 * playing the capture), so it answers CORS: any origin, with the Authorization header (a session token, not a cookie:
 * no credentials mode). The keyed management and control endpoints answer no CORS at all: they are for servers.
 * @returns true when the request was a preflight and has been answered
 */
function deviceCors(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  const lower = pathname.toLowerCase().replace(/\/+$/, '');
  if (!API_PREFIXES.some(([, prefix]) => DEVICE_PATHS.some((d) => lower === `${prefix}${d}`))) return false;
  if (!req.headers.origin) return false;
  res.setHeader('access-control-allow-origin', '*');
  if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false;
  res.setHeader('access-control-allow-methods', 'POST');
  res.setHeader('access-control-allow-headers', String(req.headers['access-control-request-headers'] ?? 'authorization, content-type'));
  res.setHeader('access-control-max-age', '600');
  res.writeHead(204).end();
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Control-endpoint schemas

const livenessDecisionSchema = z.enum(['realface', 'spoofface', 'uncertain']);
const scriptSchema = z.object({
  sessionId: z.string().min(1).optional(),
  deviceCorrelationId: z.string().min(1).optional(),
  livenessDecision: livenessDecisionSchema.optional(),
  matchConfidence: z.number().min(0).max(1).optional(),
  attemptError: z.object({ code: z.string().min(1), message: z.string().min(1) }).optional(),
  /** v1.3: force the abuse verdict of the session's attempts (otherwise derived from face templates). */
  abuseDetected: z.boolean().optional(),
  otherFlaggedSessions: z.array(z.object({
    attemptId: z.number().int().min(1), sessionId: z.string().min(1), sessionImageId: z.string().min(1).optional(),
  }).strict()).max(20).optional(),
}).strict().refine((s) => s.sessionId !== undefined || s.deviceCorrelationId !== undefined, {
  message: 'sessionId or deviceCorrelationId is required',
});
const clockSchema = z.object({ advanceSeconds: z.number().min(0), sessionId: z.string().min(1).optional() }).strict();

// ---------------------------------------------------------------------------------------------------------------

export async function startFaceEmulator(options: FaceEmulatorOptions): Promise<RunningFaceEmulator> {
  if (!options.apiKey) throw new Error('startFaceEmulator: apiKey is required');
  const log = options.log ?? (() => undefined);
  const host = options.host ?? '127.0.0.1';

  const mode: DecisionMode = options.decisions ?? 'scripted';
  const analyzer: MemoizingImageAnalyzer = await createImageAnalyzer(options.engine ?? 'human', {
    embeddings: mode === 'vision' || options.abuseEmbeddings === true,
  });
  const abuse = new AbuseMonitor(options.abuseWindowSeconds);
  const settings = { livenessAbuseMonitoring: { enabled: options.abuseMonitoringEnabled ?? false } };
  const jwks = options.tokenAuth
    ? createRemoteJWKSet(new URL(options.tokenAuth.jwksUri ?? `${options.tokenAuth.issuer.replace(/\/+$/, '')}/jwks`))
    : undefined;
  const clock = new EmulatorClock();
  const store = new SessionStore(clock);
  const scripts = new ScriptedDecisionEngine();
  const decisions: DecisionEngine = mode === 'vision' ? new VisionDecisionEngine(scripts) : scripts;
  const initialFaults: FaultSettings = { ...options.faults };
  if (options.latencyMs !== undefined) initialFaults.latencyMs = options.latencyMs;
  const faults = new FaultInjector(initialFaults);

  /** The key, or (when configured) an Entra ID bearer token for the Face resource's audience. */
  async function requireKey(req: IncomingMessage): Promise<void> {
    if (keyMatches(req.headers['ocp-apim-subscription-key'], options.apiKey)) return;
    const bearer = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer && jwks && options.tokenAuth) {
      try {
        await jwtVerify(bearer, jwks, {
          issuer: options.tokenAuth.issuer, audience: options.tokenAuth.audience ?? COGNITIVE_SERVICES_AUDIENCE, clockTolerance: 60,
        });
        return;
      } catch {
        throw errors.invalidBearerToken();
      }
    }
    throw errors.accessDenied();
  }

  /** Verify image / device image → one face or the service's InvalidImage* error. */
  async function analyzeSingleFace(image: FilePart): Promise<{ analysis: ImageAnalysis; reference: VerifyReference; embedding?: number[] }> {
    checkImageSize(image);
    const analysis = await analyzer.analyze(image.bytes);
    if (!analysis.decodable) throw errors.undecodableImage();
    const [face, second] = analysis.faces;
    if (!face) throw errors.noFace();
    if (second) throw errors.multipleFaces();
    return {
      analysis,
      reference: { referenceType: 'image', faceRectangle: face.rect, qualityForRecognition: face.quality },
      ...(face.embedding ? { embedding: face.embedding } : {}),
    };
  }

  // ---- management API ------------------------------------------------------------------------------------------

  /** The fields of a new session that both creates take the same way. */
  function sessionFields(params: SessionCreateParams, version: ApiVersion) {
    return {
      apiVersion: version,
      maxAttempts: params.numberOfClientAttemptsAllowed,
      isAbuseMonitoringEnabled: version !== 'v1.2' && settings.livenessAbuseMonitoring.enabled,
      livenessOperationMode: params.livenessOperationMode,
      modelVersion: params.modelVersion,
      deviceCorrelationIdSetInClient: params.deviceCorrelationIdSetInClient,
      authTokenTimeToLiveInSeconds: params.authTokenTimeToLiveInSeconds,
      enableSessionImage: params.enableSessionImage,
      ...(params.deviceCorrelationId !== undefined ? { deviceCorrelationId: params.deviceCorrelationId } : {}),
    };
  }

  async function createSession(req: IncomingMessage, res: ServerResponse, version: ApiVersion): Promise<void> {
    if (!isMultipart(req)) { await drain(req); throw errors.invalidMediaType(); }
    const body = await parseMultipart(req, { fileSize: MAX_IMAGE_BYTES, fileParts: ['verifyimage'] });
    const params = validateCreate(body, version);
    const verify = await analyzeSingleFace(params.verifyImage);
    const verifyReferences: VerifyReference[] = [verify.reference];
    const verifyEmbedding = verify.embedding;
    const verifyImageHash = sha256Hex(params.verifyImage.bytes);
    const session = store.create({
      kind: 'livenessWithVerify',
      ...sessionFields(params, version),
      returnVerifyImageHash: params.returnVerifyImageHash,
      verifyConfidenceThreshold: params.verifyConfidenceThreshold,
      verifyReferences,
      verifyImageHash,
      ...(verifyEmbedding !== undefined ? { verifyEmbedding } : {}),
    });
    sendJson(res, 200, toWire(session, version));
  }

  /** The plain liveness create (JSON, no verify image): no verifyResult on its attempts. */
  async function createLivenessSession(req: IncomingMessage, res: ServerResponse, version: ApiVersion): Promise<void> {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) { await drain(req); throw errors.invalidMediaType(); }
    const params = validateCreateLiveness(await readJson(req), version);
    const session = store.create({
      kind: 'liveness',
      ...sessionFields(params, version),
      returnVerifyImageHash: false,
      verifyConfidenceThreshold: 0.5,
      verifyReferences: [],
      ...(params.userCorrelationId !== undefined ? { userCorrelationId: params.userCorrelationId } : {}),
      userCorrelationIdSetInClient: params.userCorrelationIdSetInClient,
      ...(params.expectedClientIpAddress !== undefined ? { expectedClientIpAddress: params.expectedClientIpAddress } : {}),
    });
    sendJson(res, 200, toWire(session, version));
  }

  /** The abuse verdict on a finished attempt: a script's, else derived from the face template (README "Abuse monitoring"). */
  function abuseVerdict(session: Session, attempt: Attempt, embedding: number[] | undefined): AbuseMonitoringResult | undefined {
    if (!session.isAbuseMonitoringEnabled) return undefined;
    const script = scripts.scriptFor(session);
    const correlationId = session.userCorrelationId ?? session.deviceCorrelationId;
    const derived = embedding && correlationId !== undefined && attempt.attemptStatus === 'Succeeded'
      ? abuse.observe({
        embedding, correlationId, sessionId: session.sessionId, attemptId: attempt.attemptId,
        ...(attempt.result?.sessionImageId ? { sessionImageId: attempt.result.sessionImageId } : {}),
      }, clock.now())
      : { isAbuseDetected: false, otherFlaggedSessions: [] };
    if (script?.abuseDetected === undefined) return derived;
    return { isAbuseDetected: script.abuseDetected, otherFlaggedSessions: script.otherFlaggedSessions ?? derived.otherFlaggedSessions };
  }

  // ---- device API ----------------------------------------------------------------------------------------------

  async function deviceAttempt(req: IncomingMessage, res: ServerResponse, version: ApiVersion, kind: Session['kind']): Promise<void> {
    const auth = req.headers.authorization ?? '';
    const match = /^bearer\s+(\S+)\s*$/i.exec(auth);
    const found = match?.[1] ? store.getByToken(match[1]) : undefined;
    const session = found?.kind === kind ? found : undefined;
    if (!session) { await drain(req); throw errors.invalidSessionToken(); }
    if (session.attempts.length >= session.maxAttempts) { await drain(req); throw errors.attemptsExhausted(session.maxAttempts); }
    if (!isMultipart(req)) { await drain(req); throw errors.invalidMediaType(); }

    const body = await parseMultipart(req, { fileSize: MAX_DEVICE_CONTENT_BYTES, fileParts: ['content', 'verifyimage'] });
    const content = body.files.get('content');
    if (!content || content.size === 0) throw errors.badArgument('The Content part is required.');
    if (content.truncated) throw errors.imageTooBig();
    const metadataFile = body.files.get('metadata');
    const metadata = body.fields.get('metadata') ?? (metadataFile ? metadataFile.bytes.toString('utf8') : '');

    // Mobile SDKs may send the verify image with the capture instead of at create (README "Playing the phone").
    const deviceVerifyImage = body.files.get('verifyimage');
    let deviceReference: Awaited<ReturnType<typeof analyzeSingleFace>> | undefined;
    if (deviceVerifyImage && session.kind === 'livenessWithVerify' && session.verifyReferences.length === 0) {
      deviceReference = await analyzeSingleFace(deviceVerifyImage);
    }

    // Re-check after the awaits above and reserve the attempt slot synchronously so concurrent calls can't exceed it.
    if (session.deleted || store.getByToken(session.authToken) !== session) throw errors.invalidSessionToken();
    if (session.attempts.length >= session.maxAttempts) throw errors.attemptsExhausted(session.maxAttempts);
    if (deviceReference && deviceVerifyImage) {
      session.verifyReferences = [deviceReference.reference];
      if (deviceReference.embedding) session.verifyEmbedding = deviceReference.embedding;
      session.verifyImageHash = sha256Hex(deviceVerifyImage.bytes);
    }
    const attempt: Attempt = {
      attemptId: session.attempts.length + 1, attemptStatus: 'Running',
      ...(session.apiVersion !== 'v1.2' ? { clientInformation: [{ ip: clientIp(req) }] } : {}),
    };
    session.attempts.push(attempt);
    session.status = 'Running';
    session.sessionStartAtMs ??= clock.now();

    try {
      const analysis = await analyzer.analyze(content.bytes);
      const decision = await decisions.decide(session, { attemptId: attempt.attemptId, content: content.bytes, metadata, analysis });
      const faceRectangle: FaceRectangle = analysis.faces[0]?.rect
        ?? session.verifyReferences[0]?.faceRectangle ?? { top: 0, left: 0, width: 0, height: 0 };
      if (decision.error) {
        attempt.attemptStatus = 'Failed';
        attempt.error = { ...decision.error, targets: { color: { faceRectangle } } };
      } else {
        attempt.attemptStatus = 'Succeeded';
        attempt.result = {
          livenessDecision: decision.livenessDecision,
          targets: { color: { faceRectangle } },
          digest: sha256Hex(content.bytes, metadata),
        };
        if (session.kind === 'livenessWithVerify' && session.verifyReferences.length > 0) {
          attempt.result.verifyResult = {
            matchConfidence: decision.matchConfidence,
            isIdentical: decision.matchConfidence >= session.verifyConfidenceThreshold,
          };
        }
        if (session.enableSessionImage) attempt.result.sessionImageId = store.storeSessionImage(session, content.bytes);
        if (session.returnVerifyImageHash && session.verifyImageHash) attempt.result.verifyImageHash = session.verifyImageHash;
      }
      const verdict = abuseVerdict(session, attempt, analysis.faces[0]?.embedding);
      if (verdict) attempt.abuseMonitoringResult = verdict;
    } catch (error) {
      attempt.attemptStatus = 'Failed';
      attempt.error = { code: 'Unspecified', message: 'Internal server error', targets: { color: { faceRectangle: { top: 0, left: 0, width: 0, height: 0 } } } };
      session.status = 'Failed';
      throw error;
    }
    session.status = attempt.attemptStatus;
    // v1.2 answers nothing useful. Through v1.3 the answer carries what the client SDK reports to its app on success
    // (LivenessDetectionSuccess.digest): the attempt's digest, which the app server can compare with Face's. Never the
    // decision: the app server must fetch that.
    if (version === 'v1.2' || !attempt.result) sendEmpty(res, 204);
    else sendJson(res, 200, { attemptId: attempt.attemptId, digest: attempt.result.digest });
  }

  // ---- v1.3-preview.1 settings ---------------------------------------------------------------------------------

  const settingsUpdateSchema = z.object({
    livenessAbuseMonitoring: z.object({ enabled: z.boolean().optional() }).strict().optional(),
  }).strict();

  async function settingsCall(req: IncomingMessage, res: ServerResponse, sub: string | undefined): Promise<void> {
    const method = req.method ?? 'GET';
    if (sub === undefined) {
      if (method === 'GET') { sendJson(res, 200, settings); return; }
      if (method === 'PATCH') {
        if (!/^application\/(merge-patch\+)?json\b/i.test(req.headers['content-type'] ?? '')) { await drain(req); throw errors.invalidMediaType(); }
        const update = parseWith(settingsUpdateSchema, await readJson(req));
        if (update.livenessAbuseMonitoring?.enabled !== undefined) settings.livenessAbuseMonitoring.enabled = update.livenessAbuseMonitoring.enabled;
        sendJson(res, 200, settings);
        return;
      }
      throw errors.methodNotAllowed();
    }
    if (sub.toLowerCase() === 'getclientassetsaccesstoken') {
      if (method !== 'GET') throw errors.methodNotAllowed();
      const accessToken = randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
      sendJson(res, 200, {
        expiry: new Date(clock.now() + 3600_000).toISOString(),
        accessToken,
        base64AccessToken: Buffer.from(accessToken).toString('base64'),
      });
      return;
    }
    throw errors.notFound();
  }

  // ---- call counts: what a client costs at Face (tests and the bench read them) ----------------------------------
  const calls = callCounter();

  // ---- control API ---------------------------------------------------------------------------------------------

  async function control(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (route === '/emulator/health' && method === 'GET') {
      sendJson(res, 200, {
        status: 'ok', engine: analyzer.name, decisionEngine: decisions.name, sessions: store.live().length,
        analysisCache: { hits: analyzer.hits, misses: analyzer.misses },
      });
      return;
    }
    await requireKey(req);
    if (route === '/emulator/scripts') {
      if (method === 'POST') {
        const script = parseWith(scriptSchema, await readJson(req));
        scripts.addScript(script);
        sendJson(res, 201, { script, scripts: scripts.scriptCount });
        return;
      }
      if (method === 'DELETE') { await drain(req); scripts.clearScripts(); sendEmpty(res, 204); return; }
    } else if (route === '/emulator/abuse-templates') {
      if (method === 'DELETE') { await drain(req); abuse.clear(); sendEmpty(res, 204); return; }
    } else if (route === '/emulator/faults') {
      if (method === 'PUT') {
        const settings = parseWith(faultSettingsSchema, await readJson(req));
        try { faults.set(settings); } catch { throw errors.badArgument('paths must be valid regular expressions.'); }
        sendJson(res, 200, faults.current());
        return;
      }
      if (method === 'GET') { sendJson(res, 200, faults.current()); return; }
      if (method === 'DELETE') { await drain(req); faults.reset(); sendEmpty(res, 204); return; }
    } else if (route === '/emulator/calls') {
      if (method === 'GET') { sendJson(res, 200, calls.snapshot()); return; }
      if (method === 'DELETE') { await drain(req); calls.reset(); sendEmpty(res, 204); return; }
    } else if (route === '/emulator/sessions' && method === 'GET') {
      sendJson(res, 200, {
        sessions: store.live().map((s: Session) => ({
          sessionId: s.sessionId,
          deviceCorrelationId: s.deviceCorrelationId ?? null,
          createdDateTime: new Date(s.createdAtMs).toISOString(),
          ...(s.sessionStartAtMs !== undefined ? { sessionStartDateTime: new Date(s.sessionStartAtMs).toISOString() } : {}),
          status: s.status,
          deleted: false,
          attempts: s.attempts.length,
        })),
      });
      return;
    } else if (route === '/emulator/clock') {
      if (method === 'POST') {
        const body = parseWith(clockSchema, await readJson(req));
        if (body.sessionId !== undefined) {
          // Session-scoped: ages only this session, so suites sharing the emulator aren't disturbed.
          if (!store.ageSession(body.sessionId, body.advanceSeconds)) throw errors.sessionNotFound();
        } else {
          clock.advance(body.advanceSeconds);
        }
        sendJson(res, 200, { now: new Date(clock.now()).toISOString() });
        return;
      }
      if (method === 'GET') { sendJson(res, 200, { now: new Date(clock.now()).toISOString() }); return; }
    } else {
      throw errors.notFound();
    }
    throw errors.methodNotAllowed();
  }

  // ---- routing -------------------------------------------------------------------------------------------------

  // ---- Quick Link (liveness.face.azure.com): a single-use hosted capture page per session -------------------------

  /** Quick link id → the session's auth token; each id opens the hosted page once. */
  const quickLinks = new Map<string, string>();
  /** Tokens that already made a quick link (single use). */
  const quickLinkTokens = new Set<string>();

  async function createQuickLink(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await drain(req);
    const token = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const session = token ? store.getByToken(token) : undefined;
    if (!token || !session || quickLinkTokens.has(token)) throw errors.invalidSessionToken();
    quickLinkTokens.add(token);
    const id = randomUUID().replace(/-/g, '');
    quickLinks.set(id, token);
    log(`quick link made for session ${session.sessionId}`);
    sendJson(res, 200, { url: `/?s=${id}` });
  }

  /**
   * The hosted page: captures one frame from the camera (a browser's fake camera in tests), sends it as the session's
   * attempt with the session token (as the Vision SDK would), then sends the browser to callbackUrl.
   */
  function hostedPage(req: IncomingMessage, res: ServerResponse): void {
    const query = new URL(req.url ?? '/', 'http://emulator').searchParams;
    const token = quickLinks.get(query.get('s') ?? '');
    const callbackUrl = query.get('callbackUrl') ?? '';
    if (!token || !/^https?:\/\//.test(callbackUrl)) throw errors.notFound();
    quickLinks.delete(query.get('s')!);
    const data = JSON.stringify({ token, callbackUrl, attemptUrl: '/face/v1.2/detectLivenessWithVerify/singleModal' }).replace(/</g, '\\u003c');
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Face liveness (emulator Quick Link)</title></head>
<body><h1>Face liveness check (emulator)</h1><p id="state" role="status">Starting the camera…</p><video id="v" autoplay muted playsinline width="320"></video>
<script>
const d = ${data};
const state = document.getElementById('state');
(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ video: true });
  const video = document.getElementById('v');
  video.srcObject = stream;
  await new Promise((r) => { if (video.readyState >= 2) r(); else video.onloadeddata = r; });
  await new Promise((r) => setTimeout(r, 300));
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.92));
  stream.getTracks().forEach((t) => t.stop());
  state.textContent = 'Checking…';
  const form = new FormData();
  form.append('Content', blob, 'frame.jpg');
  form.append('Metadata', JSON.stringify({ sdk: 'face-emulator-quicklink', version: 1 }));
  const answer = await fetch(d.attemptUrl, { method: 'POST', headers: { authorization: 'Bearer ' + d.token }, body: form });
  state.textContent = answer.ok ? 'Done.' : 'The capture failed (' + answer.status + ').';
  location.assign(d.callbackUrl);
})().catch((e) => { state.textContent = 'The camera could not be used: ' + e.message; });
</script></body></html>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  }

  async function route(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const lower = pathname.toLowerCase().replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (lower.startsWith('/emulator/')) return control(req, res, lower);
    if (lower === '/api/quicklink' && method === 'POST') return createQuickLink(req, res);
    if (lower === '/' && method === 'GET' && (req.url ?? '').includes('s=')) return hostedPage(req, res);
    const [version, prefix] = API_PREFIXES.find(([, p]) => lower.startsWith(p)) ?? [];
    if (!version || !prefix) throw errors.notFound();

    // Device calls authenticate with the session token, not the key.
    if (lower === `${prefix}detectlivenesswithverify/singlemodal` || lower === `${prefix}detectliveness/singlemodal`) {
      if (method !== 'POST') throw errors.methodNotAllowed();
      return deviceAttempt(req, res, version, lower.endsWith('withverify/singlemodal') ? 'livenessWithVerify' : 'liveness');
    }

    await requireKey(req);
    const rest = pathname.replace(/\/+$/, '').slice(prefix.length).split('/');
    const [resource, id, extra] = [rest[0]?.toLowerCase(), rest[1], rest[2]];
    calls.count(`${method} ${resource ?? ''}${id === undefined ? '' : '/{id}'}`, id === undefined ? undefined : decodeURIComponent(id));
    if (resource === 'settings' && version !== 'v1.2' && extra === undefined) return settingsCall(req, res, id);
    const kind = resource === 'detectlivenesswithverify-sessions' ? 'livenessWithVerify'
      : resource === 'detectliveness-sessions' ? 'liveness' : undefined;
    if (kind && id === undefined) {
      if (method !== 'POST') throw errors.methodNotAllowed();
      return kind === 'livenessWithVerify' ? createSession(req, res, version) : createLivenessSession(req, res, version);
    }
    if (kind && id && extra === undefined) {
      const sessionId = decodeURIComponent(id);
      const found = store.get(sessionId);
      const session = found?.kind === kind ? found : undefined;
      if (method === 'GET') {
        if (!session) throw errors.sessionNotFound();
        sendJson(res, 200, toWire(session, version));
        return;
      }
      if (method === 'DELETE') {
        if (!session || !store.delete(sessionId)) throw errors.sessionNotFound();
        scripts.forgetSession(sessionId);
        sendEmpty(res, 204);
        return;
      }
      throw errors.methodNotAllowed();
    }
    if (resource === 'sessionimages' && id && extra === undefined) {
      if (method !== 'GET') throw errors.methodNotAllowed();
      const bytes = store.getSessionImage(decodeURIComponent(id));
      if (!bytes) throw errors.sessionImageNotFound();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      res.end(bytes);
      return;
    }
    throw errors.notFound();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    res.setHeader('apim-request-id', randomUUID());
    let pathname = '/';
    try { pathname = new URL(req.url ?? '/', 'http://emulator').pathname; } catch { /* keep '/' */ }
    res.on('finish', () => log(`${req.method} ${pathname} ${res.statusCode} ${Date.now() - started}ms`));
    if (deviceCors(req, res, pathname)) return;
    try {
      const fault = faults.decide(pathname);
      if (fault.delayMs > 0) await sleep(fault.delayMs);
      if (fault.kind === 'drop') {
        log(`${req.method} ${pathname} dropped (fault)`);
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'error') {
        await drain(req);
        sendError(res, fault.status === 429 ? errors.rateLimited(fault.retryAfterSeconds)
          : fault.status === 503 ? errors.unavailable(fault.retryAfterSeconds || undefined) : errors.internal());
        return;
      }
      await route(req, res, pathname);
    } catch (error) {
      if (res.headersSent) { res.destroy(); return; }
      await drain(req);
      if (error instanceof FaceError) sendError(res, error);
      else {
        log(`${req.method} ${pathname} internal error: ${error instanceof Error ? error.message : String(error)}`);
        sendError(res, errors.internal());
      }
    }
  }

  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => { void handle(req, res); })
    : http.createServer((req, res) => { void handle(req, res); });
  // Idle keep-alive connections stay open for minutes, as Azure's front ends keep them (the load balancer's default
  // idle timeout is 4 minutes). Node's 5 s default made the server close a connection just as a client reused it now
  // and then: the app's create (never retried: a Face create is not idempotent) then failed with a reset, a 503 in
  // the bench. close() ends every connection (below).
  server.keepAliveTimeout = 240_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`Face emulator listening on ${url} (engine ${analyzer.name}, decisions ${decisions.name})`);

  return {
    url,
    port,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}

/** The device's address as the service sees it (`clientInformation[].ip`): the socket's peer, IPv4-mapped unwrapped. */
function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '0.0.0.0';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Counts keyed Face calls per operation ("GET detectlivenesswithverify-sessions/{id}"), in total and per session id
 * (sessionImages are counted under the image id). Kept for deleted sessions too, since a client's cost includes the
 * calls after a delete; the per-id map is bounded, oldest first out.
 */
function callCounter(maxIds = 20_000) {
  let total: Record<string, number> = {};
  let byId = new Map<string, Record<string, number>>();
  return {
    count(operation: string, id?: string): void {
      total[operation] = (total[operation] ?? 0) + 1;
      if (id === undefined) return;
      let counts = byId.get(id);
      if (!counts) {
        if (byId.size >= maxIds) byId.delete(byId.keys().next().value!);
        counts = {};
        byId.set(id, counts);
      }
      counts[operation] = (counts[operation] ?? 0) + 1;
    },
    snapshot() {
      return { total, byId: Object.fromEntries(byId) };
    },
    reset(): void {
      total = {};
      byId = new Map();
    },
  };
}
