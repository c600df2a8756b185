// App settings, parsed once at start and frozen. Every setting the code reads is declared here once (name, parsing,
// bounds, place in the config); the config types are the schemas' outputs. The README's configuration table and
// infra/ are kept in step with this file (test/unit/infra-settings.test.ts). Errors name each bad setting.
import { z } from 'zod';
import { ConfigurationError } from './errors.js';
import { parsePagesOrigin, unresolvedKeyVaultReferences } from './values.js';
import { APPLE_APP_ATTESTATION_ROOT_CA, GOOGLE_HARDWARE_ATTESTATION_ROOTS } from './attestation-roots.js';
import { LIVENESS_OPERATION_MODES } from '../core/vocabulary.js';
import { ABUSE_POLICIES, DIGEST_BINDINGS } from '../core/trust-signals.js';

/** The Face API versions the adapter speaks (v1.3-preview.1 adds abuse monitoring and client information). */
export const FACE_API_VERSIONS = ['v1.2', 'v1.3-preview.1'] as const;

const consentTextSchema = z.array(z.strictObject({
  version: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'version must be 1 to 64 printable ASCII characters without spaces'),
  publishedDate: z.iso.date(),
  text: z.string().min(1).max(10_000),
})).min(1);
/** A published consent text (CONSENT_TEXTS_JSON holds a list of them). */
export type ConsentText = z.output<typeof consentTextSchema>[number];

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

// Each setting is declared once, in one of the sections below: its variable name, how it is parsed and bounded, and
// where it lands in the config. A section's output type IS the config type of that part (there is no hand-written
// interface to keep in step); the core's settings are the `liveness` section's output, and whatever a core module
// needs is a Pick of it. Every section parses an environment that lacks all of its optional variables, so the test
// fakes build their settings by parsing an empty environment (`livenessSettingsSchema.parse({})`).

/** Storage: a connection string (local), or identity-based service URIs (Azure). */
const storageSection = z.object({
  AzureWebJobsStorage: z.string().optional(),
  AzureWebJobsStorage__blobServiceUri: z.url().optional(),
  AzureWebJobsStorage__queueServiceUri: z.url().optional(),
  AzureWebJobsStorage__tableServiceUri: z.url().optional(),
  AzureWebJobsStorage__clientId: z.string().optional(),
}).transform((e, ctx) => {
  if (e.AzureWebJobsStorage) return { kind: 'connectionString' as const, connectionString: e.AzureWebJobsStorage };
  if (e.AzureWebJobsStorage__blobServiceUri && e.AzureWebJobsStorage__queueServiceUri && e.AzureWebJobsStorage__tableServiceUri) {
    return {
      kind: 'identity' as const,
      blobServiceUri: e.AzureWebJobsStorage__blobServiceUri,
      queueServiceUri: e.AzureWebJobsStorage__queueServiceUri,
      tableServiceUri: e.AzureWebJobsStorage__tableServiceUri,
      ...(e.AzureWebJobsStorage__clientId ? { clientId: e.AzureWebJobsStorage__clientId } : {}),
    };
  }
  ctx.addIssue({
    code: 'custom', path: ['AzureWebJobsStorage'],
    message: 'set a connection string (local), or AzureWebJobsStorage__blobServiceUri, __queueServiceUri and __tableServiceUri (identity-based, in Azure) (missing)',
  });
  return z.NEVER;
});

