// A fake Face liveness-with-verify API (v1.2 shapes, as src/core/ports.ts describes them). A test adds attempts to a
// session as a device would (Succeeded with a decision, confidence and verify-image hash; Failed with an error),
// scripts failures (FaceUnavailableError, FaceSessionNotFoundError, FaceRejectedError), bends answers into odd
// shapes, loses the answer of a create that Face did make, and counts calls per operation.
import { createHash } from 'node:crypto';
import { FaceSessionNotFoundError, FaceUnavailableError } from '../../src/core/errors.js';
import type {
  CallOptions, CreatedFaceSession, CreateFaceSessionRequest, FaceAttempt, FaceSessions, FaceSessionState,
} from '../../src/core/ports.js';
import type { AbuseMonitoringResult, VerifyImageInfo } from '../../src/core/session.js';
import { OperationHooks } from './hooks.js';

export type FaceOperation = 'create' | 'get' | 'delete' | 'getSessionImage' | 'probe';

export interface FakeFaceSession {
  request: CreateFaceSessionRequest;
  sessionId: string;
  authToken: string;
  status: string;
  modelVersion: string;
  /** SHA-256 (upper-case hex) of the verify image Face received: what a Succeeded attempt reports by default. */
  verifyImageHash: string;
  verifyReference: VerifyImageInfo;
  attempts: FaceAttempt[];
  deleted: boolean;
}

export interface SucceededAttempt {
  livenessDecision?: string;
  matchConfidence?: number;
  isIdentical?: boolean;
  /** Default: the hash of the verify image this session was created with; null leaves the field out. */
  verifyImageHash?: string | null;
  /** Bytes of the captured image; when given, the attempt carries a sessionImageId for them. */
  sessionImage?: Uint8Array;
  attemptStatus?: string;
  /** Face v1.3: the abuse-monitoring verdict on the attempt. */
  abuse?: AbuseMonitoringResult;
  /** Face v1.3: the client address Face saw. */
  clientIp?: string;
}

export const FAKE_MODEL_VERSION = '2025-05-20';
export const FAKE_VERIFY_REFERENCE: VerifyImageInfo = {
  faceRectangle: { top: 40, left: 52, width: 128, height: 160 },
  qualityForRecognition: 'high',
};
const RECTANGLE = { top: 30, left: 40, width: 200, height: 240 };

const clone = <T>(value: T): T => structuredClone(value);
export const sha256Upper = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').toUpperCase();

export class FakeFace implements FaceSessions {
  /** Face v1.3 (abuse monitoring across per-user correlation ids); a test turns it on. */
  correlatesUsers = false;
  readonly hooks = new OperationHooks<FaceOperation>();
  readonly sessions = new Map<string, FakeFaceSession>();
  readonly sessionImages = new Map<string, Uint8Array>();
  /** Every create request as Face received it (including ones whose answer was lost). */
  readonly createRequests: CreateFaceSessionRequest[] = [];
  private counter = 0;
  private lostCreateAnswers = 0;
  private readonly oddGets: Array<(state: FaceSessionState) => FaceSessionState> = [];
  private oddCreate: ((created: CreatedFaceSession) => CreatedFaceSession) | undefined;

  // ------------------------------------------------------------------------------------------------ scripting

  /** Face makes the next session but the answer never arrives: the caller sees FaceUnavailableError. */
  loseNextCreateAnswer(times = 1): void {
    this.lostCreateAnswers += times;
  }

  /** The next get answers with whatever `transform` makes of the true state (odd or malformed answers). */
  answerNextGetWith(transform: (state: FaceSessionState) => FaceSessionState): void {
    this.oddGets.push(transform);
  }

  answerNextCreateWith(transform: (created: CreatedFaceSession) => CreatedFaceSession): void {
    this.oddCreate = transform;
  }

