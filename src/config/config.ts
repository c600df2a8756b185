// App settings, parsed once at start and frozen. Every setting the code reads is here; the README's configuration
// table and infra/ are kept in step with this file. Errors name each missing or malformed setting.
import { z } from 'zod';
import { LIVENESS_OPERATION_MODES, type LivenessOperationMode } from '../core/session.js';
import type { ConsentText } from '../core/subject.js';
import type { AttestationPolicy, AttestedPlatform } from '../core/attestation.js';
import { APPLE_APP_ATTESTATION_ROOT_CA, GOOGLE_HARDWARE_ATTESTATION_ROOTS } from './attestation-roots.js';

/** The consent text this repository ships (replace it with your own through CONSENT_TEXTS_JSON). */
export const DEFAULT_CONSENT_VERSION = '2026-01';
export const DEFAULT_CONSENT_TEXTS: ConsentText[] = [{
  version: DEFAULT_CONSENT_VERSION,
  publishedDate: '2026-01-01',
  text: 'To confirm it is you, this app takes a short video selfie and compares your face with a reference photo. '
    + 'Your face images and the comparison result are biometric data. They are used only to verify your identity for '
    + 'this service, are kept as published in our retention schedule (GET /api/privacy), and are deleted on request. '
    + 'By continuing you give your written consent to this collection and use.',
}];

const consentTextSchema = z.array(z.strictObject({
  version: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'version must be 1 to 64 printable ASCII characters without spaces'),
  publishedDate: z.iso.date(),
  text: z.string().min(1).max(10_000),
})).min(1);

const bool = (fallback: boolean) =>
  z.enum(['true', 'false', '1', '0']).optional().transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));
const int = (fallback: number, min: number, max: number) =>
  z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });
const num = (fallback: number, min: number, max: number) =>
  z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be a number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

/** A Standard Webhooks secret: `whsec_` and base64 of 24 to 64 random bytes. */
const webhookSecret = z.string().optional().transform((v, ctx) => {
  if (v === undefined || v.trim() === '') return undefined;
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(v.trim());
  const bytes = m ? Buffer.from(m[1]!, 'base64').length : 0;
  if (bytes < 24 || bytes > 64) {
    ctx.addIssue({ code: 'custom', message: 'must be whsec_ followed by base64 of 24 to 64 random bytes' });
    return z.NEVER;
  }
  return v.trim();
});

/** Loopback hosts, where a local receiver may use plain http (nothing leaves the machine). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** The receiver's URL: https, or http to a loopback host (local runs); no credentials in it (they would be logged by proxies). */
function webhookUrl(value: string, ctx: z.RefinementCtx): string {
  let url: URL;
  try { url = new URL(value); } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute https URL' });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    ctx.addIssue({ code: 'custom', message: 'must be https (plain http only to a loopback host, for local runs)' });
    return z.NEVER;
  }
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must not carry credentials; receivers verify the signature instead' });
    return z.NEVER;
  }
  return url.toString();
}

const policy = z.enum(['off', 'required']).default('off');
const text = z.string().optional().transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const pems = (fallback: string) => z.string().optional().transform((v, ctx) => {
  const found = (v?.trim() ? v : fallback).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (found.length === 0) ctx.addIssue({ code: 'custom', message: 'must hold one or more PEM certificates' });
  return found;
});