/** The Face resource and how calls to it are bounded. */
const faceSection = z.object({
  FACE_ENDPOINT: z.url({ message: 'must be the Face resource endpoint, e.g. https://<name>.cognitiveservices.azure.com' }),
  // Empty counts as unset (Entra ID), as for WEBHOOK_URL: a test or a slot setting can switch the key off.
  FACE_API_KEY: z.string().optional().transform((v) => (v?.trim() ? v : undefined)),
  FACE_CLIENT_ID: z.string().optional(),
  AzureWebJobsStorage__clientId: z.string().optional(),
  FACE_TIMEOUT_MS: int(10_000, 100, 120_000),
  FACE_MAX_RETRIES: int(3, 0, 10),
  FACE_RETRY_BUDGET_MS: int(8_000, 0, 120_000),
  FACE_API_VERSION: z.enum(FACE_API_VERSIONS).default('v1.2'),
  FACE_ABUSE_MONITORING: bool(true),
}).transform((e) => ({
  endpoint: e.FACE_ENDPOINT.replace(/\/+$/, ''),
  /** Key auth when set (local and emulator); Entra ID via DefaultAzureCredential otherwise. */
  apiKey: e.FACE_API_KEY,
  /** Client id of a user-assigned managed identity (Entra ID auth, no key); the storage identity's by default. */
  clientId: e.FACE_CLIENT_ID ?? e.AzureWebJobsStorage__clientId,
  timeoutMs: e.FACE_TIMEOUT_MS,
  maxRetries: e.FACE_MAX_RETRIES,
  /** Total time a call may spend retrying before it gives up. */
  retryBudgetMs: e.FACE_RETRY_BUDGET_MS,
  /** v1.3-preview.1 adds abuse monitoring across per-user correlation ids, client IPs and server-set attempts. */
  apiVersion: e.FACE_API_VERSION,
  /** v1.3: turn abuse monitoring on at the Face resource (once per instance, before its first create). */
  abuseMonitoring: e.FACE_ABUSE_MONITORING,
}));

const optionalUnitInterval = z.string().optional().transform((v, ctx) => {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    ctx.addIssue({ code: 'custom', message: 'must be a number from 0 to 1' });
    return z.NEVER;
  }
  return n;
});

const consentTextsJson = z.string().optional().transform((v, ctx) => {
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
});

/**
 * One entry of VERIFICATION_RETURN_URLS: an absolute https URL (http only to a loopback host), no user info, query or
 * fragment. A returnUrl matches it when scheme, host and port are equal and its path is the entry's or below it.
 */
export interface ReturnUrlEntry { origin: string; path: string }