  /** The device's attempt reached Face and finished with a result. @returns the attempt id */
  addSucceededAttempt(faceSessionId: string, options: SucceededAttempt = {}): number {
    const session = this.session(faceSessionId);
    const attemptId = session.attempts.length + 1;
    const matchConfidence = options.matchConfidence ?? 0.93;
    let sessionImageId: string | undefined;
    if (options.sessionImage) {
      sessionImageId = `image-${faceSessionId}-${attemptId}`;
      this.sessionImages.set(sessionImageId, options.sessionImage);
    }
    const verifyImageHash = options.verifyImageHash === null ? undefined : options.verifyImageHash ?? session.verifyImageHash;
    session.attempts.push({
      attemptId,
      attemptStatus: options.attemptStatus ?? 'Succeeded',
      result: {
        livenessDecision: options.livenessDecision ?? 'realface',
        targets: { color: { faceRectangle: RECTANGLE } },
        digest: sha256Upper(Buffer.from(`${faceSessionId}/${attemptId}`)),
        ...(sessionImageId ? { sessionImageId } : {}),
        verifyResult: { matchConfidence, isIdentical: options.isIdentical ?? matchConfidence >= 0.5 },
        ...(verifyImageHash ? { verifyImageHash } : {}),
      },
      ...(options.clientIp ? { clientInformation: [{ ip: options.clientIp }] } : {}),
      ...(options.abuse ? { abuseMonitoringResult: clone(options.abuse) } : {}),
    });
    session.status = 'Succeeded';
    return attemptId;
  }

  /** The device's attempt reached Face and failed (e.g. FaceWithMaskDetected). @returns the attempt id */
  addFailedAttempt(faceSessionId: string, error: { code: string; message?: string } = { code: 'FaceWithMaskDetected' }): number {
    const session = this.session(faceSessionId);
    const attemptId = session.attempts.length + 1;
    session.attempts.push({
      attemptId,
      attemptStatus: 'Failed',
      error: { code: error.code, message: error.message ?? `${error.code}.`, targets: { color: { faceRectangle: RECTANGLE } } },
    });
    session.status = 'Failed';
    return attemptId;
  }

  /** An attempt exactly as given (still running, odd states, ...). */
  addAttempt(faceSessionId: string, attempt: FaceAttempt): void {
    this.session(faceSessionId).attempts.push(clone(attempt));
  }

  /** Face sessions not deleted. */
  live(): string[] {
    return [...this.sessions.values()].filter((s) => !s.deleted).map((s) => s.sessionId);
  }

  session(faceSessionId: string): FakeFaceSession {
    const session = this.sessions.get(faceSessionId);
    if (!session) throw new Error(`the fake Face has no session ${faceSessionId}`);
    return session;
  }

  // ------------------------------------------------------------------------------------------------ the port

  async create(request: CreateFaceSessionRequest): Promise<CreatedFaceSession> {
    await this.hooks.enter('create');
    this.createRequests.push(request);
    const n = ++this.counter;
    const sessionId = `face-${String(n).padStart(4, '0')}`;
    const session: FakeFaceSession = {
      request,
      sessionId,
      authToken: `face-token-${n}`,
      status: 'NotStarted',
      modelVersion: FAKE_MODEL_VERSION,
      verifyImageHash: sha256Upper(request.verifyImage.bytes),
      verifyReference: clone(FAKE_VERIFY_REFERENCE),
      attempts: [],
      deleted: false,
    };
    this.sessions.set(sessionId, session);
    if (this.lostCreateAnswers > 0) {
      this.lostCreateAnswers--;
      throw new FaceUnavailableError('The connection to Face was reset.', 1);
    }
    const created: CreatedFaceSession = {
      sessionId, authToken: session.authToken, modelVersion: session.modelVersion, verifyImage: clone(session.verifyReference),
    };
    const odd = this.oddCreate;
    this.oddCreate = undefined;
    return odd ? odd(created) : created;
  }

  async get(sessionId: string): Promise<FaceSessionState> {
    await this.hooks.enter('get');
    const session = this.sessions.get(sessionId);
    if (!session || session.deleted) throw new FaceSessionNotFoundError();
    const state: FaceSessionState = {
      sessionId,
      authToken: session.authToken,
      status: session.status,
      modelVersion: session.modelVersion,
      // v1.2 lists attempts newest first; the core must order them by attempt id, never by position.
      attempts: clone(session.attempts).reverse(),
      verifyReferences: [clone(session.verifyReference)],
    };
    const odd = this.oddGets.shift();
    return odd ? odd(state) : state;
  }

  async delete(sessionId: string): Promise<void> {
    await this.hooks.enter('delete');
    const session = this.sessions.get(sessionId);
    if (session) session.deleted = true; // a session Face does not know counts as deleted
  }

  async getSessionImage(sessionImageId: string): Promise<Uint8Array> {
    await this.hooks.enter('getSessionImage');
    const bytes = this.sessionImages.get(sessionImageId);
    if (!bytes) throw new FaceSessionNotFoundError('The session image does not exist.');
    return new Uint8Array(bytes);
  }

  async probe(_options?: CallOptions): Promise<void> {
    await this.hooks.enter('probe');
  }
}