const envSchema = z.object({
  AzureWebJobsStorage: z.string().optional(),
  AzureWebJobsStorage__blobServiceUri: z.url().optional(),
  AzureWebJobsStorage__queueServiceUri: z.url().optional(),
  AzureWebJobsStorage__tableServiceUri: z.url().optional(),
  AzureWebJobsStorage__clientId: z.string().optional(),
  FACE_ENDPOINT: z.url({ message: 'must be the Face resource endpoint, e.g. https://<name>.cognitiveservices.azure.com' }),
  FACE_API_KEY: z.string().min(1).optional(),
  FACE_CLIENT_ID: z.string().optional(),
  FACE_TIMEOUT_MS: int(10_000, 100, 120_000),
  FACE_MAX_RETRIES: int(3, 0, 10),
  FACE_RETRY_BUDGET_MS: int(8_000, 0, 120_000),
  LIVENESS_OPERATION_MODE: z.enum(LIVENESS_OPERATION_MODES).default('Passive'),
  LIVENESS_AUTH_TOKEN_TTL_SECONDS: int(600, 60, 86_400),
  LIVENESS_ENABLE_SESSION_IMAGE: bool(true),
  LIVENESS_MAX_OPEN_SESSIONS_PER_SUBJECT: int(3, 1, 1000),
  LIVENESS_MAX_CREATES_PER_SUBJECT: int(10, 1, 100_000),
  LIVENESS_CREATE_WINDOW_SECONDS: int(3600, 1, 7 * 86_400),
  LIVENESS_STORAGE_PREFIX: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,19}$/, 'must be letters and digits, starting with a letter, at most 20').optional(),
  LIVENESS_COMPLETION_QUEUE: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,55}[a-z0-9]$/, 'must be a valid queue name (lower-case letters, digits, single hyphens)').default('liveness-completions'),
  LIVENESS_SWEEP_SCHEDULE: z.string().min(1).default('0 */5 * * * *'),
  LIVENESS_DELETE_FACE_SESSION_AFTER_COLLECT: bool(true),
  LIVENESS_COLLECT_MAX_TRIES: int(8, 1, 50),
  LIVENESS_COLLECT_BACKOFF_SECONDS: num(1, 0, 600),
  LIVENESS_COLLECT_MAX_BACKOFF_SECONDS: num(60, 0, 3600),
  LIVENESS_IMAGE_RETENTION_HOURS: num(0, 0, 24 * 365 * 10),
  LIVENESS_RECORD_RETENTION_DAYS: num(30, 0, 365 * 10),
  LIVENESS_SWEEP_PAGE_SIZE: int(100, 1, 1000),
  LIVENESS_SWEEP_CONCURRENCY: int(8, 1, 64),
  LIVENESS_ABANDONED_CREATE_SECONDS: int(600, 60, 86_400),
  DEVICE_AUTH_ISSUER: z.url({ message: "must be the device identity provider's OIDC issuer URL" }),
  DEVICE_AUTH_AUDIENCE: z.string().min(1, 'must be the audience device tokens are issued for'),
  DEVICE_AUTH_JWKS_URI: z.url().optional(),
  // 0 = off. When set, device tokens must carry `iat` and be at most this old (on top of their own `exp`).
  DEVICE_AUTH_MAX_TOKEN_AGE_SECONDS: int(0, 0, 7 * 86_400),
  BACKOFFICE_AUTH_ISSUER: z.url().optional(),
  BACKOFFICE_AUTH_AUDIENCE: z.string().min(1).optional(),
  BACKOFFICE_AUTH_JWKS_URI: z.url().optional(),
  BACKOFFICE_AUTH_ROLE: z.string().min(1).default('LivenessSessions.Manage'),
  BACKOFFICE_ADMIN_KEY_ENABLED: bool(true),
  AUTH_ATTEMPT_LIMITS_ENABLED: bool(true),
  ATTEMPT_LIMIT_MAX_FAILURES: int(5, 1, 1000),
  ATTEMPT_LIMIT_WINDOW_SECONDS: int(180, 1, 86_400),
  ATTEMPT_LIMIT_LOCKOUT_SECONDS: int(1800, 1, 7 * 86_400),
  IDEMPOTENCY_TTL_SECONDS: int(86_400, 60, 7 * 86_400),
  DECISION_MATCH_THRESHOLD: num(0.8, 0, 1),
  DECISION_REVIEW_LOWER_BOUND: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1) {
      ctx.addIssue({ code: 'custom', message: 'must be a number from 0 to 1' });
      return z.NEVER;
    }
    return n;
  }),
  DECISION_POLICY_VERSION: z.string().min(1).max(64).optional(),
  WEBHOOK_URL: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined; // no webhook: no events are made
    return webhookUrl(v.trim(), ctx);
  }),
  WEBHOOK_SECRET: webhookSecret,
  WEBHOOK_SECRET_SECONDARY: webhookSecret,
  WEBHOOK_INCLUDE_SCORES: bool(false),
  WEBHOOK_TIMEOUT_MS: int(10_000, 100, 60_000),
  WEBHOOK_RETRY_BASE_SECONDS: num(10, 0, 3600),
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: num(14_400, 0, 7 * 86_400),
  WEBHOOK_RETRY_WINDOW_SECONDS: num(86_400, 0, 30 * 86_400),
  WEBHOOK_OUTBOX_RECOVERY_SECONDS: num(60, 0, 3600),
  // Device attestation (Microsoft's backend_samples protocol): see README "Attested mobile devices" and docs/deploy.md.
  LIVENESS_ATTESTATION_IOS: policy,
  LIVENESS_ATTESTATION_ANDROID: policy,
  ATTESTATION_IOS_APP_ID: text.refine((v) => v === undefined || /^[A-Z0-9]{10}\.[A-Za-z0-9.-]+$/.test(v), 'must be <Team ID>.<bundle id>'),
  ATTESTATION_IOS_APPLINK_APP_ID: text,
  ATTESTATION_IOS_APP_CLIP_ID: text,
  ATTESTATION_APPLE_ROOTS_PEM: pems(APPLE_APP_ATTESTATION_ROOT_CA),
  ATTESTATION_ANDROID_PACKAGE_NAME: text,
  ATTESTATION_ANDROID_SHA256_CERT_FINGERPRINTS: text,
  ATTESTATION_GOOGLE_ROOTS_PEM: pems(GOOGLE_HARDWARE_ATTESTATION_ROOTS),
  ATTESTATION_ANDROID_REVOCATION_URL: z.url().default('https://android.googleapis.com/attestation/status'),
  ATTESTATION_ANDROID_MIN_DEVICE_INTEGRITY: z.enum(['strong', 'device', 'basic']).default('strong'),
  ATTESTATION_PLAY_INTEGRITY_SERVICE_ACCOUNT_JSON: text,
  ATTESTATION_PLAY_INTEGRITY_DECRYPTION_KEY: text,
  ATTESTATION_PLAY_INTEGRITY_VERIFICATION_KEY: text,
  ATTESTATION_ALLOW_DEVELOPMENT_BUILDS: bool(false),
  ATTESTATION_DEVICE_TTL_DAYS: int(7, 1, 365),
  ATTESTATION_APPLINK_PATH: z.string().regex(/^\/[\x21-\x7e]*$/, 'must be a path such as /native*').default('/native*'),
  SUBJECT_KEY_SECRET: z.string().min(16, 'must be at least 16 characters')
    // An unresolved Key Vault reference (the secret is missing, or the identity may not read it) arrives as its text.
    .refine((v) => !v.startsWith('@Microsoft.KeyVault('), 'is an unresolved Key Vault reference: create the secret (scripts/ensure-secrets.sh) and check the app identity can read it')
    .optional(),
  SUBJECT_DEVICE_REFERENCE_ALLOWED: bool(true),
  CONSENT_REQUIRED: bool(true),
  CONSENT_CURRENT_VERSION: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 printable ASCII characters without spaces').default(DEFAULT_CONSENT_VERSION),
  CONSENT_TEXTS_JSON: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return DEFAULT_CONSENT_TEXTS;
    let json: unknown;
    try { json = JSON.parse(v); } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of { version, publishedDate, text }' });
      return z.NEVER;
    }
    const parsed = consentTextSchema.safeParse(json);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `must be a JSON array of { version, publishedDate, text }: ${parsed.error.issues[0]?.message}` });
      return z.NEVER;
    }
    return parsed.data;
  }),
});

