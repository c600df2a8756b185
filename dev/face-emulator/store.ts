// In-memory session store plus the emulator's clock. Everything the emulator knows lives here, so a restart is a
// clean slate (like a fresh Face resource). The clock can be advanced by tests so that token TTLs and the 48 h
// session lifetime can be exercised without waiting.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export type QualityForRecognition = 'low' | 'medium' | 'high';
export type LivenessDecision = 'uncertain' | 'realface' | 'spoofface';
export type OperationState = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';

export interface FaceRectangle { top: number; left: number; width: number; height: number }

export interface VerifyReference {
  referenceType: 'image';
  faceRectangle: FaceRectangle;
  qualityForRecognition: QualityForRecognition;
}

export interface AttemptResult {
  livenessDecision: LivenessDecision;
  targets: { color: { faceRectangle: FaceRectangle } };
  digest: string;
  sessionImageId?: string;
  verifyResult?: { matchConfidence: number; isIdentical: boolean };
  verifyImageHash?: string;
}

export interface AttemptError {
  code: string;
  message: string;
  targets: { color: { faceRectangle: FaceRectangle } };
}

/** v1.3-preview.1: the abuse-monitoring verdict on an attempt, and the sessions it flagged. */
export interface AbuseMonitoringResult {
  isAbuseDetected: boolean;
  otherFlaggedSessions: Array<{ attemptId: number; sessionId: string; sessionImageId?: string }>;
}

export interface Attempt {
  attemptId: number;
  attemptStatus: OperationState;
  result?: AttemptResult;
  error?: AttemptError;
  /** v1.3-preview.1: the client address the service saw for the attempt. */
  clientInformation?: Array<{ ip: string }>;
  /** v1.3-preview.1, set on finished attempts while abuse monitoring is on. */
  abuseMonitoringResult?: AbuseMonitoringResult;
}

/** The API versions the emulator speaks; a session answers in the shape of the version it is read with. */
export const API_VERSIONS = ['v1.2', 'v1.3-preview.1'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];
/** Plain liveness (JSON create, no verify image) or liveness with verify (multipart create). */
export type SessionKind = 'liveness' | 'livenessWithVerify';

export interface Session {
  kind: SessionKind;
  /** The version the session was created with (v1.3 answers carry its fields only for v1.3 sessions). */
  apiVersion: ApiVersion;
  sessionId: string;
  authToken: string;
  livenessOperationMode: 'Passive' | 'PassiveActive';
  modelVersion: string;
  deviceCorrelationId?: string;
  deviceCorrelationIdSetInClient: boolean;
  authTokenTimeToLiveInSeconds: number;
  enableSessionImage: boolean;
  returnVerifyImageHash: boolean;
  verifyConfidenceThreshold: number;
  /** Emulator-clock milliseconds; tests may move it back (session-scoped clock advance). */
  createdAtMs: number;
  /** When the device first called (the v1.1 model's `sessionStartDateTime`); kept internally. */
  sessionStartAtMs?: number;
  status: OperationState;
  verifyReferences: VerifyReference[];
  /** Upper-case hex SHA-256 of the verify image bytes (kept even when not returned, it is cheap). */
  verifyImageHash?: string;
  /** FaceRes embedding of the verify image's face, computed once at create (vision decisions only). */
  verifyEmbedding?: number[];
  /** Client attempts one token allows: 3 in v1.2, `numberOfClientAttemptsAllowed` (default 1) in v1.3. */
  maxAttempts: number;
  /** v1.3 plain liveness only. */
  userCorrelationId?: string;
  userCorrelationIdSetInClient?: boolean;
  expectedClientIpAddress?: string;
  /** Whether abuse monitoring was on when the session ran (v1.3 `isAbuseMonitoringEnabled`). */
  isAbuseMonitoringEnabled: boolean;
  /** Oldest first internally; the wire format lists newest first. */
  attempts: Attempt[];
  sessionImageIds: string[];
  deleted: boolean;
}

export const SESSION_LIFETIME_MS = 48 * 3600 * 1000;
/** v1.2's attempts per token (v1.3 sets them per session with numberOfClientAttemptsAllowed, 1 to 3). */
export const MAX_ATTEMPTS = 3;

export function sha256Hex(...parts: Array<Uint8Array | string>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex').toUpperCase();
}

/** Emulator notion of "now": wall clock plus a test-controlled offset. */
export class EmulatorClock {
  private offsetMs = 0;
  now(): number { return Date.now() + this.offsetMs; }
  advance(seconds: number): void { this.offsetMs += seconds * 1000; }
  reset(): void { this.offsetMs = 0; }
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/**
 * Opaque, JWT-looking token (`eyJ…`, ES256 header like the real one) so apps that sniff the format behave the same.
 * The emulator never verifies a signature: it only looks the token up in its own map.
 */
function newAuthToken(sessionId: string, issuedAtMs: number, ttlSeconds: number): string {
  const header = base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'face-emulator' }));
  const payload = base64url(JSON.stringify({
    sid: sessionId, iat: Math.floor(issuedAtMs / 1000), exp: Math.floor(issuedAtMs / 1000) + ttlSeconds, jti: randomUUID(),
  }));
  return `${header}.${payload}.${base64url(randomBytes(64))}`;
}

