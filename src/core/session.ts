// The liveness-with-verify session as this app records it, and the audit entries mapped from Face v1.2 attempts.
// Field names follow the Face API and the C# sample (camelCase). Face v1.2 does not report an attempt's request,
// request id or received time, so those sample fields are left out rather than invented.
import type { DevicePlatform, SessionAttestation } from './attestation-state.js';
import type { LivenessEvent } from './event.js';

export const LIVENESS_OPERATION_MODES = ['Passive', 'PassiveActive'] as const;
export type LivenessOperationMode = (typeof LIVENESS_OPERATION_MODES)[number];

/**
 * Creating (internal, never shown): the row is written while Face creates its session; a row still Creating when the
 * sweep reaches it belongs to a create that never finished. NotStarted: created, the device holds the token. Started: the device reported completion, collection is pending.
 * ResultAvailable: a finished attempt was collected. Failed: collection ended without a result (reason given).
 * Expired: the token expired and the last collection found no attempt.
 */
export const SESSION_STATUSES = ['NotStarted', 'Started', 'ResultAvailable', 'Failed', 'Expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number] | 'Creating';

export type QualityForRecognition = 'low' | 'medium' | 'high';

export interface FaceRectangle { top: number; left: number; width: number; height: number }

export interface VerifyImageInfo {
  faceRectangle?: FaceRectangle;
  qualityForRecognition?: QualityForRecognition | string;
}

/** Where the verify image lives and what it is; never leaves the back office. */
export interface StoredImage {
  blobName: string;
  contentType: string;
  sizeInBytes: number;
  sha256: string;
}

export interface LivenessSession {
  /** This app's id for the session, minted before Face is called (so the row can be written while Face works). */
  sessionId: string;
  /** Face's id for its liveness-with-verify session; absent while Creating. */
  faceSessionId?: string;
  createdDateTime: string;
  authTokenTimeToLiveInSeconds: number;
  authTokenExpiresDateTime: string;
  livenessOperationMode: LivenessOperationMode;
  deviceCorrelationId?: string;
  /** The device token's subject: the only caller who may complete or poll this session. */
  subject?: string;
  /** The subject's key (keyed hash of `subject`): the partition of everything the subject owns. */
  subjectKey?: string;
  /** The enrolled reference the session verifies against (absent when the device brought the verify image). */
  reference?: { referenceId: string; sha256: string };
  /** The consent text version the person agreed to when starting the check. */
  consentVersion?: string;
  /** A person's decision on a session the policy sent to review; `decision` keeps the automated one. */
  review?: ReviewDecision;
  enableSessionImage: boolean;
  modelVersion?: string;
  status: SessionStatus;
  verifyImage: VerifyImageInfo;
  storedVerifyImage: StoredImage;
  completionRequestedDateTime?: string;
  resultCollectedDateTime?: string;
  /** The latest finished attempt, as an audit entry. */
  result?: AuditEntry;
  /** Which collection wrote the result (so a collection whose write answer was lost knows the result is its own). */
  resultWriteId?: string;
  /** What the policy made of the result, with the evidence it rests on. */
  decision?: Decision;
  failureReason?: string;
  faceSessionDeleted: boolean;
  imagesDeleted: boolean;
  /** Blob names of session images copied from Face. */
  sessionImageBlobs: string[];
  /**
   * The collection chain this session runs: started by the completion that moved it to Started; `try` and `delivery`
   * (the queue's dequeue count) of the message now polling Face, so a duplicate or stale message makes no Face call.
   */
  collection?: { chainId: string; try: number; delivery: number };
  /** Set while a delete is in progress so that a concurrent collection backs off. */
  deleting: boolean;
  /** The platform the device said it runs on at create (`platform` form field); absent for older sessions. */
  platform?: DevicePlatform;
  /** Created under LIVENESS_ATTESTATION_<PLATFORM>=required: the token goes only to an attested device. */
  attestationRequired?: boolean;
  /** The device-attestation protocol's state for this session (core/attestation.ts). */
  attestation?: SessionAttestation;
  /**
   * The result digest the client SDK reported, as received (trimmed). Written once, by POST /api/liveness/digest
   * (source `attestation`: signed by the attested device's key and encrypted to this session's server key). The
   * digest-binding rule (LIVENESS_DIGEST_BINDING) compares it with Face's digest of the decided attempt.
   */
  clientDigest?: { digest: string; source: 'attestation'; receivedDateTime: string };
  /**
   * The outbox: events written with the change they report (so a recorded decision never loses its event) and not
   * yet handed to the webhook queue. Removed once enqueued; the sweep retries any left behind by a crash.
   */
  pendingEvents?: LivenessEvent[];
  /** When the sweep next has work to do on this session (index key). */
  nextSweepDateTime?: string;
  /** Optimistic-concurrency tag from storage; every update is conditional on it. */
  etag?: string;
}

/** The decision policy's outcomes (the device hears only pass, fail, retry or pending). */
export type DecisionOutcome = 'pass' | 'fail' | 'review' | 'retry';

export interface Decision {
  outcome: DecisionOutcome;
  reasons: string[];
  livenessDecision?: string;
  matchConfidence?: number;
  isIdentical?: boolean;
  attemptId: number;
  digest?: string;
  modelVersion?: string;
  verifyImageHashMatches: boolean;
  policyVersion: string;
  decidedDateTime: string;
}

export interface ReviewDecision {
  outcome: 'pass' | 'fail';
  reason: string;
  /** Who settled it: an Entra object id, or 'admin-key' (local runs). */
  reviewer: string;
  reviewedDateTime: string;
}

/** Whether a person still has to decide: the policy said review, nobody has settled it, and it is not being deleted. */
export function awaitingReview(session: LivenessSession): boolean {
  return isVisible(session) && session.decision?.outcome === 'review' && !session.review;
}

export interface AuditEntryResponseBody {
  livenessDecision?: string;
  modelVersionUsed?: string;
  target?: { faceRectangle: FaceRectangle; imageType: 'Color' };
  verifyResult?: { isIdentical: boolean; matchConfidence: number; verifyImage?: VerifyImageInfo };
  error?: { code: string; message: string };
}

/** A Face v1.2 attempt in the sample's audit-entry shape, plus the v1.2 fields the sample predates. */
export interface AuditEntry {
  id: number;
  sessionId: string;
  attemptStatus: string;
  digest?: string;
  sessionImageId?: string;
  verifyImageHash?: string;
  response: { body: AuditEntryResponseBody };
  /** When this app read the attempt from Face (ours, not Face's). */
  collectedDateTime: string;
}

/**
 * Whether a caller may see the session: a row still Creating is not a session yet, one being deleted is already
 * gone, and a device sees only its own (`subject` given). Everyone else gets the same 404 as for no session at all.
 */
export function isVisible(session: LivenessSession | undefined, subject?: string): session is LivenessSession {
  if (!session || session.deleting || session.status === 'Creating') return false;
  return subject === undefined || session.subject === subject;
}

export const FINISHED_ATTEMPT_STATES = new Set(['Succeeded', 'Failed', 'Canceled']);

/** The session as the back office reads it (the C# sample's GetLivenessWithVerifySessionResult fields). */
export function sessionView(session: LivenessSession, now: Date) {
  return {
    id: session.sessionId,
    faceSessionId: session.faceSessionId,
    createdDateTime: session.createdDateTime,
    sessionExpired: now.getTime() >= Date.parse(session.authTokenExpiresDateTime),
    deviceCorrelationId: session.deviceCorrelationId,
    authTokenTimeToLiveInSeconds: session.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: session.authTokenExpiresDateTime,
    livenessOperationMode: session.livenessOperationMode,
    status: session.status,
    ...(session.failureReason ? { failureReason: session.failureReason } : {}),
    modelVersion: session.modelVersion,
    verifyImage: session.verifyImage,
    ...(session.completionRequestedDateTime ? { completionRequestedDateTime: session.completionRequestedDateTime } : {}),
    ...(session.resultCollectedDateTime ? { resultCollectedDateTime: session.resultCollectedDateTime } : {}),
    ...(session.result ? { result: session.result } : {}),
    ...(session.decision ? { decision: session.decision, reviewRequired: awaitingReview(session) } : {}),
    ...(session.review ? { review: session.review } : {}),
    ...(session.reference ? { reference: session.reference } : {}),
    ...(session.consentVersion ? { consentVersion: session.consentVersion } : {}),
  };
}

export interface SessionListItem {
  id: string;
  createdDateTime: string;
  status: SessionStatus;
  deviceCorrelationId?: string;
  authTokenTimeToLiveInSeconds: number;
  authTokenExpiresDateTime: string;
  completionRequestedDateTime?: string;
  resultCollectedDateTime?: string;
  /** The decision's outcome only (never its scores): enough for a list, a review backlog and outcome charts. */
  outcome?: DecisionOutcome;
}

/** A session record as a list row (the table adapter reads the same fields from the row's columns). */
export function listItemOf(session: LivenessSession): SessionListItem {
  return {
    id: session.sessionId,
    createdDateTime: session.createdDateTime,
    status: session.status,
    ...(session.deviceCorrelationId !== undefined ? { deviceCorrelationId: session.deviceCorrelationId } : {}),
    authTokenTimeToLiveInSeconds: session.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: session.authTokenExpiresDateTime,
    ...(session.completionRequestedDateTime ? { completionRequestedDateTime: session.completionRequestedDateTime } : {}),
    ...(session.resultCollectedDateTime ? { resultCollectedDateTime: session.resultCollectedDateTime } : {}),
    ...(session.decision ? { outcome: session.decision.outcome } : {}),
  };
}

export function listItemView(item: SessionListItem, now: Date) {
  return {
    ...item,
    sessionExpired: now.getTime() >= Date.parse(item.authTokenExpiresDateTime),
    ...(item.outcome ? { reviewRequired: item.outcome === 'review' } : {}),
  };
}
