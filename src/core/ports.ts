// Ports: the interfaces the core owns. Adapters in src/adapters implement them against Azure (or Azurite and the
// Face emulator); tests may pass fakes. Nothing here imports an Azure package.
import type {
  FaceRectangle, LivenessOperationMode, LivenessSession, AuditEntry, SessionListItem, SessionStatus, VerifyImageInfo,
} from './session.js';

export interface CallOptions { abortSignal?: AbortSignal }

export interface CreateFaceSessionRequest {
  livenessOperationMode: LivenessOperationMode;
  deviceCorrelationId?: string;
  authTokenTimeToLiveInSeconds: number;
  enableSessionImage: boolean;
  verifyImage: { bytes: Uint8Array; contentType: string; fileName: string };
}

export interface CreatedFaceSession {
  sessionId: string;
  authToken: string;
  modelVersion?: string;
  verifyImage: VerifyImageInfo;
}

export interface FaceAttempt {
  attemptId: number;
  attemptStatus: string;
  result?: {
    livenessDecision?: string;
    targets?: { color?: { faceRectangle: FaceRectangle } };
    digest?: string;
    sessionImageId?: string;
    verifyResult?: { matchConfidence: number; isIdentical: boolean };
    verifyImageHash?: string;
  };
  error?: { code: string; message: string; targets?: { color?: { faceRectangle: FaceRectangle } } };
}

export interface FaceSessionState {
  sessionId: string;
  /** v1.2 returns the session's token on GET too (used to replay an idempotent create). */
  authToken?: string;
  status: string;
  modelVersion?: string;
  attempts: FaceAttempt[];
  verifyReferences: VerifyImageInfo[];
}

/** The Face liveness-with-verify session API (v1.2). */
export interface FaceSessions {
  /** @throws FaceRejectedError, FaceUnavailableError */
  create(request: CreateFaceSessionRequest, options?: CallOptions): Promise<CreatedFaceSession>;
  /** @throws FaceSessionNotFoundError, FaceUnavailableError */
  get(sessionId: string, options?: CallOptions): Promise<FaceSessionState>;
  /** Idempotent: a session Face does not know counts as deleted. @throws FaceUnavailableError */
  delete(sessionId: string, options?: CallOptions): Promise<void>;
  /** @throws FaceSessionNotFoundError when the image is gone, FaceUnavailableError */
  getSessionImage(sessionImageId: string, options?: CallOptions): Promise<Uint8Array>;
  /** Cheap reachability and credential check for the health endpoint. */
  probe(options?: CallOptions): Promise<void>;
}

export interface ListSessionsQuery {
  top: number;
  continuationToken?: string;
  status?: SessionStatus;
  deviceCorrelationId?: string;
}

export interface Page<T> { items: T[]; continuationToken?: string }

export interface DueSession { sessionId: string; dueDateTime: string }

/** Session records (which list newest first by their keys), their audit entries and the sweep index. */
export interface SessionRepository {
  /**
   * Writes a new session row and its sweep index row (the sweep can always reach a row, even one whose create never
   * finished). @throws ConflictError if the id exists
   */
  create(session: LivenessSession): Promise<LivenessSession>;
  /** @returns undefined when there is no such session */
  get(sessionId: string): Promise<LivenessSession | undefined>;
  /** Conditional on `session.etag`. @throws ConflictError on an ETag mismatch, NotFoundError when gone */
  update(session: LivenessSession): Promise<LivenessSession>;
  /** Removes the session, its audit entries and index rows. Idempotent. */
  delete(session: LivenessSession): Promise<void>;
  list(query: ListSessionsQuery): Promise<Page<SessionListItem>>;
  /** Idempotent per attempt id: redelivered attempts overwrite themselves. */
  upsertAuditEntries(entries: AuditEntry[]): Promise<void>;
  listAuditEntries(sessionId: string): Promise<AuditEntry[]>;
  deleteAuditEntries(sessionId: string): Promise<void>;
  /** Sessions whose next sweep time is at or before `now`, oldest first, by key range on the sweep index. */
  listDue(now: Date, pageSize: number, continuationToken?: string): Promise<Page<DueSession>>;
  /** Moves a session's row in the sweep index from `previousDue` to `nextDue` (either may be undefined). Idempotent. */
  reschedule(sessionId: string, previousDue: string | undefined, nextDue: string | undefined): Promise<void>;
}

export interface ImageStore {
  put(blobName: string, bytes: Uint8Array, contentType: string, metadata?: Record<string, string>): Promise<void>;
  get(blobName: string): Promise<Uint8Array | undefined>;
  /** Idempotent. */
  delete(blobName: string): Promise<void>;
  exists(blobName: string): Promise<boolean>;
}

export interface CompletionMessage { sessionId: string; try: number }

export interface CompletionQueue {
  /** @param delaySeconds how long the message stays invisible (collection backoff) */
  enqueue(message: CompletionMessage, delaySeconds?: number): Promise<void>;
}

export interface Clock { now(): Date }

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const systemClock: Clock = { now: () => new Date() };

/** Who is asking: a device's token subject. Only the edge verifies tokens; the core sees the subject. */
export interface DeviceCaller { subject: string }

export interface LimitKey { kind: 'subject' | 'device'; id: string }

/** Failure counting and lockouts per subject and per device (kept in Table storage). */
export interface AttemptLimiter {
  /** @returns seconds until the lockout ends, or 0 when the key may start a check */
  lockedFor(key: LimitKey, now: Date): Promise<number>;
  /** Counts a failed check; locks the key when the window fills. */
  recordFailure(key: LimitKey, now: Date): Promise<void>;
}

export interface IdempotencyRecord {
  requestHash: string;
  state: 'in-progress' | 'done';
  sessionId?: string;
  createdDateTime: string;
  etag?: string;
}

/** Remembers create requests by (subject, Idempotency-Key) so a retried request gets the same session. */
export interface IdempotencyStore {
  /** Claims the key. @returns the existing record instead when the key was already claimed (and not expired) */
  claim(scope: string, key: string, record: IdempotencyRecord, now: Date): Promise<IdempotencyRecord | undefined>;
  complete(scope: string, key: string, sessionId: string): Promise<void>;
  release(scope: string, key: string): Promise<void>;
}

export type SweepDeletionKind = 'faceSession' | 'images' | 'records' | 'abandonedCreate';

/** What the core reports as it works (OpenTelemetry in the app; a no-op where nobody listens). */
export interface LivenessMetrics {
  sessionCreated(attributes?: { livenessOperationMode?: string }): void;
  decisionRecorded(outcome: string): void;
  /** From the device's completion request to the collected result. */
  timeToResult(milliseconds: number, outcome?: string): void;
  sweepDeletions(kind: SweepDeletionKind, count: number): void;
}