/**
 * Used when SUBJECT_KEY_SECRET is unset (local runs). Subject keys are then still keyed hashes, but of a public
 * key: set a secret of your own in any deployment that holds real people's data, once, and never change it.
 */
export const DEV_SUBJECT_KEY_SECRET = 'face-liveness-functions/dev-subject-key';

export type StorageConnection =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; blobServiceUri: string; queueServiceUri: string; tableServiceUri: string; clientId?: string };

export interface FaceSettings {
  endpoint: string;
  /** Key auth when set (local and emulator); Entra ID via DefaultAzureCredential otherwise. */
  apiKey?: string;
  /** Client id of a user-assigned managed identity (Entra ID auth, no key). */
  clientId?: string;
  timeoutMs: number;
  maxRetries: number;
  /** Total time a call may spend retrying before it gives up. */
  retryBudgetMs: number;
}

export interface AppConfig {
  storage: StorageConnection;
  face: FaceSettings;
  liveness: {
    /** The least strict mode a session may use (a device may ask for a stricter one). */
    operationMode: LivenessOperationMode;
    /** The default and the longest token lifetime a device may ask for. */
    authTokenTtlSeconds: number;
    /** Whether Face keeps a session image (capture evidence); when on, a device cannot turn it off. */
    enableSessionImage: boolean;
    quota: { maxOpenSessions: number; maxCreates: number; windowSeconds: number };
    deleteFaceSessionAfterCollect: boolean;
    collectMaxTries: number;
    collectBackoffSeconds: number;
    collectMaxBackoffSeconds: number;
    imageRetentionHours: number;
    recordRetentionDays: number;
    sweepSchedule: string;
    sweepPageSize: number;
    sweepConcurrency: number;
  };
  /** The webhook queue is `<completion queue>-webhooks` (its trigger's binding derives it the same way). */
  names: { tablePrefix: string; container: string; completionQueue: string; webhookQueue: string };
  auth: {
    device: { issuer: string; audience: string; jwksUri?: string };
    /** Entra ID (or another OIDC issuer) for the /api/backoffice routes; absent = those routes refuse everyone. */
    backOffice?: { issuer: string; audience: string; jwksUri?: string; role: string };
    /** Lockouts after failed checks, and per-subject quotas (off only for benchmarks and load tests). */
    attemptLimits: { enabled: boolean; maxFailures: number; windowSeconds: number; lockoutSeconds: number };
    /** Whether the back office may use the Functions admin key (local runs); off in Azure, where Entra ID is the way. */
    adminKeyEnabled: boolean;
    idempotencyTtlSeconds: number;
  };
  decision: { matchThreshold: number; reviewLowerBound?: number; version?: string };
  abandonedCreateSeconds: number;
  webhooks: {
    /** Absent: webhooks are off (no events are made; the delivery trigger dead-letters anything left in its queue). */
    url?: string;
    /** The current secret first; a second one during rotation (both signatures are sent). */
    secrets: string[];
    includeScores: boolean;
    timeoutMs: number;
    retryBaseSeconds: number;
    retryMaxDelaySeconds: number;
    retryWindowSeconds: number;
    outboxRecoverySeconds: number;
  };
  subjects: {
    /** The HMAC key of subject keys (see DEV_SUBJECT_KEY_SECRET). */
    keySecret: string;
    deviceReferenceAllowed: boolean;
    consentRequired: boolean;
    currentConsentVersion: string;
    consentVersions: ConsentText[];
  };
  attestation: {
    policy: Record<AttestedPlatform, AttestationPolicy>;
    ios?: { appId: string; rootsPem: string[] };
    android?: {
      packageName: string; rootsPem: string[]; revocationUrl: string; minimumDeviceIntegrity: 'strong' | 'device' | 'basic';
      /** Google's decodeIntegrityToken API (the sample's way), or local decryption with the Play Console's keys. */
      playIntegrity: { mode: 'google'; serviceAccountJson: string } | { mode: 'local'; decryptionKey: string; verificationKey: string };
    };
    allowDevelopmentBuilds: boolean;
    deviceTtlSeconds: number;
    appLinks: { iosAppIds: string[]; iosAppClipId?: string; path: string; androidPackageName?: string; androidFingerprints: string[] };
  };
}

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid app settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}${env[String(i.path[0])] === undefined ? ' (missing)' : ''}`);
  if (!parsed.success) throw new ConfigurationError(problems);
  const e = parsed.data;

  let storage: StorageConnection;
  if (e.AzureWebJobsStorage) {
    storage = { kind: 'connectionString', connectionString: e.AzureWebJobsStorage };
  } else if (e.AzureWebJobsStorage__blobServiceUri && e.AzureWebJobsStorage__queueServiceUri && e.AzureWebJobsStorage__tableServiceUri) {
    storage = {
      kind: 'identity',
      blobServiceUri: e.AzureWebJobsStorage__blobServiceUri,
      queueServiceUri: e.AzureWebJobsStorage__queueServiceUri,
      tableServiceUri: e.AzureWebJobsStorage__tableServiceUri,
      clientId: e.AzureWebJobsStorage__clientId,
    };
  } else {
    throw new ConfigurationError([
      'AzureWebJobsStorage: set a connection string (local), or AzureWebJobsStorage__blobServiceUri, __queueServiceUri and __tableServiceUri (identity-based, in Azure) (missing)',
    ]);
  }

  if ((e.BACKOFFICE_AUTH_ISSUER === undefined) !== (e.BACKOFFICE_AUTH_AUDIENCE === undefined)) {
    throw new ConfigurationError(['BACKOFFICE_AUTH_ISSUER and BACKOFFICE_AUTH_AUDIENCE: set both or neither']);
  }
  if (e.DECISION_REVIEW_LOWER_BOUND !== undefined && e.DECISION_REVIEW_LOWER_BOUND >= e.DECISION_MATCH_THRESHOLD) {
    throw new ConfigurationError(['DECISION_REVIEW_LOWER_BOUND: must be below DECISION_MATCH_THRESHOLD']);
  }
  if (e.WEBHOOK_URL && !e.WEBHOOK_SECRET) {
    throw new ConfigurationError(['WEBHOOK_SECRET: required when WEBHOOK_URL is set (whsec_ followed by base64 of 24 to 64 random bytes) (missing)']);
  }
  // The webhook queue and its poison queue (`<completion queue>-webhooks-poison`) must be valid queue names too.
  if (e.LIVENESS_COMPLETION_QUEUE.length > 63 - '-webhooks-poison'.length) {
    throw new ConfigurationError([`LIVENESS_COMPLETION_QUEUE: must be at most ${63 - '-webhooks-poison'.length} characters (the webhook queues append -webhooks-poison)`]);
  }
  if (!e.CONSENT_TEXTS_JSON.some((t) => t.version === e.CONSENT_CURRENT_VERSION)) {
    throw new ConfigurationError([`CONSENT_CURRENT_VERSION: '${e.CONSENT_CURRENT_VERSION}' is not one of the versions in CONSENT_TEXTS_JSON`]);
  }
  const attestationProblems: string[] = [];
  if (e.LIVENESS_ATTESTATION_IOS === 'required' && !e.ATTESTATION_IOS_APP_ID) attestationProblems.push('ATTESTATION_IOS_APP_ID: required when LIVENESS_ATTESTATION_IOS is required (missing)');
  const localIntegrity = e.ATTESTATION_PLAY_INTEGRITY_DECRYPTION_KEY && e.ATTESTATION_PLAY_INTEGRITY_VERIFICATION_KEY;
  if (e.LIVENESS_ATTESTATION_ANDROID === 'required' && (!e.ATTESTATION_ANDROID_PACKAGE_NAME || !(localIntegrity || e.ATTESTATION_PLAY_INTEGRITY_SERVICE_ACCOUNT_JSON))) {
    attestationProblems.push('ATTESTATION_ANDROID_PACKAGE_NAME and ATTESTATION_PLAY_INTEGRITY_SERVICE_ACCOUNT_JSON (or the two ATTESTATION_PLAY_INTEGRITY_*_KEY settings): required when LIVENESS_ATTESTATION_ANDROID is required (missing)');
  }
  if (attestationProblems.length) throw new ConfigurationError(attestationProblems);
  const prefix = e.LIVENESS_STORAGE_PREFIX ?? '';
  return Object.freeze({
    storage,
    face: {
      endpoint: e.FACE_ENDPOINT.replace(/\/+$/, ''),
      apiKey: e.FACE_API_KEY,
      clientId: e.FACE_CLIENT_ID ?? e.AzureWebJobsStorage__clientId,
      timeoutMs: e.FACE_TIMEOUT_MS,
      maxRetries: e.FACE_MAX_RETRIES,
      retryBudgetMs: e.FACE_RETRY_BUDGET_MS,
    },
    liveness: {
      operationMode: e.LIVENESS_OPERATION_MODE,
      authTokenTtlSeconds: e.LIVENESS_AUTH_TOKEN_TTL_SECONDS,
      enableSessionImage: e.LIVENESS_ENABLE_SESSION_IMAGE,
      quota: {
        maxOpenSessions: e.LIVENESS_MAX_OPEN_SESSIONS_PER_SUBJECT,
        maxCreates: e.LIVENESS_MAX_CREATES_PER_SUBJECT,
        windowSeconds: e.LIVENESS_CREATE_WINDOW_SECONDS,
      },
      deleteFaceSessionAfterCollect: e.LIVENESS_DELETE_FACE_SESSION_AFTER_COLLECT,
      collectMaxTries: e.LIVENESS_COLLECT_MAX_TRIES,
      collectBackoffSeconds: e.LIVENESS_COLLECT_BACKOFF_SECONDS,
      collectMaxBackoffSeconds: e.LIVENESS_COLLECT_MAX_BACKOFF_SECONDS,
      imageRetentionHours: e.LIVENESS_IMAGE_RETENTION_HOURS,
      recordRetentionDays: e.LIVENESS_RECORD_RETENTION_DAYS,
      sweepSchedule: e.LIVENESS_SWEEP_SCHEDULE,
      sweepPageSize: e.LIVENESS_SWEEP_PAGE_SIZE,
      sweepConcurrency: e.LIVENESS_SWEEP_CONCURRENCY,
    },
    names: {
      tablePrefix: prefix,
      container: `${prefix.toLowerCase()}liveness-images`,
      completionQueue: e.LIVENESS_COMPLETION_QUEUE,
      webhookQueue: `${e.LIVENESS_COMPLETION_QUEUE}-webhooks`,
    },
    auth: {
      device: {
        issuer: e.DEVICE_AUTH_ISSUER, audience: e.DEVICE_AUTH_AUDIENCE, jwksUri: e.DEVICE_AUTH_JWKS_URI,
        ...(e.DEVICE_AUTH_MAX_TOKEN_AGE_SECONDS > 0 ? { maxTokenAgeSeconds: e.DEVICE_AUTH_MAX_TOKEN_AGE_SECONDS } : {}),
      },
      ...(e.BACKOFFICE_AUTH_ISSUER && e.BACKOFFICE_AUTH_AUDIENCE ? {
        backOffice: {
          issuer: e.BACKOFFICE_AUTH_ISSUER, audience: e.BACKOFFICE_AUTH_AUDIENCE,
          jwksUri: e.BACKOFFICE_AUTH_JWKS_URI, role: e.BACKOFFICE_AUTH_ROLE,
        },
      } : {}),
      attemptLimits: {
        enabled: e.AUTH_ATTEMPT_LIMITS_ENABLED,
        maxFailures: e.ATTEMPT_LIMIT_MAX_FAILURES,
        windowSeconds: e.ATTEMPT_LIMIT_WINDOW_SECONDS,
        lockoutSeconds: e.ATTEMPT_LIMIT_LOCKOUT_SECONDS,
      },
      adminKeyEnabled: e.BACKOFFICE_ADMIN_KEY_ENABLED,
      idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    },
    decision: {
      matchThreshold: e.DECISION_MATCH_THRESHOLD,
      ...(e.DECISION_REVIEW_LOWER_BOUND !== undefined ? { reviewLowerBound: e.DECISION_REVIEW_LOWER_BOUND } : {}),
      ...(e.DECISION_POLICY_VERSION ? { version: e.DECISION_POLICY_VERSION } : {}),
    },
    abandonedCreateSeconds: e.LIVENESS_ABANDONED_CREATE_SECONDS,
    webhooks: {
      ...(e.WEBHOOK_URL ? { url: e.WEBHOOK_URL } : {}),
      secrets: [e.WEBHOOK_SECRET, e.WEBHOOK_SECRET_SECONDARY].filter((x): x is string => x !== undefined),
      includeScores: e.WEBHOOK_INCLUDE_SCORES,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseSeconds: e.WEBHOOK_RETRY_BASE_SECONDS,
      retryMaxDelaySeconds: e.WEBHOOK_RETRY_MAX_DELAY_SECONDS,
      retryWindowSeconds: e.WEBHOOK_RETRY_WINDOW_SECONDS,
      outboxRecoverySeconds: e.WEBHOOK_OUTBOX_RECOVERY_SECONDS,
    },
    subjects: {
      keySecret: e.SUBJECT_KEY_SECRET ?? DEV_SUBJECT_KEY_SECRET,
      deviceReferenceAllowed: e.SUBJECT_DEVICE_REFERENCE_ALLOWED,
      consentRequired: e.CONSENT_REQUIRED,
      currentConsentVersion: e.CONSENT_CURRENT_VERSION,
      consentVersions: e.CONSENT_TEXTS_JSON,
    },
    attestation: {
      policy: { ios: e.LIVENESS_ATTESTATION_IOS, android: e.LIVENESS_ATTESTATION_ANDROID },
      ...(e.ATTESTATION_IOS_APP_ID ? { ios: { appId: e.ATTESTATION_IOS_APP_ID, rootsPem: e.ATTESTATION_APPLE_ROOTS_PEM } } : {}),
      ...(e.ATTESTATION_ANDROID_PACKAGE_NAME && (localIntegrity || e.ATTESTATION_PLAY_INTEGRITY_SERVICE_ACCOUNT_JSON) ? {
        android: {
          packageName: e.ATTESTATION_ANDROID_PACKAGE_NAME, rootsPem: e.ATTESTATION_GOOGLE_ROOTS_PEM,
          revocationUrl: e.ATTESTATION_ANDROID_REVOCATION_URL, minimumDeviceIntegrity: e.ATTESTATION_ANDROID_MIN_DEVICE_INTEGRITY,
          playIntegrity: localIntegrity
            ? { mode: 'local' as const, decryptionKey: e.ATTESTATION_PLAY_INTEGRITY_DECRYPTION_KEY!, verificationKey: e.ATTESTATION_PLAY_INTEGRITY_VERIFICATION_KEY! }
            : { mode: 'google' as const, serviceAccountJson: e.ATTESTATION_PLAY_INTEGRITY_SERVICE_ACCOUNT_JSON! },
        },
      } : {}),
      allowDevelopmentBuilds: e.ATTESTATION_ALLOW_DEVELOPMENT_BUILDS,
      deviceTtlSeconds: e.ATTESTATION_DEVICE_TTL_DAYS * 86_400,
      appLinks: {
        iosAppIds: [e.ATTESTATION_IOS_APPLINK_APP_ID ?? e.ATTESTATION_IOS_APP_ID].filter((x): x is string => x !== undefined),
        ...(e.ATTESTATION_IOS_APP_CLIP_ID ? { iosAppClipId: e.ATTESTATION_IOS_APP_CLIP_ID } : {}),
        path: e.ATTESTATION_APPLINK_PATH,
        ...(e.ATTESTATION_ANDROID_PACKAGE_NAME ? { androidPackageName: e.ATTESTATION_ANDROID_PACKAGE_NAME } : {}),
        androidFingerprints: (e.ATTESTATION_ANDROID_SHA256_CERT_FINGERPRINTS ?? '').split(/[\s,]+/).filter(Boolean),
      },
    },
  });
}

let cached: AppConfig | undefined;
/** The process's config, parsed on first use. */
export function appConfig(): AppConfig {
  return (cached ??= parseConfig(process.env));
}
