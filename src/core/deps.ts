import type { Clock, CompletionQueue, FaceSessions, ImageStore, Logger, SessionRepository } from './ports.js';
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
}