const returnUrlList = z.string().optional().transform((v, ctx): ReturnUrlEntry[] => {
  const entries: ReturnUrlEntry[] = [];
  for (const item of (v ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    let url: URL;
    try { url = new URL(item); } catch {
      ctx.addIssue({ code: 'custom', message: `'${item.slice(0, 80)}' is not an absolute URL` });
      return z.NEVER;
    }
    const secure = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
    if (!secure || url.username || url.password || url.search || url.hash) {
      ctx.addIssue({ code: 'custom', message: `'${item.slice(0, 80)}' must be https (http only to a loopback host), without user info, query or fragment` });
      return z.NEVER;
    }
    entries.push({ origin: url.origin, path: url.pathname });
  }
  return entries;
});

/** The core's settings (src/core/deps.ts LivenessSettings is this section's output). */
export const livenessSettingsSchema = z.object({
  LIVENESS_OPERATION_MODE: z.enum(LIVENESS_OPERATION_MODES).default('Passive'),
  LIVENESS_AUTH_TOKEN_TTL_SECONDS: int(600, 60, 86_400),
  LIVENESS_ENABLE_SESSION_IMAGE: bool(true),
  LIVENESS_DELETE_FACE_SESSION_AFTER_COLLECT: bool(true),
  LIVENESS_COLLECT_MAX_TRIES: int(8, 1, 50),
  LIVENESS_COLLECT_BACKOFF_SECONDS: num(1, 0, 600),
  LIVENESS_COLLECT_MAX_BACKOFF_SECONDS: num(60, 0, 3600),
  LIVENESS_IMAGE_RETENTION_HOURS: num(0, 0, 24 * 365 * 10),
  LIVENESS_RECORD_RETENTION_DAYS: num(30, 0, 365 * 10),
  LIVENESS_SWEEP_PAGE_SIZE: int(100, 1, 1000),
  LIVENESS_SWEEP_CONCURRENCY: int(8, 1, 64),
  LIVENESS_ABANDONED_CREATE_SECONDS: int(600, 60, 86_400),
  IDEMPOTENCY_TTL_SECONDS: int(86_400, 60, 7 * 86_400),
  DECISION_MATCH_THRESHOLD: num(0.8, 0, 1),
  DECISION_REVIEW_LOWER_BOUND: optionalUnitInterval,
  DECISION_POLICY_VERSION: z.string().min(1).max(64).optional(),
  WEBHOOK_INCLUDE_SCORES: bool(false),
  WEBHOOK_OUTBOX_RECOVERY_SECONDS: num(60, 0, 3600),
  SUBJECT_DEVICE_REFERENCE_ALLOWED: bool(true),
  CONSENT_REQUIRED: bool(true),
  CONSENT_CURRENT_VERSION: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 printable ASCII characters without spaces').default(DEFAULT_CONSENT_VERSION),
  CONSENT_TEXTS_JSON: consentTextsJson,
  LIVENESS_CLIENT_ATTEMPTS: int(1, 1, 3),
  LIVENESS_ABUSE_POLICY: z.enum(ABUSE_POLICIES).default('review'),
  LIVENESS_DIGEST_BINDING: z.enum(DIGEST_BINDINGS).default('optional'),
  WEBHOOK_ATTEMPT_RETENTION_DAYS: num(30, 0, 3650),
  SUBJECT_IDLE_ERASURE_DAYS: int(1095, 1, 3650),
  LIVENESS_ATTESTATION_IOS: z.enum(['off', 'required']).default('off'),
  LIVENESS_ATTESTATION_ANDROID: z.enum(['off', 'required']).default('off'),
  VERIFICATION_LINK_TTL_MINUTES: num(15, 0.05, 7 * 24 * 60),
  VERIFICATION_ACCESS_TTL_MINUTES: num(20, 0.05, 24 * 60),
  VERIFICATION_RETURN_URLS: returnUrlList,
  FACE_QUICK_LINK: z.enum(['off', 'on']).default('off'),
  FACE_QUICK_LINK_ENDPOINT: z.url().default('https://liveness.face.azure.com'),
}).superRefine((e, ctx) => {
  if (e.DECISION_REVIEW_LOWER_BOUND !== undefined && e.DECISION_REVIEW_LOWER_BOUND >= e.DECISION_MATCH_THRESHOLD) {
    ctx.addIssue({ code: 'custom', path: ['DECISION_REVIEW_LOWER_BOUND'], message: 'must be below DECISION_MATCH_THRESHOLD' });
  }
  if (!e.CONSENT_TEXTS_JSON.some((t) => t.version === e.CONSENT_CURRENT_VERSION)) {
    ctx.addIssue({ code: 'custom', path: ['CONSENT_CURRENT_VERSION'], message: `'${e.CONSENT_CURRENT_VERSION}' is not one of the versions in CONSENT_TEXTS_JSON` });
  }
}).transform((e) => ({
  /** The least strict liveness mode a session may use; a device may ask only for a stricter one. */
  operationMode: e.LIVENESS_OPERATION_MODE,
  /** The default token lifetime, and the longest a device may ask for. */
  authTokenTtlSeconds: e.LIVENESS_AUTH_TOKEN_TTL_SECONDS,
  /** Whether Face keeps a session image as capture evidence; when on, a device cannot turn it off. */
  enableSessionImage: e.LIVENESS_ENABLE_SESSION_IMAGE,
  deleteFaceSessionAfterCollect: e.LIVENESS_DELETE_FACE_SESSION_AFTER_COLLECT,
  collectMaxTries: e.LIVENESS_COLLECT_MAX_TRIES,
  collectBackoffSeconds: e.LIVENESS_COLLECT_BACKOFF_SECONDS,
  collectMaxBackoffSeconds: e.LIVENESS_COLLECT_MAX_BACKOFF_SECONDS,
  imageRetentionHours: e.LIVENESS_IMAGE_RETENTION_HOURS,
  recordRetentionDays: e.LIVENESS_RECORD_RETENTION_DAYS,
  /**
   * How long after an event was written to the outbox the sweep picks it up if it is still there (the writer enqueues
   * it at once; only a crash or a queue outage leaves it).
   */
  eventRecoverySeconds: e.WEBHOOK_OUTBOX_RECOVERY_SECONDS,
  sweepPageSize: e.LIVENESS_SWEEP_PAGE_SIZE,
  sweepConcurrency: e.LIVENESS_SWEEP_CONCURRENCY,
  /** A session row still Creating this long after it was written belongs to a create that never finished. */
  abandonedCreateSeconds: e.LIVENESS_ABANDONED_CREATE_SECONDS,
  /** How long an Idempotency-Key is remembered. */
  idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
  policy: {
    /** Minimum matchConfidence for a pass. */
    matchThreshold: e.DECISION_MATCH_THRESHOLD,
    /** Confidence in [reviewLowerBound, matchThreshold) is flagged for a person to review; absent = no band. */
    ...(e.DECISION_REVIEW_LOWER_BOUND !== undefined ? { reviewLowerBound: e.DECISION_REVIEW_LOWER_BOUND } : {}),
    /** Explicit version label; default: derived from the settings, so a change of policy changes the version. */
    ...(e.DECISION_POLICY_VERSION ? { version: e.DECISION_POLICY_VERSION } : {}),
  } as { matchThreshold: number; reviewLowerBound?: number; version?: string },
  /** Whether events carry the scores (liveness decision, match confidence); off unless the relying party needs them. */
  eventsIncludeScores: e.WEBHOOK_INCLUDE_SCORES,
  /** Client attempts one session token allows (Face v1.3 numberOfClientAttemptsAllowed; v1.2 has its own 3). */
  clientAttempts: e.LIVENESS_CLIENT_ATTEMPTS,
  /** Digest binding (off | optional | required) and what a session Face abuse monitoring flagged leads to. */
  trust: { digestBinding: e.LIVENESS_DIGEST_BINDING, abusePolicy: e.LIVENESS_ABUSE_POLICY },
  privacy: {
    /** Whether a create must carry the consent version the person agreed to. */
    consentRequired: e.CONSENT_REQUIRED,
    currentConsentVersion: e.CONSENT_CURRENT_VERSION,
    consentVersions: e.CONSENT_TEXTS_JSON,
    /** Whether a device may bring its own verify image when the subject has no enrolled reference. */
    deviceReferenceAllowed: e.SUBJECT_DEVICE_REFERENCE_ALLOWED,
  },
  /** How long webhook delivery attempts are kept (days); the sweep deletes older ones by key range. */
  deliveryAttemptRetentionDays: e.WEBHOOK_ATTEMPT_RETENTION_DAYS as number | undefined,
  /** A subject with no interaction for this long is erased by the sweep (days; BIPA: within three years). */
  subjectIdleErasureDays: e.SUBJECT_IDLE_ERASURE_DAYS as number | undefined,
  /** Per platform: `required` holds a session's token back for the device-attestation protocol. */
  attestationPolicy: { ios: e.LIVENESS_ATTESTATION_IOS, android: e.LIVENESS_ATTESTATION_ANDROID },
  /** Verification links (relying parties): lifetimes, where the page may send the person back to, Quick Link. */
  verifications: {
    linkTtlSeconds: Math.round(e.VERIFICATION_LINK_TTL_MINUTES * 60),
    accessTtlSeconds: Math.round(e.VERIFICATION_ACCESS_TTL_MINUTES * 60),
    returnUrls: e.VERIFICATION_RETURN_URLS,
    /** on: a link session runs on Face's hosted Quick Link page instead of ours. */
    quickLink: e.FACE_QUICK_LINK === 'on',
    quickLinkEndpoint: e.FACE_QUICK_LINK_ENDPOINT.replace(/\/+$/, ''),
  },
}));

const queueName = z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,55}[a-z0-9]$/, 'must be a valid queue name (lower-case letters, digits, single hyphens)');
/** The webhook queue and its poison queue (`<completion queue>-webhooks-poison`) must be valid queue names too. */
const MAX_COMPLETION_QUEUE_LENGTH = 63 - '-webhooks-poison'.length;

