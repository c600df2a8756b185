import type { DecisionPolicy } from './decision.js';
import type {
  AttemptLimiter, AuditLog, Clock, EvidenceLog, EvidenceSigner, SubjectActivity, SubjectDeliveries, CompletionQueue, EventQueue, FaceSessions, IdempotencyStore, ImageStore, LivenessMetrics,
  Logger, SessionChange, SessionRepository, SubjectQuota, SubjectRows, SubjectStore,
} from './ports.js';
import { scheduled, type RetentionPolicy } from './retention.js';
import type { LivenessOperationMode, LivenessSession } from './session.js';
import type { PrivacySettings } from './subject.js';

export interface LivenessSettings extends RetentionPolicy {
  /** The least strict liveness mode a session may use; a device may ask only for a stricter one. */
  operationMode: LivenessOperationMode;
  /** The default token lifetime, and the longest a device may ask for. */
  authTokenTtlSeconds: number;
  /** Whether Face keeps a session image as capture evidence; when on, a device cannot turn it off. */
  enableSessionImage: boolean;
  deleteFaceSessionAfterCollect: boolean;
  collectMaxTries: number;
  collectBackoffSeconds: number;
  collectMaxBackoffSeconds: number;
  sweepPageSize: number;
  sweepConcurrency: number;
  policy: DecisionPolicy;
  /** How long an Idempotency-Key is remembered. */
  idempotencyTtlSeconds: number;
  /** A session row still Creating this long after it was written belongs to a create that never finished. */
  abandonedCreateSeconds: number;
  /** Whether events carry the scores (liveness decision, match confidence); off unless the relying party needs them. */
  eventsIncludeScores?: boolean;
  /** Consent, its published texts, and whether a device may bring its own reference. */
  privacy: PrivacySettings;
  /** How long webhook delivery attempts are kept (days). */
  deliveryAttemptRetentionDays?: number;
  /** A subject with no interaction for this long is erased by the sweep (days; BIPA). Undefined: never. */
  subjectIdleErasureDays?: number;
}

/** Everything a use case may touch, handed in by the composition root (or by a test). */
export interface LivenessDeps {
  face: FaceSessions;
  sessions: SessionRepository;
  audit: AuditLog;
  images: ImageStore;
  completions: CompletionQueue;
  clock: Clock;
  logger: Logger;
  settings: LivenessSettings;
  limiter: AttemptLimiter;
  quota: SubjectQuota;
  idempotency: IdempotencyStore;
  metrics: LivenessMetrics;
  /** Subject records, consents, references, erasure state and deletion receipts. */
  subjects: SubjectStore;
  /** The subject's lockout, quota and idempotency rows. */
  subjectRows: SubjectRows;
  /** The evidence log (hash chains and checkpoints) and the checkpoints' signer. */
  evidence: EvidenceLog;
  evidenceSigner: EvidenceSigner;
  /** The webhook delivery log's rows by subject (erasure) and by age (retention). */
  deliveries: SubjectDeliveries;
  /** When each subject last interacted (the sweep's BIPA expiry reads it by key range). */
  activity: SubjectActivity;
  /**
   * Where relying-party events go (the webhook queue); absent when no webhook is configured, and then no events are
   * made. Use cases write session events through the session outbox (events.ts), not by calling this directly.
   */
  events?: EventQueue;
}

/**
 * The core's one way to change a stored session: the change, then the sweep time that follows from it, written by
 * the repository's conditional read-modify-write (which keeps the sweep index in step).
 */
export function updateSession(
  deps: Pick<LivenessDeps, 'sessions' | 'settings'>,
  target: string | LivenessSession,
  change: SessionChange,
): Promise<LivenessSession | undefined> {
  return deps.sessions.mutate(target, (current) => {
    const next = change(current);
    return next && scheduled(next, deps.settings);
  });
}
