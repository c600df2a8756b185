// Everything a use case or a handler needs, made of fakes: `fakeWorld()` for the core's LivenessDeps, `fakeServices()`
// for a handler's AppServices (with fake token verifiers). Settings default to the app's own defaults
// (src/config/config.ts parsing an empty environment; the composition root hands the parsed section to the core), except where a test asks
// otherwise: consent required at the shipped consent version, a device may bring its own verify image, webhooks off
// (no event queue, so no events are made) unless a test turns them on.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppServices, TokenVerifier } from '../../src/composition.js';
import { livenessSettingsSchema, parseConfig, webhookSettingsSchema } from '../../src/config/config.js';
import { attemptLimiter, type AttemptLimitPolicy } from '../../src/core/attempt-limits.js';
import { idempotencyStore } from '../../src/core/idempotency.js';
import type { AttemptLimiter, IdempotencyStore, SubjectQuota, SubjectRows } from '../../src/core/ports.js';
import { subjectQuota, type QuotaPolicy } from '../../src/core/quota.js';
import { subjectRows } from '../../src/core/subject-rows.js';
import type { LivenessDeps, LivenessSettings } from '../../src/core/deps.js';
import { ForbiddenError, UnauthorizedError } from '../../src/core/errors.js';
import { HealthCache } from '../../src/shared/health-cache.js';
import { FakeClock } from './clock.js';
import { FakeFace } from './face.js';
import { CapturingLogger, RecordingMetrics } from './observability.js';
import { InMemorySessionRepository } from './session-repository.js';
import { inMemoryRecordStores, type InMemoryRecordStores } from './records.js';
import { InMemoryAuditLog, InMemoryCompletionQueue, InMemoryImageStore } from './stores.js';
import { MemorySubjects } from './subjects-memory.js';
import { InMemoryEvidenceLog, InMemorySubjectActivity, MemoryEvidenceSigner } from './evidence.js';
import { InMemoryDeliveryLog, InMemoryWebhookQueue, RecordingWebhookSender } from './webhooks.js';
import { InMemoryVerificationStore } from './verifications.js';
import { linkCaller } from '../../src/core/verifications.js';

/** The core's settings as the app parses them from an environment that sets none (src/config/config.ts). */
export const DEFAULT_SETTINGS: LivenessSettings = livenessSettingsSchema.parse({});

/** The lockout and quota policies as the app parses them from an environment that sets only what it must. */
const defaultLimits = parseConfig({
  AzureWebJobsStorage: 'UseDevelopmentStorage=true', FACE_ENDPOINT: 'http://127.0.0.1:7081',
  DEVICE_AUTH_ISSUER: 'http://127.0.0.1:7082', DEVICE_AUTH_AUDIENCE: 'api://x',
}).limits;
export const DEFAULT_LIMITS: AttemptLimitPolicy = defaultLimits.attempts;
export const DEFAULT_QUOTA: QuotaPolicy = defaultLimits.quota;

/** The webhook retry settings' defaults (WEBHOOK_RETRY_* in src/config/config.ts). */
export const DEFAULT_WEBHOOK_RETRY = webhookSettingsSchema.parse({}).retry;

export interface FakeWorld {
  face: FakeFace;
  sessions: InMemorySessionRepository;
  audit: InMemoryAuditLog;
  images: InMemoryImageStore;
  completions: InMemoryCompletionQueue;
  clock: FakeClock;
  logger: CapturingLogger;
  /** The core's lockout rules over `records.limits`. */
  limiter: AttemptLimiter;
  /** The core's quota rules over `records.quotas`. */
  quota: SubjectQuota;
  /** The core's Idempotency-Key rules over `records.idempotencyKeys`. */
  idempotency: IdempotencyStore;
  /** The stored per-subject records (storage only: peek, seed, hooks). */
  records: InMemoryRecordStores;
  metrics: RecordingMetrics;
  /** Subject records, consents, references, erasure state and receipts; keys are HMACs of the token subject. */
  subjects: MemorySubjects;
  /** The subject's rows in the limiter, the quota and the idempotency store (found by subject key). */
  subjectRows: SubjectRows;
  /** The webhook queue: new events land here when webhooks are on (`fakeWorld({ webhooks: true })`). */
  webhookQueue: InMemoryWebhookQueue;
  deliveryLog: InMemoryDeliveryLog;
  /** The receiver (used by webhook delivery only when webhooks are on). */
  receiver: RecordingWebhookSender;
  settings: LivenessSettings;
  /** The evidence log and its signer (evidence.ts). */
  evidence: InMemoryEvidenceLog;
  evidenceSigner: MemoryEvidenceSigner;
  /** When each subject last interacted (BIPA expiry). */
  activity: InMemorySubjectActivity;
  /** Verifications (relying parties' checks by link). */
  verifications: InMemoryVerificationStore;
  /** The same fakes, as the core sees them. */
  deps: LivenessDeps;
}

export interface FakeWorldOptions {
  settings?: Partial<LivenessSettings>;
  limits?: AttemptLimitPolicy;
  quota?: QuotaPolicy;
  now?: string;
  /** Whether a webhook receiver is configured (the app's default: no, and then no events are made). */
  webhooks?: boolean;
}

