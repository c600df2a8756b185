import type { DecisionPolicy } from './decision.js';
import type {
  AttemptLimiter, Clock, CompletionQueue, FaceSessions, IdempotencyStore, ImageStore, LivenessMetrics, Logger,
  SessionRepository,
} from './ports.js';
import type { RetentionPolicy } from './retention.js';

export interface LivenessSettings extends RetentionPolicy {
  defaultOperationMode: 'Passive' | 'PassiveActive';
  defaultAuthTokenTtlSeconds: number;
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
}

/** Everything a use case may touch, handed in by the composition root (or by a test). */
export interface LivenessDeps {
  face: FaceSessions;
  sessions: SessionRepository;
  images: ImageStore;
  completions: CompletionQueue;
  clock: Clock;
  logger: Logger;
  settings: LivenessSettings;
  limiter: AttemptLimiter;
  idempotency: IdempotencyStore;
  metrics: LivenessMetrics;
}