/** Names of the storage resources. The webhook queue is `<completion queue>-webhooks` (its trigger's binding derives it the same way). */
const namesSection = z.object({
  LIVENESS_STORAGE_PREFIX: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,19}$/, 'must be letters and digits, starting with a letter, at most 20').optional(),
  LIVENESS_COMPLETION_QUEUE: queueName.max(MAX_COMPLETION_QUEUE_LENGTH, `must be at most ${MAX_COMPLETION_QUEUE_LENGTH} characters (the webhook queues append -webhooks-poison)`).default('liveness-completions'),
  // Read by the host for the timer trigger (%LIVENESS_SWEEP_SCHEDULE%); checked here so a typo fails at start.
  LIVENESS_SWEEP_SCHEDULE: z.string().min(1).default('0 */5 * * * *'),
}).transform((e) => {
  const prefix = e.LIVENESS_STORAGE_PREFIX ?? '';
  return {
    tablePrefix: prefix,
    container: `${prefix.toLowerCase()}liveness-images`,
    completionQueue: e.LIVENESS_COMPLETION_QUEUE,
    webhookQueue: `${e.LIVENESS_COMPLETION_QUEUE}-webhooks`,
    sweepSchedule: e.LIVENESS_SWEEP_SCHEDULE,
  };
});

