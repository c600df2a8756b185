import type { LivenessSettings } from '../config/config.js';
import type { AttestationDeps } from './attestation.js';
import type {
  AttemptLimiter, AuditLog, Clock, EvidenceLog, EvidenceSigner, SubjectActivity, SubjectDeliveries, CompletionQueue, EventQueue, FaceSessions, IdempotencyStore, ImageStore, LivenessMetrics,
  Logger, SessionChange, SessionRepository, SubjectQuota, SubjectRows, SubjectStore, VerificationStore,
} from './ports.js';
import { scheduled } from './retention.js';
import type { LivenessSession } from './session.js';

/**
 * The core's settings: the `liveness` section of the config (src/config/config.ts declares each setting once, and
 * its output is this type). A module that needs only some of them takes a Pick.
 */
export type { LivenessSettings };

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
  /** Verifications (a relying party's check by link) and their link and access token hashes. */
  verifications: VerificationStore;
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
