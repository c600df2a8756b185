// The composition root: the one place that reads the config and wires adapters to the core. Service clients are
// built once per process (they keep connections alive); the logger is added per invocation (src/shared/handler.ts).
import { JwtVerifier } from './adapters/auth/jwt-verifier.js';
import { AzureFaceSessions } from './adapters/face/azure-face-sessions.js';
import { HttpQuickLinks } from './adapters/face/quick-link.js';
import { BlobImageStore } from './adapters/storage/blob-image-store.js';
import { createStorageClients, type StorageClients } from './adapters/storage/clients.js';
import { AndroidAttestationVerifier } from './adapters/attestation/android-key-attestation.js';
import { AppAttestVerifier } from './adapters/attestation/app-attest.js';
import { attestationCrypto, platformVerifiers } from './adapters/attestation/index.js';
import { GooglePlayIntegrityDecoder, LocalPlayIntegrityDecoder } from './adapters/attestation/play-integrity.js';
import { HttpRevocationList } from './adapters/attestation/revocation.js';
import { TableDeviceRegistry } from './adapters/storage/table-device-registry.js';
import type { AttestationDeps } from './core/attestation.js';
import { StorageCompletionQueue } from './adapters/storage/queue-completion-queue.js';
import { StorageWebhookQueue } from './adapters/storage/queue-webhook-queue.js';
import { TableDeliveryLog } from './adapters/storage/table-delivery-log.js';
import { TableSubjectDeliveries } from './adapters/storage/table-subject-deliveries.js';
import { TableSubjectActivity } from './adapters/storage/table-subject-activity.js';
import { HttpWebhookSender } from './adapters/webhooks/http-webhook-sender.js';
import { TableAuditLog } from './adapters/storage/table-audit-log.js';
import { tableIdempotencyRecords } from './adapters/storage/table-idempotency-records.js';
import { tableLimitRecords } from './adapters/storage/table-limit-records.js';
import { tableQuotaRecords } from './adapters/storage/table-quota-records.js';
import { TableSessionRepository } from './adapters/storage/table-session-repository.js';
import { TableVerificationStore } from './adapters/storage/table-verification-store.js';
import { linkCaller } from './core/verifications.js';
import { subjectKeyer, TableSubjectStore } from './adapters/storage/table-subject-store.js';
import { appConfig, ConfigurationError, type AppConfig } from './config/config.js';
import { KeyVaultEvidenceSigner } from './adapters/evidence/key-vault-signer.js';
import { LocalEvidenceSigner } from './adapters/evidence/local-signer.js';
import { TableEvidenceLog } from './adapters/storage/table-evidence-log.js';
import { lazyDefaultAzureCredential } from './adapters/auth/lazy-credential.js';
import type { LivenessDeps } from './core/deps.js';
import type { WebhookDeps } from './core/webhook-delivery.js';
import { attemptLimiter, noAttemptLimits } from './core/attempt-limits.js';
import { idempotencyStore } from './core/idempotency.js';
import { noSubjectQuota, subjectQuota } from './core/quota.js';
import { subjectRows } from './core/subject-rows.js';
import { systemClock, type LinkCaller } from './core/ports.js';
import { HealthCache } from './shared/health-cache.js';
import { faceCallObserver, TracingCompletionQueue } from './telemetry/decorators.js';
import { appMetrics } from './telemetry/metrics.js';

/** Verifies a bearer token; the edge's view of JwtVerifier (tests pass fakes). */
export interface TokenVerifier { verify(authorization: string | null): Promise<{ subject: string; roles: string[]; clientId?: string }> }

/** Checks a verification link's access token (`vla_…`) and says whose it is. */
export interface LinkAccessVerifier { verify(accessToken: string): Promise<LinkCaller> }

/** Everything the function adapters get: the core's dependencies (less the per-invocation logger) and the edge's. */
export interface AppServices {
  liveness: Omit<LivenessDeps, 'logger'>;
  /** Webhook delivery, the attempt log and dead letters (there even with webhooks off, to drain and list them). */
  webhooks: Omit<WebhookDeps, 'logger'>;
  deviceAuth: TokenVerifier;
  /** Absent when no back-office issuer is configured: the /api/backoffice routes then refuse everyone. */
  backOfficeAuth?: TokenVerifier;
  /** Relying parties (the back office's issuer and audience, the verifications app role); absent like backOfficeAuth. */
  relyingPartyAuth?: TokenVerifier;
  /** Verification links' access tokens on the device routes. */
  linkAccess: LinkAccessVerifier;
  /** The pages' origin (PAGES_ORIGIN): verification links point there. */
  pagesOrigin?: string;
  /** Whether the back office may use the Functions admin key (local runs only; off in Azure). */
  adminKeyEnabled: boolean;
  /** The health answer, probed at most once per interval whoever asks. */
  health: HealthCache;
}