/** Lockouts after failed checks, and per-subject quotas (off only for benchmarks and load tests). */
const limitsSection = z.object({
  AUTH_ATTEMPT_LIMITS_ENABLED: bool(true),
  ATTEMPT_LIMIT_MAX_FAILURES: int(5, 1, 1000),
  ATTEMPT_LIMIT_WINDOW_SECONDS: int(180, 1, 86_400),
  ATTEMPT_LIMIT_LOCKOUT_SECONDS: int(1800, 1, 7 * 86_400),
  LIVENESS_MAX_OPEN_SESSIONS_PER_SUBJECT: int(3, 1, 1000),
  LIVENESS_MAX_CREATES_PER_SUBJECT: int(10, 1, 100_000),
  LIVENESS_CREATE_WINDOW_SECONDS: int(3600, 1, 7 * 86_400),
}).transform((e) => ({
  enabled: e.AUTH_ATTEMPT_LIMITS_ENABLED,
  attempts: { maxFailures: e.ATTEMPT_LIMIT_MAX_FAILURES, windowSeconds: e.ATTEMPT_LIMIT_WINDOW_SECONDS, lockoutSeconds: e.ATTEMPT_LIMIT_LOCKOUT_SECONDS },
  quota: { maxOpenSessions: e.LIVENESS_MAX_OPEN_SESSIONS_PER_SUBJECT, maxCreates: e.LIVENESS_MAX_CREATES_PER_SUBJECT, windowSeconds: e.LIVENESS_CREATE_WINDOW_SECONDS },
}));

