import type { AttestationDeps, AttestationPolicy, AttestedPlatform } from './attestation.js';
import type { DecisionPolicy } from './decision.js';
import type {
  AttemptLimiter, AuditLog, Clock, CompletionQueue, EventQueue, FaceSessions, IdempotencyStore, ImageStore, LivenessMetrics,
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
  /** Per platform: whether a session's token goes only to an attested device (absent: off everywhere). */
  attestationPolicy?: Record<AttestedPlatform, AttestationPolicy>;
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
  /**
   * Where relying-party events go (the webhook queue); absent when no webhook is configured, and then no events are
   * made. Use cases write session events through the session outbox (events.ts), not by calling this directly.
   */
  events?: EventQueue;
  /** The device-attestation protocol's adapters (core/attestation.ts). */
  attestation?: AttestationDeps;
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
