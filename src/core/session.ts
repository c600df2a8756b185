// The liveness-with-verify session as this app records it, and the audit entries mapped from Face v1.2 attempts.
// Field names follow the Face API and the C# sample (camelCase). Face v1.2 does not report an attempt's request,
// request id or received time, so those sample fields are left out rather than invented.
import type { EvidenceEntry, EvidenceRef } from './evidence-record.js';
import type { DevicePlatform, SessionAttestation } from './attestation-state.js';
import type {
  AuditEntryBody, FailureReason, LivenessSessionBody, LivenessSessionListItemBody,
} from '../contract/types.js';
import type { LivenessEvent } from './event.js';

export {
  FINISHED_ATTEMPT_STATES, LIVENESS_OPERATION_MODES, SESSION_STATUSES,
  type DecisionOutcome, type LivenessOperationMode, type QualityForRecognition, type SessionStatus,
} from './vocabulary.js';
import type { DecisionOutcome, LivenessOperationMode, QualityForRecognition, SessionOrigin, SessionStatus } from './vocabulary.js';
import { FINISHED_ATTEMPT_STATES } from './vocabulary.js';


export interface FaceRectangle { top: number; left: number; width: number; height: number }

export interface VerifyImageInfo {
  faceRectangle?: FaceRectangle;
  qualityForRecognition?: QualityForRecognition;
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
  /** The device token's subject: the only caller who may complete or poll this session (absent for origin link). */
  subject?: string;
  /** Where the session came from (absent on older rows: device). */
  origin?: SessionOrigin;
  /** The verification the session was started from (origin link): its access token is the one caller. */
  verificationId?: string;
  /** The relying party's reference for the verification, echoed in events. */
  clientReferenceId?: string;
  /** The subject's key (keyed hash of `subject`): the partition of everything the subject owns. */
  subjectKey?: string;
  /** The enrolled reference the session verifies against (absent when the device brought the verify image). */
  reference?: { referenceId: string; sha256: string };
  /** The consent text version the person agreed to when starting the check. */
  consentVersion?: string;
  /** The result digest the device's client SDK reported on complete (digest binding compares it with Face's). */
  clientDigest?: string;
  /**
   * Sessions of ours that Face's abuse monitoring flagged together with this one: named by this session's attempts,
   * or naming this session from theirs (the back-link). Our session ids only.
   */
  abuseLinks?: string[];
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
  /** One of FAILURE_REASONS (src/contract/enums.ts), set by collect-result.ts and sweep.ts. */
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
   * The result digest an attested app reported, as received (trimmed). Written once, by POST /api/liveness/digest
   * (source `attestation`: signed by the attested device's key and encrypted to this session's server key). The
   * digest-binding rule (LIVENESS_DIGEST_BINDING) compares it with Face's digest of the decided attempt, in
   * preference to `clientDigest` (which an unattested device sends with complete).
   */
  attestedDigest?: { digest: string; source: 'attestation'; receivedDateTime: string };
  /**
   * The outbox: events written with the change they report (so a recorded decision never loses its event) and not
   * yet handed to the webhook queue. Removed once enqueued; the sweep retries any left behind by a crash.
   */
  pendingEvents?: LivenessEvent[];
  /**
   * The evidence outbox (evidence.ts): records written with the change they prove and not yet appended to the log;
   * appended before the events are published, retried by the sweep.
   */
  pendingEvidence?: EvidenceEntry[];
  /** Where this session's evidence records sit in the log. */
  evidence?: EvidenceRef[];
  /** When the sweep next has work to do on this session (index key). */
  nextSweepDateTime?: string;
  /** Optimistic-concurrency tag from storage; every update is conditional on it. */
  etag?: string;
}


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
  /** Face v1.3 abuse monitoring flagged an attempt of this session (trust-signals.ts). */
  abuse?: AbuseFinding;
  /** Whether the device's reported digest equalled Face's digest of the decided attempt (absent: not compared). */
  digestMatches?: boolean;
}

export interface AbuseFinding {
  /** The flagged attempts of this session. */
  attemptIds: number[];
  /** The other sessions Face named: Face's ids, and ours where the session is ours. */
  otherFlaggedSessions: Array<{ faceSessionId: string; attemptId: number; sessionId?: string }>;
}