/** Who may call: device tokens, the back office's Entra ID (or other OIDC) tokens, and the admin key. */
const authSection = z.object({
  DEVICE_AUTH_ISSUER: z.url({ message: "must be the device identity provider's OIDC issuer URL" }),
  DEVICE_AUTH_AUDIENCE: z.string().min(1, 'must be the audience device tokens are issued for'),
  DEVICE_AUTH_JWKS_URI: z.url().optional(),
  // 0 = off. When set, device tokens must carry `iat` and be at most this old (on top of their own `exp`).
  DEVICE_AUTH_MAX_TOKEN_AGE_SECONDS: int(0, 0, 7 * 86_400),
  BACKOFFICE_AUTH_ISSUER: z.url().optional(),
  BACKOFFICE_AUTH_AUDIENCE: z.string().min(1).optional(),
  BACKOFFICE_AUTH_JWKS_URI: z.url().optional(),
  BACKOFFICE_AUTH_ROLE: z.string().min(1).default('LivenessSessions.Manage'),
  VERIFICATIONS_AUTH_ROLE: z.string().min(1).default('Verifications.Create'),
  BACKOFFICE_ADMIN_KEY_ENABLED: bool(true),
}).superRefine((e, ctx) => {
  if ((e.BACKOFFICE_AUTH_ISSUER === undefined) !== (e.BACKOFFICE_AUTH_AUDIENCE === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['BACKOFFICE_AUTH_ISSUER and BACKOFFICE_AUTH_AUDIENCE'], message: 'set both or neither' });
  }
}).transform((e) => ({
  device: {
    issuer: e.DEVICE_AUTH_ISSUER, audience: e.DEVICE_AUTH_AUDIENCE, jwksUri: e.DEVICE_AUTH_JWKS_URI,
    ...(e.DEVICE_AUTH_MAX_TOKEN_AGE_SECONDS > 0 ? { maxTokenAgeSeconds: e.DEVICE_AUTH_MAX_TOKEN_AGE_SECONDS } : {}),
  },
  /** Entra ID (or another OIDC issuer) for the /api/backoffice routes; absent = those routes refuse everyone. */
  ...(e.BACKOFFICE_AUTH_ISSUER && e.BACKOFFICE_AUTH_AUDIENCE ? {
    backOffice: { issuer: e.BACKOFFICE_AUTH_ISSUER, audience: e.BACKOFFICE_AUTH_AUDIENCE, jwksUri: e.BACKOFFICE_AUTH_JWKS_URI, role: e.BACKOFFICE_AUTH_ROLE },
    /** Relying parties (POST /verifications): the same issuer and audience, another app role. */
    relyingParty: { issuer: e.BACKOFFICE_AUTH_ISSUER, audience: e.BACKOFFICE_AUTH_AUDIENCE, jwksUri: e.BACKOFFICE_AUTH_JWKS_URI, role: e.VERIFICATIONS_AUTH_ROLE },
  } : {}),
  /** Whether the back office may use the Functions admin key (local runs); off in Azure, where Entra ID is the way. */
  adminKeyEnabled: e.BACKOFFICE_ADMIN_KEY_ENABLED,
}));

/** Relying-party events: the receiver, its signing secrets, and delivery. */
export const webhookSettingsSchema = z.object({
  WEBHOOK_URL: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined; // no webhook: no events are made
    return webhookUrl(v.trim(), ctx);
  }),
  WEBHOOK_SECRET: webhookSecret,
  WEBHOOK_SECRET_SECONDARY: webhookSecret,
  WEBHOOK_TIMEOUT_MS: int(10_000, 100, 60_000),
  WEBHOOK_RETRY_BASE_SECONDS: num(10, 0, 3600),
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: num(14_400, 0, 7 * 86_400),
  WEBHOOK_RETRY_WINDOW_SECONDS: num(86_400, 0, 30 * 86_400),
}).superRefine((e, ctx) => {
  if (e.WEBHOOK_URL && !e.WEBHOOK_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'required when WEBHOOK_URL is set (whsec_ followed by base64 of 24 to 64 random bytes) (missing)' });
  }
}).transform((e) => ({
  /** Absent: webhooks are off (no events are made; the delivery trigger dead-letters anything left in its queue). */
  ...(e.WEBHOOK_URL ? { url: e.WEBHOOK_URL } : {}),
  /** The current secret first; a second one during rotation (both signatures are sent). */
  secrets: [e.WEBHOOK_SECRET, e.WEBHOOK_SECRET_SECONDARY].filter((x): x is string => x !== undefined),
  timeoutMs: e.WEBHOOK_TIMEOUT_MS,
  /** The delivery trigger's retry schedule (src/core/webhook-delivery.ts). */
  retry: {
    retryBaseSeconds: e.WEBHOOK_RETRY_BASE_SECONDS,
    retryMaxDelaySeconds: e.WEBHOOK_RETRY_MAX_DELAY_SECONDS,
    retryWindowSeconds: e.WEBHOOK_RETRY_WINDOW_SECONDS,
  },
}));

/** Subject keys: the HMAC key (see DEV_SUBJECT_KEY_SECRET). */
const subjectsSection = z.object({
  // An unresolved Key Vault reference arrives as its own text: parseConfig refuses it by name before this runs.
  SUBJECT_KEY_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
}).transform((e) => ({ keySecret: e.SUBJECT_KEY_SECRET ?? DEV_SUBJECT_KEY_SECRET }));