export function fakeWorld(options: FakeWorldOptions = {}): FakeWorld {
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  // Wired as src/composition.ts wires the Table adapters: the core's rules over the stores.
  const records = inMemoryRecordStores();
  const limiter = attemptLimiter(records.limits, options.limits ?? DEFAULT_LIMITS);
  const quota = subjectQuota(records.quotas, options.quota ?? DEFAULT_QUOTA);
  const idempotency = idempotencyStore(records.idempotencyKeys, settings.idempotencyTtlSeconds);
  const webhookQueue = new InMemoryWebhookQueue();
  const parts = {
    face: new FakeFace(),
    sessions: new InMemorySessionRepository(),
    audit: new InMemoryAuditLog(),
    images: new InMemoryImageStore(),
    completions: new InMemoryCompletionQueue(),
    clock: new FakeClock(options.now),
    logger: new CapturingLogger(),
    limiter,
    quota,
    idempotency,
    metrics: new RecordingMetrics(),
    subjects: new MemorySubjects(),
    subjectRows: subjectRows(records),
    settings,
    evidence: new InMemoryEvidenceLog(),
    evidenceSigner: new MemoryEvidenceSigner(),
    activity: new InMemorySubjectActivity(),
    verifications: new InMemoryVerificationStore(),
  };
  const deliveryLog = new InMemoryDeliveryLog();
  return {
    ...parts, records, webhookQueue, deliveryLog, receiver: new RecordingWebhookSender(),
    deps: { ...parts, deliveries: deliveryLog, ...(options.webhooks ? { events: webhookQueue } : {}) },
  };
}

/**
 * Token verifiers that know the tokens they issued: `issue(subject, roles)` returns a bearer value. Anything else is
 * refused with UnauthorizedError, and a token without `requiredRole` with ForbiddenError (as JwtVerifier does).
 */
export class FakeTokenVerifier implements TokenVerifier {
  private readonly tokens = new Map<string, { subject: string; roles: string[]; clientId?: string }>();
  calls = 0;

  constructor(private readonly name: string, private readonly requiredRole?: string) {}

  issue(subject: string, roles: string[] = [], clientId?: string): string {
    const token = `${this.name}.${this.tokens.size + 1}.${subject}`;
    this.tokens.set(token, { subject, roles, ...(clientId ? { clientId } : {}) });
    return token;
  }

  async verify(authorization: string | null): Promise<{ subject: string; roles: string[]; clientId?: string }> {
    this.calls++;
    const match = /^Bearer ([^\s]+)$/.exec(authorization ?? '');
    const claims = match && this.tokens.get(match[1]!);
    if (!claims) throw new UnauthorizedError();
    if (this.requiredRole && !claims.roles.includes(this.requiredRole)) {
      throw new ForbiddenError(`The caller lacks the '${this.requiredRole}' role.`);
    }
    return claims;
  }
}

export const BACK_OFFICE_ROLE = 'LivenessSessions.Manage';
export const VERIFICATIONS_ROLE = 'Verifications.Create';

export interface FakeServices {
  services: AppServices;
  deviceAuth: FakeTokenVerifier;
  backOfficeAuth: FakeTokenVerifier;
  /** Relying parties: same issuer as the back office, the verifications role (issue(sub, roles, clientId)). */
  relyingPartyAuth: FakeTokenVerifier;
}

export function fakeServices(world: FakeWorld, options: { backOffice?: boolean; adminKeyEnabled?: boolean } = {}): FakeServices {
  const deviceAuth = new FakeTokenVerifier('device');
  const backOfficeAuth = new FakeTokenVerifier('backoffice', BACK_OFFICE_ROLE);
  const relyingPartyAuth = new FakeTokenVerifier('relyingparty', VERIFICATIONS_ROLE);
  const { logger: _logger, ...liveness } = world.deps;
  return {
    services: {
      liveness, deviceAuth, adminKeyEnabled: options.adminKeyEnabled ?? true,
      // As composeServices wires them: the queue and the log always; a sender only with a receiver configured.
      webhooks: {
        ...(world.deps.events ? { sender: world.receiver } : {}),
        queue: world.webhookQueue, log: world.deliveryLog, clock: world.clock, settings: DEFAULT_WEBHOOK_RETRY,
      },
      // The real cache over the fakes: one storage probe and one Face probe per interval.
      health: new HealthCache({
        storage: () => world.sessions.get('00000000-0000-7000-8000-000000000000'),
        face: (signal) => world.face.probe({ abortSignal: signal }),
      }),
      ...(options.backOffice === false ? {} : { backOfficeAuth, relyingPartyAuth }),
      linkAccess: { verify: (accessToken) => linkCaller(world.deps, accessToken) },
      pagesOrigin: 'https://pages.test',
    },
    deviceAuth,
    backOfficeAuth,
    relyingPartyAuth,
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** A test image from test/fixtures/images (see its README for provenance). */
export function fixtureImage(name: 'face-grace-hopper.jpg' | 'face-astronaut.png' | 'noface-coffee.png' = 'face-grace-hopper.jpg'): Buffer {
  return readFileSync(path.join(here, '../fixtures/images', name));
}