/** The device-attestation protocol: its cryptography, the platform verifiers configured, the device registry. */
export function attestationDeps(config: AppConfig, storage: StorageClients): AttestationDeps {
  const a = config.attestation;
  const policy = config.liveness.attestationPolicy;
  const missing = [
    ...(policy.ios === 'required' && !a.ios ? ['ATTESTATION_IOS_APP_ID: required when LIVENESS_ATTESTATION_IOS is required (missing)'] : []),
    ...(policy.android === 'required' && !a.android ? ['ATTESTATION_ANDROID_PACKAGE_NAME and ATTESTATION_PLAY_INTEGRITY_SERVICE_ACCOUNT_JSON (or both ATTESTATION_PLAY_INTEGRITY_*_KEY settings): required when LIVENESS_ATTESTATION_ANDROID is required (missing)'] : []),
  ];
  if (missing.length) throw new ConfigurationError(missing);
  const ios = a.ios ? new AppAttestVerifier({ ...a.ios, allowDevelopment: a.allowDevelopmentBuilds }) : undefined;
  const android = a.android ? new AndroidAttestationVerifier(
    { ...a.android, allowDevelopment: a.allowDevelopmentBuilds, maxAgeMs: 5 * 60_000 },
    a.android.playIntegrity.mode === 'local'
      ? new LocalPlayIntegrityDecoder({ decryptionKeyBase64: a.android.playIntegrity.decryptionKey, verificationKeyBase64: a.android.playIntegrity.verificationKey })
      : new GooglePlayIntegrityDecoder({ serviceAccountJson: a.android.playIntegrity.serviceAccountJson, packageName: a.android.packageName }),
    new HttpRevocationList(a.android.revocationUrl),
  ) : undefined;
  return {
    crypto: attestationCrypto,
    verifiers: platformVerifiers(ios, android),
    devices: new TableDeviceRegistry(storage, config.names.tablePrefix),
    deviceTtlSeconds: a.deviceTtlSeconds,
  };
}

export function composeServices(config: AppConfig): AppServices {
  const storage = createStorageClients(config.storage);
  const prefix = config.names.tablePrefix;
  const limits = config.limits;
  const metrics = appMetrics();
  const face = new AzureFaceSessions({ ...config.face, onCall: faceCallObserver(metrics) });
  // Face v1.2 has no abuse monitoring, so nothing looks a session up by its Face session id there.
  const sessions = new TableSessionRepository(storage, prefix, { indexFaceSessions: config.face.apiVersion !== 'v1.2' });
  const verifications = new TableVerificationStore(storage, prefix);
  const hooks = config.webhooks;
  const webhookQueue = new StorageWebhookQueue(storage, config.names.webhookQueue);
  // The per-subject records: storage here, their rules in the core.
  const records = {
    limits: tableLimitRecords(storage, prefix),
    quotas: tableQuotaRecords(storage, prefix),
    idempotencyKeys: tableIdempotencyRecords(storage, prefix),
  };
  return {
    liveness: {
      face,
      sessions,
      audit: new TableAuditLog(storage, prefix),
      images: new BlobImageStore(storage, config.names.container),
      // The trace context travels in completion messages, so collection continues the device's request trace.
      completions: new TracingCompletionQueue(new StorageCompletionQueue(storage, config.names.completionQueue)),
      clock: systemClock,
      settings: config.liveness,
      limiter: limits.enabled ? attemptLimiter(records.limits, limits.attempts) : noAttemptLimits,
      quota: limits.enabled ? subjectQuota(records.quotas, limits.quota) : noSubjectQuota,
      idempotency: idempotencyStore(records.idempotencyKeys, config.liveness.idempotencyTtlSeconds),
      metrics,
      subjects: new TableSubjectStore(storage, prefix, subjectKeyer(config.subjects.keySecret)),
      subjectRows: subjectRows(records),
      evidence: new TableEvidenceLog(storage, prefix),
      deliveries: new TableSubjectDeliveries(storage, prefix),
      activity: new TableSubjectActivity(storage, prefix),
      // Key Vault (by the app's managed identity) in Azure; a key file generated on first use locally.
      evidenceSigner: config.evidence.keyUrl
        ? new KeyVaultEvidenceSigner(config.evidence.keyUrl, lazyDefaultAzureCredential(config.face.clientId))
        : new LocalEvidenceSigner(config.evidence.localKeyDir),
      attestation: attestationDeps(config, storage),
      verifications,
      ...(config.liveness.verifications.quickLink ? {
        quickLinks: new HttpQuickLinks({ endpoint: config.liveness.verifications.quickLinkEndpoint, timeoutMs: config.face.timeoutMs }),
      } : {}),
      // Events are made only when a receiver is configured.
      ...(hooks.url ? { events: webhookQueue } : {}),
    },
    webhooks: {
      ...(hooks.url ? { sender: new HttpWebhookSender({ url: hooks.url, secrets: hooks.secrets, timeoutMs: hooks.timeoutMs }) } : {}),
      queue: webhookQueue,
      log: new TableDeliveryLog(storage, prefix),
      sessions,
      clock: systemClock,
      settings: hooks.retry,
    },
    deviceAuth: new JwtVerifier(config.auth.device),
    adminKeyEnabled: config.auth.adminKeyEnabled,
    health: new HealthCache({
      // A point read of an id no session has: proves the table answers with this app's credentials.
      storage: () => sessions.get('00000000-0000-7000-8000-000000000000'),
      face: (signal) => face.probe({ abortSignal: signal }),
    }),
    ...(config.auth.backOffice ? {
      backOfficeAuth: new JwtVerifier({ ...config.auth.backOffice, requiredRole: config.auth.backOffice.role }),
    } : {}),
    ...(config.auth.relyingParty ? {
      relyingPartyAuth: new JwtVerifier({ ...config.auth.relyingParty, requiredRole: config.auth.relyingParty.role }),
    } : {}),
    linkAccess: { verify: (accessToken) => linkCaller({ verifications, clock: systemClock }, accessToken) },
    ...(config.pages.origin ? { pagesOrigin: config.pages.origin } : {}),
  };
}

let services: AppServices | undefined;
/** The process's services, built on first use. Throws ConfigurationError (naming each bad setting) until fixed. */
export function appServices(): AppServices {
  services ??= composeServices(appConfig());
  return services;
}