/** The evidence log's checkpoint signing key: a Key Vault key (Azure), else key files generated locally on first use. */
const evidenceSection = z.object({
  EVIDENCE_KEY_URL: z.url().refine((v) => /^https:\/\/[^/]+\/keys\/[^/]+\/?$/.test(v), 'must be https://<vault>.vault.azure.net/keys/<name> (no version)').optional(),
  EVIDENCE_LOCAL_KEY_DIR: z.string().min(1).default('.evidence-keys'),
}).transform((e) => ({ ...(e.EVIDENCE_KEY_URL ? { keyUrl: e.EVIDENCE_KEY_URL } : {}), localKeyDir: e.EVIDENCE_LOCAL_KEY_DIR }));

/** The pages' origin: the one origin whose CORS preflights the app answers itself (src/functions/cors-preflight.ts). */
const pagesSection = z.object({
  PAGES_ORIGIN: z.string().optional().transform((v, ctx) => {
    const origin = parsePagesOrigin(v);
    if (origin === null) {
      ctx.addIssue({ code: 'custom', message: 'must be an origin: scheme://host[:port], no path' });
      return z.NEVER;
    }
    return origin;
  }),
}).transform((e) => ({ ...(e.PAGES_ORIGIN ? { origin: e.PAGES_ORIGIN } : {}) }));


/**
 * Used when SUBJECT_KEY_SECRET is unset (local runs). Subject keys are then still keyed hashes, but of a public
 * key: set a secret of your own in any deployment that holds real people's data, once, and never change it.
 */
export const DEV_SUBJECT_KEY_SECRET = 'face-liveness-functions/dev-subject-key';

const text = z.string().optional().transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const pems = (fallback: string) => z.string().optional().transform((v, ctx) => {
  const found = (v?.trim() ? v : fallback).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (found.length === 0) ctx.addIssue({ code: 'custom', message: 'must hold one or more PEM certificates' });
  return found;
});

/**
 * Device attestation (Microsoft's backend_samples protocol; README "Security", docs/deploy.md "Attested mobile
 * apps"): the app identities, trusted roots and Play Integrity access. The per-platform policy is in the liveness
 * section (the core decides with it); the composition root refuses a `required` platform without its verifier.
 */
const attestationSection = z.object({
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
  // Verification links (`<PAGES_ORIGIN>/device/?verification=<id>#link=<token>`) open the app too where it handles
  // them; `off` keeps them in the browser (the device page) on iOS. Android decides in the app's manifest.
  ATTESTATION_APPLINK_VERIFICATION_PATH: z.string().regex(/^(off|\/[\x21-\x7e]*)$/, 'must be a path such as /device/* or off').default('/device/*'),
}).transform((e) => {
  const local = e.ATTESTATION_PLAY_INTEGRITY_DECRYPTION_KEY && e.ATTESTATION_PLAY_INTEGRITY_VERIFICATION_KEY
    ? { mode: 'local' as const, decryptionKey: e.ATTESTATION_PLAY_INTEGRITY_DECRYPTION_KEY, verificationKey: e.ATTESTATION_PLAY_INTEGRITY_VERIFICATION_KEY }
    : undefined;
  const playIntegrity = local ?? (e.ATTESTATION_PLAY_INTEGRITY_SERVICE_ACCOUNT_JSON
    ? { mode: 'google' as const, serviceAccountJson: e.ATTESTATION_PLAY_INTEGRITY_SERVICE_ACCOUNT_JSON } : undefined);
  return {
    /** Absent: iOS cannot be attested (a `required` policy for it is refused at start). */
    ...(e.ATTESTATION_IOS_APP_ID ? { ios: { appId: e.ATTESTATION_IOS_APP_ID, rootsPem: e.ATTESTATION_APPLE_ROOTS_PEM } } : {}),
    /** Absent: Android cannot be attested (no package name, or no way to read Play Integrity verdicts). */
    ...(e.ATTESTATION_ANDROID_PACKAGE_NAME && playIntegrity ? {
      android: {
        packageName: e.ATTESTATION_ANDROID_PACKAGE_NAME, rootsPem: e.ATTESTATION_GOOGLE_ROOTS_PEM,
        revocationUrl: e.ATTESTATION_ANDROID_REVOCATION_URL, minimumDeviceIntegrity: e.ATTESTATION_ANDROID_MIN_DEVICE_INTEGRITY,
        /** Google's decodeIntegrityToken API (the sample's way), or local decryption with the Play Console's keys. */
        playIntegrity,
      },
    } : {}),
    allowDevelopmentBuilds: e.ATTESTATION_ALLOW_DEVELOPMENT_BUILDS,
    deviceTtlSeconds: e.ATTESTATION_DEVICE_TTL_DAYS * 86_400,
    appLinks: {
      iosAppIds: [e.ATTESTATION_IOS_APPLINK_APP_ID ?? e.ATTESTATION_IOS_APP_ID].filter((x): x is string => x !== undefined),
      ...(e.ATTESTATION_IOS_APP_CLIP_ID ? { iosAppClipId: e.ATTESTATION_IOS_APP_CLIP_ID } : {}),
      path: e.ATTESTATION_APPLINK_PATH,
      ...(e.ATTESTATION_APPLINK_VERIFICATION_PATH !== 'off' ? { verificationPath: e.ATTESTATION_APPLINK_VERIFICATION_PATH } : {}),
      ...(e.ATTESTATION_ANDROID_PACKAGE_NAME ? { androidPackageName: e.ATTESTATION_ANDROID_PACKAGE_NAME } : {}),
      androidFingerprints: (e.ATTESTATION_ANDROID_SHA256_CERT_FINGERPRINTS ?? '').split(/[\s,]+/).filter(Boolean),
    },
  };
});