/** Face v1.3: the abuse-monitoring verdict on one attempt, naming other flagged sessions (Face session ids). */
export interface AbuseMonitoringResult {
  isAbuseDetected: boolean;
  otherFlaggedSessions: Array<{ attemptId: number; sessionId: string; sessionImageId?: string }>;
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

/** A Face v1.2 attempt in the sample's audit-entry shape, plus the v1.2 fields the sample predates: the API's type. */
export type AuditEntry = AuditEntryBody;
export type AuditEntryResponseBody = AuditEntry['response']['body'];

/**
 * Whether a caller may see the session: a row still Creating is not a session yet, one being deleted is already
 * gone, and a device sees only its own (`subject` given). Everyone else gets the same 404 as for no session at all.
 */
export function isVisible(session: LivenessSession | undefined, subject?: string): session is LivenessSession {
  if (!session || session.deleting || session.status === 'Creating') return false;
  return subject === undefined || session.subject === subject;
}

/**
 * Whether a device caller may see the session: a token's subject sees its own sessions; a verification link's
 * access token sees only the one session started from its verification (and only for the same subject key).
 */
export function visibleTo(session: LivenessSession | undefined, caller: { subject?: string; subjectKey?: string; verificationId?: string }): session is LivenessSession {
  if (!isVisible(session)) return false;
  if (caller.verificationId !== undefined) {
    return session.verificationId === caller.verificationId && session.subjectKey === caller.subjectKey;
  }
  return caller.subject !== undefined && session.subject === caller.subject && session.verificationId === undefined;
}

/** Whether a Face attempt has finished (only finished attempts become audit entries). */
export const isFinishedAttempt = <A extends { attemptStatus: string }>(attempt: A): attempt is A & { attemptStatus: AuditEntry['attemptStatus'] } =>
  FINISHED_ATTEMPT_STATES.has(attempt.attemptStatus);

/**
 * The record's failure reason in the API's terms. The record keeps a string (the storage adapter reads it back
 * unchecked); the core writes only the reasons the contract lists.
 */
export const failureReasonOf = (session: Pick<LivenessSession, 'failureReason'>): FailureReason | undefined =>
  session.failureReason as FailureReason | undefined;

/** The session as the back office reads it (the C# sample's GetLivenessWithVerifySessionResult fields). */
export function sessionView(session: LivenessSession, now: Date): LivenessSessionBody {
  const { status, faceSessionId } = session;
  // Views are made of visible sessions only (isVisible): past Creating, with their Face session.
  if (status === 'Creating' || faceSessionId === undefined) throw new Error('a session still being created has no view');
  return {
    id: session.sessionId,
    faceSessionId,
    createdDateTime: session.createdDateTime,
    sessionExpired: now.getTime() >= Date.parse(session.authTokenExpiresDateTime),
    deviceCorrelationId: session.deviceCorrelationId,
    authTokenTimeToLiveInSeconds: session.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: session.authTokenExpiresDateTime,
    livenessOperationMode: session.livenessOperationMode,
    status,
    ...(session.failureReason ? { failureReason: failureReasonOf(session) } : {}),
    modelVersion: session.modelVersion,
    verifyImage: session.verifyImage,
    ...(session.completionRequestedDateTime ? { completionRequestedDateTime: session.completionRequestedDateTime } : {}),
    ...(session.resultCollectedDateTime ? { resultCollectedDateTime: session.resultCollectedDateTime } : {}),
    ...(session.result ? { result: session.result } : {}),
    ...(session.decision ? { decision: session.decision, reviewRequired: awaitingReview(session) } : {}),
    ...(session.review ? { review: session.review } : {}),
    ...(session.reference ? { reference: session.reference } : {}),
    ...(session.consentVersion ? { consentVersion: session.consentVersion } : {}),
    ...(session.clientDigest ? { clientDigest: session.clientDigest } : {}),
    ...(session.abuseLinks?.length ? { abuseLinks: session.abuseLinks } : {}),
    ...(session.origin === 'link' ? { origin: 'link' as const } : {}),
    ...(session.verificationId !== undefined ? { verificationId: session.verificationId } : {}),
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
  /** Absent: device. */
  origin?: SessionOrigin;
  verificationId?: string;
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
    ...(session.origin === 'link' ? { origin: 'link' as const } : {}),
    ...(session.verificationId !== undefined ? { verificationId: session.verificationId } : {}),
  };
}

export function listItemView(item: SessionListItem, now: Date): LivenessSessionListItemBody {
  const { status } = item;
  if (status === 'Creating') throw new Error('a session still being created is not listed'); // the list skips them
  return {
    ...item,
    status,
    sessionExpired: now.getTime() >= Date.parse(item.authTokenExpiresDateTime),
    ...(item.outcome ? { reviewRequired: item.outcome === 'review' } : {}),
  };
}
