// Ports: the interfaces the core owns. Adapters in src/adapters implement them against Azure (or Azurite and the
// Face emulator); tests may pass fakes. Nothing here imports an Azure package.
import type {
  AbuseMonitoringResult, AuditEntry, FaceRectangle, LivenessOperationMode, LivenessSession, SessionListItem, SessionStatus, VerifyImageInfo,
} from './session.js';
import type { ChainHead, EvidenceEntry, SignedCheckpoint, StoredEvidence } from './evidence-record.js';
import type { CompletionMessage, DeliveryMessage } from '../contract/types.js';
import type { Verification } from './verification.js';
import type { ConsentRecord, DeletionReceipt, SubjectChange, SubjectRecord, SubjectRowsExport } from './subject.js';

export interface CallOptions { abortSignal?: AbortSignal }

export interface CreateFaceSessionRequest {
  livenessOperationMode: LivenessOperationMode;
  deviceCorrelationId?: string;
  authTokenTimeToLiveInSeconds: number;
  enableSessionImage: boolean;
  verifyImage: { bytes: Uint8Array; contentType: string; fileName: string };
  /**
   * The subject's temporary correlation GUID for Face's abuse monitoring (v1.3): sent wherever the session kind
   * accepts a per-user id (the adapter says where). Never the subject id or its key.
   */
  userCorrelationId?: string;
  /** How many client attempts the session token allows (server policy, 1 to 3; sent where the version has it: v1.3). */
  numberOfClientAttemptsAllowed?: number;
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
  /** v1.3: the client address Face saw during the attempt. */
  clientInformation?: Array<{ ip: string }>;
  /** v1.3: Face's abuse-monitoring verdict, naming other flagged sessions (Face session ids). */
  abuseMonitoringResult?: AbuseMonitoringResult;
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
  /**
   * Whether this Face API monitors abuse across per-user correlation ids (v1.3-preview.1): the core then gives each
   * subject one and sends it with every create.
   */
  readonly correlatesUsers?: boolean;
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

/**
 * A pure change to a session: the next version of the record, or undefined when nothing needs writing. It may run
 * more than once (a concurrent writer won, so the record is read again and the change re-applied), so it must not
 * have side effects. It may throw a domain error to refuse the change; that error reaches the caller unretried.
 */
export type SessionChange = (current: LivenessSession) => LivenessSession | undefined;

/**
 * Session records, which list newest first by their keys. This is the one write path for a session: every write is
 * conditional on the record's ETag, and the repository keeps its sweep index in step with `nextSweepDateTime`
 * (the core sets the field; it never touches the index).
 */
export interface SessionRepository {
  /**
   * Writes a new session row and its sweep index row (the index row first, so the sweep can always reach a row, even
   * one whose create never finished). @throws ConflictError if the id exists
   */
  create(session: LivenessSession): Promise<LivenessSession>;
  /** @returns undefined when there is no such session */
  get(sessionId: string): Promise<LivenessSession | undefined>;
  /**
   * Reads the session (or starts from `snapshot`, which carries its ETag), applies `change` and writes the result
   * conditionally; on an ETag conflict it reads again and re-applies, a bounded number of times.
   * @returns the session as written (or as found, when the change wrote nothing); undefined when there is no session
   * @throws ConflictError when concurrent writers keep winning past the bound
   */
  mutate(target: string | LivenessSession, change: SessionChange): Promise<LivenessSession | undefined>;
  /**
   * The session that holds Face session `faceSessionId` (an index row written with the row's Face id), or undefined
   * when no session of ours does (Face names other flagged sessions by its own ids). Only Face v1.3's abuse
   * monitoring names other sessions; an adapter may keep no such index under v1.2 and always answer undefined.
   */
  findByFaceSessionId(faceSessionId: string): Promise<LivenessSession | undefined>;
  /** Removes the session row and its sweep index row. Idempotent. Audit entries belong to the AuditLog. */
  delete(session: LivenessSession): Promise<void>;
  list(query: ListSessionsQuery): Promise<Page<SessionListItem>>;
  /**
   * Sessions whose next sweep time is at or before `now`, oldest first (a key-range read of the sweep index). Index
   * rows that no longer match a session are dropped here, so the core sees sessions, never index rows.
   */
  listDue(now: Date, pageSize: number, continuationToken?: string): Promise<Page<LivenessSession>>;
  /**
   * Every session of a subject (a read of the subject-sessions index: one partition per subject key, written before
   * the session row by create). Index rows whose session is gone are dropped here.
   */
  listBySubject(subjectKey: string): Promise<LivenessSession[]>;
  /**
   * Sessions awaiting review (see `awaitingReview`), oldest first: a read of the review-queue index, which the
   * repository keeps in step on every write. Index rows that no longer match are dropped here.
   */
  listAwaitingReview(pageSize: number, continuationToken?: string): Promise<Page<LivenessSession>>;
}

/** Every attempt read from Face, per session, oldest first. */
export interface AuditLog {
  /** Idempotent per attempt id: redelivered attempts overwrite themselves. */
  upsert(entries: AuditEntry[]): Promise<void>;
  list(sessionId: string): Promise<AuditEntry[]>;
  /** Idempotent. */
  deleteAll(sessionId: string): Promise<void>;
}

export interface ImageStore {
  put(blobName: string, bytes: Uint8Array, contentType: string, metadata?: Record<string, string>): Promise<void>;
  get(blobName: string): Promise<Uint8Array | undefined>;
  /** Idempotent. */
  delete(blobName: string): Promise<void>;
  exists(blobName: string): Promise<boolean>;
}

/** A completion message: its type is inferred from its schema (src/contract/queues.ts), which the trigger parses with. */
export type { CompletionMessage };

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

/**
 * Who is asking on the device routes. Only the edge verifies tokens; the core sees the result: a device token's
 * subject, or the holder of a verification link's access token (the verification's person, by subject key only: the
 * raw id the relying party gave is never kept).
 */
export type DeviceCaller = TokenCaller | LinkCaller;
export interface TokenCaller { subject: string; verificationId?: undefined }
export interface LinkCaller { subject?: undefined; subjectKey: string; verificationId: string }

/**
 * A lockout counter: per subject, or per device of that subject. `subjectKey` is the subject's keyed hash (the
 * storage partition of everything the subject owns); `id` names the counter within the subject.
 */
export interface LimitKey { kind: 'subject' | 'device'; id: string; subjectKey: string }

/**
 * A pure decision over one stored record (a core rule, see attempt-limits.ts, quota.ts, idempotency.ts): the record
 * to write (absent: write nothing) and the answer for the caller. It may run more than once (a concurrent writer won
 * the round, so the record is read again and the decision made again), so it must have no side effects.
 */
export interface RecordUpdate<T, R> { next?: T; result: R }

/**
 * A record as read, with the store's version of it (an ETag; opaque to the core). Handed back to `update`, it lets the
 * first round write conditionally on what was already read instead of reading again: one round trip fewer when the
 * read could go alongside others. A stale snapshot only costs a round (the write fails, the record is read again).
 */
export interface RecordSnapshot<T> { record: T | undefined; version?: string }

/**
 * One kind of small per-subject record (lockout counters, the session quota, remembered Idempotency-Keys): the port
 * through which the core's rules read and change them. The adapter owns the row format and only stores: every write
 * is conditional (the ETag it read, or an insert that fails when the record exists), and `update` is the one write
 * path. Records live under their key's `subjectKey`, so a subject's records are exported and erased by key.
 */
export interface SubjectRecords<K extends { subjectKey: string }, T> {
  /** @returns undefined when there is no such record */
  get(key: K): Promise<T | undefined>;
  /** The record with its version, for an `update` that follows. */
  snapshot(key: K): Promise<RecordSnapshot<T>>;
  /**
   * Reads the record (or, on the first round, takes `from`), hands it to `decide`, and writes `next` conditionally;
   * when a concurrent writer got there first, reads again and decides again, a bounded number of times.
   * @returns the result of the round that was written (or that wrote nothing)
   * @throws ConflictError when concurrent writers keep winning past the bound
   */
  update<R>(key: K, decide: (current: T | undefined) => RecordUpdate<T, R>, from?: RecordSnapshot<T>): Promise<R>;
  /** Idempotent. */
  delete(key: K): Promise<void>;
  /** Every record of this kind under the subject key. */
  listSubject(subjectKey: string): Promise<T[]>;
  /** Deletes every record of this kind under the subject key. @returns how many there were */
  eraseSubject(subjectKey: string): Promise<number>;
}

/** A lockout counter's record: recent failure times (epoch ms) and the lockout deadline, if any. */
export interface LimitRecord {
  kind: LimitKey['kind'];
  failures: number[];
  lockedUntil?: string;
  /** The sessions whose failures are counted in `failures` (the latest few): a session counts once, however often collected. */
  counted?: string[];
}
export type LimitRecords = SubjectRecords<LimitKey, LimitRecord>;

/** A subject's quota record: its open sessions (until their token expiry, epoch ms) and its recent creates. */
export interface QuotaRecord { open: Array<{ id: string; expires: number }>; creates: number[] }
export interface QuotaKey { subjectKey: string }
export type QuotaRecords = SubjectRecords<QuotaKey, QuotaRecord>;

/** A remembered Idempotency-Key: the subject that used it and the key itself (the adapter decides how it is stored). */
export interface IdempotencyKeyRef { subjectKey: string; key: string }
export type IdempotencyRecords = SubjectRecords<IdempotencyKeyRef, IdempotencyRecord>;

/** Failure counting and lockouts per subject and per device (the core's rules over LimitRecords: attempt-limits.ts). */
export interface AttemptLimiter {
  /** @returns seconds until the lockout ends, or 0 when the key may start a check */
  lockedFor(key: LimitKey, now: Date): Promise<number>;
  /** Counts `count` failed attempts; locks the key when the window fills. */
  /** Counts `count` failures (default 1); with a session id, only if that session's failures are not counted yet. */
  recordFailure(key: LimitKey, now: Date, count?: number, sessionId?: string): Promise<void>;
}

/** Why a subject may not start another session now, and when it may. */
export interface QuotaRefusal { reason: 'OpenSessions' | 'CreateRate'; retryAfterSeconds: number }

/** Per-subject quotas: how many sessions may be open at once, and how many may be created per window (quota.ts). */
export interface SubjectQuota {
  /** Reads the subject's quota, for a reservation that follows (the read can then go alongside the create's others). */
  peek?(subjectKey: string): Promise<RecordSnapshot<QuotaRecord>>;
  /**
   * Takes a slot for a new session (open until `expiresAt` or release), starting from `peeked` when given.
   * @returns a refusal, or undefined when granted
   */
  reserve(subjectKey: string, sessionId: string, expiresAt: Date, now: Date, peeked?: RecordSnapshot<QuotaRecord>): Promise<QuotaRefusal | undefined>;
  /** Frees the session's slot (it ended). Idempotent. */
  release(subjectKey: string, sessionId: string): Promise<void>;
  /** Whether a reserve now would be refused (writes nothing): a verification's create checks before its link is made. */
  check?(subjectKey: string, now: Date): Promise<QuotaRefusal | undefined>;
}

export interface IdempotencyRecord {
  requestHash: string;
  state: 'in-progress' | 'done';
  sessionId?: string;
  createdDateTime: string;
  /** Unique per claim: tells a claim's own write (retried after a lost answer) from someone else's. */
  claimId?: string;
}

/**
 * Remembers create requests by (subject, Idempotency-Key) so a retried request gets the same session. `scope` is the
 * subject key, so a subject's keys are found (and erased) by key. The core's rules over IdempotencyRecords
 * (idempotency.ts).
 */
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

export { LIVENESS_EVENT_TYPES, type LivenessEvent, type LivenessEventType } from './event.js';
import type { LivenessEvent, LivenessEventType } from './event.js';

/** Hands events to webhook delivery (a storage queue in the app). */
export interface EventQueue {
  enqueue(event: LivenessEvent): Promise<void>;
}

/**
 * One try at delivering an event to the webhook receiver; `attempt` counts from 1 within one delivery run,
 * `firstAttemptDateTime` is when the run's first attempt was made (the retry window counts from here). Inferred from
 * its schema (src/contract/webhooks.ts), which the trigger parses with.
 */
export type { DeliveryMessage };

/** The webhook queue as the sender sees it: tries scheduled with a delay (the queue's visibility timeout). */
export interface DeliveryQueue {
  enqueue(message: DeliveryMessage, delaySeconds?: number): Promise<void>;
}

export type DeliveryError = 'Timeout' | 'NetworkError' | 'Redirect' | 'HttpStatus' | 'NotConfigured';

export interface DeliveryResult {
  delivered: boolean;
  statusCode?: number;
  error?: DeliveryError;
  durationMs: number;
}

/** Signs and POSTs one event to the configured receiver. Never throws for a receiver's failure: it reports it. */
export interface WebhookSender {
  send(event: LivenessEvent): Promise<DeliveryResult>;
}

export type DeliveryAttemptResult = 'delivered' | 'retry-scheduled' | 'dead-lettered';

/** One line of an event's delivery log (no payload: the log never holds subject ids). */
export interface DeliveryAttempt {
  eventId: string;
  eventType: LivenessEventType;
  sessionId?: string;
  attempt: number;
  attemptedDateTime: string;
  durationMs: number;
  statusCode?: number;
  error?: DeliveryError;
  result: DeliveryAttemptResult;
  nextAttemptDateTime?: string;
}

/** An event whose delivery gave up: kept, with the event, until the back office redelivers it. */
export interface DeadLetter {
  event: LivenessEvent;
  attempts: number;
  firstAttemptDateTime: string;
  deadLetteredDateTime: string;
  lastStatusCode?: number;
  lastError?: DeliveryError | 'DeliveryFailedRepeatedly';
}

/** The delivery attempt log and the dead letters (Table storage in the app). */
export interface DeliveryLog {
  /** @param subjectKey when the event is about a person: the row is indexed under it (for erasure) */
  recordAttempt(attempt: DeliveryAttempt, subjectKey?: string): Promise<void>;
  /** Oldest first. */
  listAttempts(eventId: string): Promise<DeliveryAttempt[]>;
  /**
   * Idempotent per event id (a second dead letter for the same event replaces the first). Indexed under the event's
   * subjectKey; the event is kept without the raw subject (see webhook-delivery.ts).
   */
  putDeadLetter(deadLetter: DeadLetter): Promise<void>;
  getDeadLetter(eventId: string): Promise<DeadLetter | undefined>;
  /** Idempotent. */
  deleteDeadLetter(eventId: string): Promise<void>;
  /** Oldest first (event ids are time-ordered). */
  listDeadLetters(top: number, continuationToken?: string): Promise<Page<DeadLetter>>;
}

/**
 * Subject records (keyed by the subject key, a keyed hash of the token subject: no raw subject id in any key), with
 * their consents, enrolled references, erasure state and deletion receipts.
 */
export interface SubjectStore {
  /** The subject key of a token subject: the one place a raw subject becomes a key. Deterministic per deployment. */
  keyOf(subject: string): string;
  get(subjectKey: string): Promise<SubjectRecord | undefined>;
  /**
   * Conditional read-modify-write of the subject record (created when `change` returns a record for none). Keeps
   * the erasing index (which the sweep reads) in step: its row is written before a record first marked erasing.
   * @returns the record as written or as found; undefined when there is none and none was made
   */
  mutate(subjectKey: string, change: SubjectChange): Promise<SubjectRecord | undefined>;
  /**
   * Records that the subject started a check (the record's last-seen time, creating the record if needed) and, when
   * given, the consent it agreed to (one row per version, the latest time), in one write.
   */
  recordVisit(subjectKey: string, now: Date, consent?: ConsentRecord): Promise<void>;
  listConsents(subjectKey: string): Promise<ConsentRecord[]>;
  /** @returns how many consent rows were deleted */
  deleteConsents(subjectKey: string): Promise<number>;
  /** Removes the subject record, then its erasing index row. Idempotent. */
  delete(subjectKey: string): Promise<void>;
  /** Subject keys whose erasure has started and not finished (the sweep finishes them). */
  listErasing(): Promise<string[]>;
  /** Idempotent per receipt id. */
  putReceipt(receipt: DeletionReceipt): Promise<void>;
  listReceipts(subjectKey: string): Promise<DeletionReceipt[]>;
}

/**
 * The subject's rows in the limit stores: lockout counters, the session quota and remembered Idempotency-Keys (the
 * core reads and erases them through each store's own port: subject-rows.ts).
 */
export interface SubjectRows {
  export(subjectKey: string): Promise<SubjectRowsExport>;
  /** Deletes them all. @returns how many of each kind were deleted */
  erase(subjectKey: string): Promise<{ lockouts: number; quotas: number; idempotencyKeys: number }>;
}

/**
 * The evidence log (evidence.ts): hash chains of records, chain heads and signed checkpoints. Every read is a point
 * read or a key range; nothing scans.
 */
export interface EvidenceLog {
  /**
   * Appends the entry to `chain` (after its head, linked to the head's hash) unless a record with its id is there
   * already, in which case that record is returned. Concurrent appends to one chain are serialised by the head's ETag.
   */
  append(entry: EvidenceEntry, chain: number): Promise<StoredEvidence>;
  /** Every chain's head (seq 0 and the genesis hash for an empty chain): one point read per chain. */
  heads(): Promise<ChainHead[]>;
  /** Stores the checkpoint and makes it the latest. */
  putCheckpoint(checkpoint: SignedCheckpoint): Promise<void>;
  latestCheckpoint(): Promise<SignedCheckpoint | undefined>;
  getCheckpoint(time: string, checkpointId: string): Promise<SignedCheckpoint | undefined>;
  /** Checkpoints written at or after `from` (and at or before `to`), oldest first, at most `top`. */
  listCheckpoints(from: string, to?: string, top?: number): Promise<SignedCheckpoint[]>;
  /** A chain's records from `fromSeq` to `toSeq` (inclusive), in order. */
  listRecords(chain: number, fromSeq: number, toSeq: number): Promise<StoredEvidence[]>;
}

/** Signs checkpoints with ES256 (Key Vault in Azure, a local key file otherwise); publishes the public keys. */
export interface EvidenceSigner {
  /** The key id (`kid`) new checkpoints are signed with. */
  currentKeyId(): Promise<string>;
  /** ES256 over `data`: the raw 64-byte r||s signature (the JWS form). */
  sign(keyId: string, data: Uint8Array): Promise<Uint8Array>;
  /** Every public key that ever signed (current and rotated out), as JWKs with `kid`, `alg` and `use`. */
  publicKeys(): Promise<Array<Record<string, unknown>>>;
}

/**
 * The delivery log's rows as erasure and retention see them: found by subject key (an index written with each
 * attempt and dead letter) and by age (event ids are time-ordered, so old attempts are a key range).
 */
export interface SubjectDeliveries {
  /** Deletes every delivery attempt and dead letter of events about the subject. */
  erase(subjectKey: string): Promise<{ deliveryAttempts: number; deadLetters: number }>;
  /** Deletes the attempts of events made before `before` (a key-range query). @returns how many rows went */
  pruneAttempts(before: Date): Promise<number>;
}

/**
 * When each subject last interacted, as an index the sweep reads by key range (subjects idle past the BIPA limit)
 * and erasure finds by the subject record's last-seen time. One row per subject.
 */
export interface SubjectActivity {
  /** Records an interaction at `at`; `before` is the previous one (its row moves). */
  touch(subjectKey: string, at: Date, before?: string): Promise<void>;
  /** Subjects whose last recorded interaction is before `before`, oldest first, at most `top`. */
  listIdle(before: Date, top: number): Promise<Array<{ subjectKey: string; seen: string }>>;
  /** Removes the subject's row for an interaction at `seen`. Idempotent. */
  remove(subjectKey: string, seen: string): Promise<void>;
}

/** A pure change to a verification (may run more than once; may throw a domain error to refuse). */
export type VerificationChange = (current: Verification) => Verification | undefined;

/**
 * Verification records (a relying party's check by link). Every write after create is conditional on the row's ETag
 * (`mutate`, the one write path), so two concurrent exchanges of one link cannot both win. A subject's verifications
 * are found by subject key (erasure, export).
 */
export interface VerificationStore {
  /** Writes a new verification (its subject index row first). @throws ConflictError if the id exists */
  create(verification: Verification): Promise<Verification>;
  /** @returns undefined when there is no such verification (or the id is not one of ours) */
  get(verificationId: string): Promise<Verification | undefined>;
  /**
   * Reads, applies `change`, writes with the ETag; on a conflict reads again and re-applies (bounded).
   * @returns the verification as written (or as found when nothing was written); undefined when there is none
   */
  mutate(verificationId: string, change: VerificationChange): Promise<Verification | undefined>;
  /** Removes the verification and its index rows. Idempotent. */
  delete(verification: Verification): Promise<void>;
  /** Newest first. */
  list(top: number, continuationToken?: string): Promise<Page<Verification>>;
  listBySubject(subjectKey: string): Promise<Verification[]>;
  /** Verifications the sweep has work on at `now` (their `sweepDateTime` is at or before it), at most `top`. */
  listDue(now: Date, top: number): Promise<Verification[]>;
}

/** Face Quick Link: a single-use hosted capture page for a session (its id: the `s` of `<endpoint>/?s=<id>`). */
export interface QuickLinks {
  /** @throws FaceUnavailableError (FaceAnswerInvalidError for an answer that is not a link) */
  create(authToken: string): Promise<string>;
}