/** The config, section by section; each section is parsed from the whole environment. */
const sections = {
  storage: storageSection,
  face: faceSection,
  liveness: livenessSettingsSchema,
  names: namesSection,
  limits: limitsSection,
  auth: authSection,
  webhooks: webhookSettingsSchema,
  subjects: subjectsSection,
  evidence: evidenceSection,
  attestation: attestationSection,
  pages: pagesSection,
} as const;

/** Every setting name the app reads, from the sections' own shapes (infra and docs are checked against this list). */
export function settingNames(): string[] {
  const names = new Set<string>();
  for (const section of Object.values(sections)) {
    let schema: unknown = section;
    // A section is an object schema, possibly refined, then piped into its transform.
    while (schema && typeof schema === 'object' && !('shape' in schema) && 'in' in schema) schema = (schema as { in: unknown }).in;
    for (const name of Object.keys((schema as z.ZodObject).shape)) names.add(name);
  }
  return [...names].sort();
}

export type AppConfig = { readonly [K in keyof typeof sections]: z.output<(typeof sections)[K]> };
/** The core's settings (what a core module needs is a Pick of this). */
export type LivenessSettings = AppConfig['liveness'];
export type AttemptLimitSettings = AppConfig['limits']['attempts'];
export type QuotaSettings = AppConfig['limits']['quota'];
export type WebhookRetrySettings = AppConfig['webhooks']['retry'];

export { ConfigurationError, parsePagesOrigin, unresolvedKeyVaultReferences };

export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const unresolved = unresolvedKeyVaultReferences(env);
  if (unresolved.length > 0) {
    throw new ConfigurationError(unresolved.map((name) => `${name}: is an unresolved Key Vault reference: create the secret (the postprovision hook, scripts/hooks/postprovision.mjs) and check the app identity can read it`));
  }
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(sections)) {
    const parsed = (schema as z.ZodType).safeParse(env);
    if (parsed.success) config[name] = parsed.data;
    else {
      problems.push(...parsed.error.issues.map((i) =>
        `${i.path.join('.') || '(settings)'}: ${i.message}${i.code !== 'custom' && env[String(i.path[0])] === undefined ? ' (missing)' : ''}`));
    }
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  return Object.freeze(config) as AppConfig;
}

let cached: AppConfig | undefined;
/** The process's config, parsed on first use. */
export function appConfig(): AppConfig {
  return (cached ??= parseConfig(process.env));
}
