// The composition root: the one place that reads the config and wires adapters to the core. Service clients are
// built once per process (they keep connections alive); the logger is per invocation.
import type { InvocationContext } from '@azure/functions';
import { JwtVerifier } from './adapters/auth/jwt-verifier.js';
import { AzureFaceSessions } from './adapters/face/azure-face-sessions.js';
import { BlobImageStore } from './adapters/storage/blob-image-store.js';
import { createStorageClients } from './adapters/storage/clients.js';
import { StorageCompletionQueue } from './adapters/storage/queue-completion-queue.js';
import { TableAttemptLimiter } from './adapters/storage/table-attempt-limiter.js';
import { TableIdempotencyStore } from './adapters/storage/table-idempotency-store.js';
import { TableSessionRepository } from './adapters/storage/table-session-repository.js';
import { appConfig, type AppConfig } from './config/config.js';
import type { LivenessDeps, LivenessSettings } from './core/deps.js';
import { noAttemptLimits } from './core/attempt-limits.js';
import { systemClock } from './core/ports.js';
import { contextLogger } from './shared/logger.js';
import { faceCallObserver, TracingCompletionQueue } from './telemetry/decorators.js';
import { appMetrics } from './telemetry/metrics.js';

type Services = Omit<LivenessDeps, 'logger'> & {
  config: AppConfig;
  repository: TableSessionRepository;
  deviceAuth: JwtVerifier;
  /** Absent when no back-office issuer is configured: the /api/backoffice routes then refuse everyone. */
  backOfficeAuth?: JwtVerifier;
};
let services: Services | undefined;

export function buildServices(config: AppConfig): Services {
  const storage = createStorageClients(config.storage);
  const repository = new TableSessionRepository(storage, config.names.tablePrefix);
  const settings: LivenessSettings = {
    defaultOperationMode: config.liveness.operationMode,
    defaultAuthTokenTtlSeconds: config.liveness.authTokenTtlSeconds,
    deleteFaceSessionAfterCollect: config.liveness.deleteFaceSessionAfterCollect,
    collectMaxTries: config.liveness.collectMaxTries,
    collectBackoffSeconds: config.liveness.collectBackoffSeconds,
    collectMaxBackoffSeconds: config.liveness.collectMaxBackoffSeconds,
    imageRetentionHours: config.liveness.imageRetentionHours,
    recordRetentionDays: config.liveness.recordRetentionDays,
    sweepPageSize: config.liveness.sweepPageSize,
    sweepConcurrency: config.liveness.sweepConcurrency,
    policy: config.decision,
    idempotencyTtlSeconds: config.auth.idempotencyTtlSeconds,
    abandonedCreateSeconds: config.abandonedCreateSeconds,
  };
  const prefix = config.names.tablePrefix;
  const limits = config.auth.attemptLimits;
  const metrics = appMetrics();
  return {
    config,
    repository,
    face: new AzureFaceSessions({ ...config.face, onCall: faceCallObserver(metrics) }),
    sessions: repository,
    images: new BlobImageStore(storage, config.names.container),
    // The trace context travels in completion messages, so collection continues the device's request trace.
    completions: new TracingCompletionQueue(new StorageCompletionQueue(storage, config.names.completionQueue)),
    clock: systemClock,
    settings,
    limiter: limits.enabled ? new TableAttemptLimiter(storage, prefix, limits) : noAttemptLimits,
    idempotency: new TableIdempotencyStore(storage, prefix, config.auth.idempotencyTtlSeconds),
    metrics,
    deviceAuth: new JwtVerifier(config.auth.device),
    ...(config.auth.backOffice ? {
      backOfficeAuth: new JwtVerifier({ ...config.auth.backOffice, requiredRole: config.auth.backOffice.role }),
    } : {}),
  };
}

/** The app's dependencies for one invocation. Throws ConfigurationError (naming each bad setting) on first use. */
export function depsFor(context: InvocationContext): LivenessDeps & Services {
  services ??= buildServices(appConfig());
  return { ...services, logger: contextLogger(context) };
}