export type NewSession = Omit<Session, 'sessionId' | 'authToken' | 'createdAtMs' | 'status' | 'attempts' | 'sessionImageIds' | 'deleted'>;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly byToken = new Map<string, string>();
  private readonly images = new Map<string, { sessionId: string; bytes: Uint8Array }>();

  constructor(readonly clock: EmulatorClock) {}

  create(input: NewSession): Session {
    const sessionId = randomUUID();
    const createdAtMs = this.clock.now();
    const session: Session = {
      ...input,
      sessionId,
      authToken: newAuthToken(sessionId, createdAtMs, input.authTokenTimeToLiveInSeconds),
      createdAtMs,
      status: 'NotStarted',
      attempts: [],
      sessionImageIds: [],
      deleted: false,
    };
    this.sessions.set(sessionId, session);
    this.byToken.set(session.authToken, sessionId);
    return session;
  }

  private isExpired(session: Session): boolean {
    return this.clock.now() - session.createdAtMs >= SESSION_LIFETIME_MS;
  }

  /** A session the management API may see: exists, not deleted, younger than 48 h. */
  get(sessionId: string): Session | undefined {
    const session = this.sessions.get(sessionId);
    if (!session || session.deleted) return undefined;
    if (this.isExpired(session)) { this.remove(session); return undefined; }
    return session;
  }

  /** Resolves a device bearer token; undefined when unknown, revoked, past its TTL or the session expired. */
  getByToken(token: string): Session | undefined {
    const sessionId = this.byToken.get(token);
    const session = sessionId ? this.get(sessionId) : undefined;
    if (!session) return undefined;
    if (this.clock.now() - session.createdAtMs >= session.authTokenTimeToLiveInSeconds * 1000) return undefined;
    return session;
  }

  delete(sessionId: string): boolean {
    const session = this.get(sessionId);
    if (!session) return false;
    this.remove(session);
    return true;
  }

  /** Deleting revokes the token and drops stored session images (the real service deletes them with the session). */
  private remove(session: Session): void {
    session.deleted = true;
    this.byToken.delete(session.authToken);
    for (const id of session.sessionImageIds) this.images.delete(id);
    // Keep nothing else around: benchmarks create and delete many thousands of sessions.
    this.sessions.delete(session.sessionId);
  }

  storeSessionImage(session: Session, bytes: Uint8Array): string {
    // Shape like the documented example ("Ae3PVWlXAmVAnXgkAFt1QSjGUWONKzWiSr2iPh9p9G4I"): 44 url-safe chars.
    const id = randomBytes(33).toString('base64url');
    this.images.set(id, { sessionId: session.sessionId, bytes });
    session.sessionImageIds.push(id);
    return id;
  }

  getSessionImage(id: string): Uint8Array | undefined {
    const entry = this.images.get(id);
    if (!entry || !this.get(entry.sessionId)) return undefined;
    return entry.bytes;
  }

  /** Ages one session (test hook): same effect as advancing the clock, but invisible to every other session. */
  ageSession(sessionId: string, seconds: number): boolean {
    const session = this.get(sessionId);
    if (!session) return false;
    session.createdAtMs -= seconds * 1000;
    if (session.sessionStartAtMs !== undefined) session.sessionStartAtMs -= seconds * 1000;
    return true;
  }

  /** Live (non-deleted, non-expired) sessions; also purges expired ones so memory stays bounded. */
  live(): Session[] {
    const out: Session[] = [];
    for (const session of [...this.sessions.values()]) {
      if (this.isExpired(session)) this.remove(session);
      else out.push(session);
    }
    return out;
  }
}

/**
 * Wire shape of `LivenessWithVerifySession` / `LivenessSession`: attempts newest first. The v1.3-preview.1 fields
 * (`isAbuseMonitoringEnabled`, `expectedClientIpAddress`, and per attempt `clientInformation` and
 * `abuseMonitoringResult`) appear only when the session is read through v1.3-preview.1.
 */
export function toWire(session: Session, version: ApiVersion = session.apiVersion): unknown {
  const v13 = version === 'v1.3-preview.1';
  const attempts = [...session.attempts].reverse().map((a) => {
    if (v13) return a;
    const { clientInformation: _c, abuseMonitoringResult: _a, ...v12 } = a;
    return v12;
  });
  return {
    sessionId: session.sessionId,
    authToken: session.authToken,
    status: session.status,
    modelVersion: session.modelVersion,
    ...(v13 ? { isAbuseMonitoringEnabled: session.isAbuseMonitoringEnabled } : {}),
    ...(v13 && session.expectedClientIpAddress !== undefined ? { expectedClientIpAddress: session.expectedClientIpAddress } : {}),
    results: session.kind === 'livenessWithVerify'
      ? { attempts, verifyReferences: session.verifyReferences }
      : { attempts },
  };
}
