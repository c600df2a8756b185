// In-memory stand-ins for the ports the subject use cases touch, for in-process tests of the core rules. They keep
// the same contracts as the Table adapters where the rules depend on them (indexes kept in step on every write,
// conditional writes, idempotent deletes) and nothing more.
import { InMemoryEvidenceLog, InMemorySubjectActivity, MemoryEvidenceSigner } from './evidence.js';
import { InMemoryVerificationStore } from './verifications.js';
import { InMemoryDeliveryLog } from './webhooks.js';
import { livenessSettingsSchema } from '../../src/config/config.js';
import { createHmac, randomUUID } from 'node:crypto';
import { noAttemptLimits } from '../../src/core/attempt-limits.js';
import { idempotencyStore } from '../../src/core/idempotency.js';
import { noSubjectQuota } from '../../src/core/quota.js';
import { subjectRows } from '../../src/core/subject-rows.js';
import type { LivenessDeps, LivenessSettings } from '../../src/core/deps.js';
import { ConflictError, FaceSessionNotFoundError } from '../../src/core/errors.js';
import type {
  AuditLog, CreateFaceSessionRequest, EventQueue, FaceSessions, ImageStore, LivenessEvent, Page, SessionChange, SessionRepository, SubjectStore,
} from '../../src/core/ports.js';
import { awaitingReview, type AuditEntry, type LivenessSession } from '../../src/core/session.js';
import type { ConsentRecord, DeletionReceipt, SubjectChange, SubjectRecord } from '../../src/core/subject.js';
import { OperationHooks } from './hooks.js';
import { inMemoryRecordStores, type InMemoryRecordStores } from './records.js';
import { MAX_ROUNDS } from './session-repository.js';

const clone = <T>(value: T): T => structuredClone(value);

export class MemorySessions implements SessionRepository {
  readonly rows = new Map<string, LivenessSession>();
  /** Subject key -> session ids (the subject-sessions index). */
  readonly bySubject = new Map<string, Set<string>>();
  async create(session: LivenessSession) {
    if (this.rows.has(session.sessionId)) throw new ConflictError('SessionExists', 'exists');
    if (session.subjectKey) this.index(session.subjectKey).add(session.sessionId);
    const row = { ...clone(session), etag: randomUUID() };
    this.rows.set(session.sessionId, row);
    return clone(row);
  }
  async get(sessionId: string) { const s = this.rows.get(sessionId); return s && clone(s); }
  async findByFaceSessionId(faceSessionId: string) {
    const s = [...this.rows.values()].find((r) => r.faceSessionId === faceSessionId);
    return s && clone(s);
  }
  async mutate(target: string | LivenessSession, change: SessionChange) {
    const id = typeof target === 'string' ? target : target.sessionId;
    const current = this.rows.get(id);
    if (!current) return undefined;
    const next = change(clone(current));
    if (!next) return clone(current);
    const row = { ...clone(next), etag: randomUUID() };
    this.rows.set(id, row);
    return clone(row);
  }
  async delete(session: LivenessSession) {
    this.rows.delete(session.sessionId);
    if (session.subjectKey) this.bySubject.get(session.subjectKey)?.delete(session.sessionId);
  }
  async list(): Promise<Page<never>> { throw new Error('not used'); }
  async listDue(): Promise<Page<LivenessSession>> { return { items: [] }; }
  async listBySubject(subjectKey: string) {
    return [...(this.bySubject.get(subjectKey) ?? [])].map((id) => this.rows.get(id)).filter((s) => s !== undefined).map(clone);
  }
  async listAwaitingReview(pageSize: number) {
    const items = [...this.rows.values()].filter(awaitingReview).sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime));
    return { items: items.slice(0, pageSize).map(clone) };
  }
  private index(key: string) {
    let set = this.bySubject.get(key);
    if (!set) this.bySubject.set(key, (set = new Set()));
    return set;
  }
}

export class MemoryImages implements ImageStore {
  readonly blobs = new Map<string, Uint8Array>();
  puts = 0;
  async put(name: string, bytes: Uint8Array) { this.puts++; this.blobs.set(name, bytes); }
  async get(name: string) { return this.blobs.get(name); }
  async delete(name: string) { this.blobs.delete(name); }
  async exists(name: string) { return this.blobs.has(name); }
}

export class MemoryAudit implements AuditLog {
  readonly entries = new Map<string, AuditEntry[]>();
  async upsert(entries: AuditEntry[]) { for (const e of entries) this.entries.set(e.sessionId, [...(this.entries.get(e.sessionId) ?? []), e]); }
  async list(sessionId: string) { return this.entries.get(sessionId) ?? []; }
  async deleteAll(sessionId: string) { this.entries.delete(sessionId); }
}

/** Face: remembers the verify image each session was created with; `failDeleteAfter` makes later deletes throw. */
export class MemoryFace implements FaceSessions {
  readonly sessions = new Map<string, CreateFaceSessionRequest>();
  creates = 0;
  failDeleteAfter?: number;
  private deletes = 0;
  async create(request: CreateFaceSessionRequest) {
    this.creates++;
    const sessionId = randomUUID();
    this.sessions.set(sessionId, request);
    return { sessionId, authToken: `token-${sessionId}`, verifyImage: { qualityForRecognition: 'high' as const } };
  }
  async get(sessionId: string) {
    if (!this.sessions.has(sessionId)) throw new FaceSessionNotFoundError();
    return { sessionId, status: 'NotStarted', attempts: [], verifyReferences: [] };
  }
  async delete(sessionId: string) {
    this.deletes++;
    if (this.failDeleteAfter !== undefined && this.deletes > this.failDeleteAfter) throw new Error('host died');
    this.sessions.delete(sessionId);
  }
  async getSessionImage(): Promise<Uint8Array> { throw new FaceSessionNotFoundError(); }
  async probe() { /* reachable */ }
}

export class MemorySubjects implements SubjectStore {
  readonly records = new Map<string, SubjectRecord>();
  readonly consents = new Map<string, Map<string, ConsentRecord>>();
  readonly erasing = new Set<string>();
  readonly receipts = new Map<string, DeletionReceipt[]>();
  /** 'write' runs just before a conditional write of the record (to slip a concurrent writer in). */
  readonly hooks = new OperationHooks<'write'>();
  private etags = 0;
  constructor(private readonly secret = 'unit-test-secret') {}
  keyOf(subject: string) { return createHmac('sha256', this.secret).update(subject).digest('hex'); }
  async get(key: string) { const r = this.records.get(key); return r && clone(r); }
  async mutate(key: string, change: SubjectChange) {
    // As the adapter: a conditional write (the ETag read, or insert-if-absent); a lost round reads and re-applies.
    for (let round = 1; ; round++) {
      const current = this.records.get(key);
      const next = change(current && clone(current));
      if (!next) return current && clone(current);
      if (next.subjectKey !== key) throw new Error('a subject change must keep the subject key');
      if (next.erasure && !current?.erasure) this.erasing.add(key);
      await this.hooks.enter('write');
      if (this.records.get(key)?.etag !== current?.etag) {
        if (round >= MAX_ROUNDS) throw new ConflictError('ConcurrentUpdate', 'The subject record is changing too often; try again.');
        continue;
      }
      const row = { ...clone(next), etag: this.nextEtag() };
      this.records.set(key, row);
      return clone(row);
    }
  }
  async recordVisit(key: string, now: Date, consent?: ConsentRecord) {
    const current = this.records.get(key);
    this.records.set(key, {
      ...(current ?? { subjectKey: key, createdDateTime: now.toISOString(), retiredBlobs: [] }), lastSeenDateTime: now.toISOString(), etag: this.nextEtag(),
    });
    if (consent) {
      const map = this.consents.get(key) ?? new Map();
      map.set(consent.version, consent);
      this.consents.set(key, map);
    }
  }
  async listConsents(key: string) { return [...(this.consents.get(key)?.values() ?? [])]; }
  async deleteConsents(key: string) { const n = this.consents.get(key)?.size ?? 0; this.consents.delete(key); return n; }
  async delete(key: string) { this.records.delete(key); this.erasing.delete(key); }
  async listErasing() { return [...this.erasing]; }
  async putReceipt(receipt: DeletionReceipt) {
    const list = (this.receipts.get(receipt.subjectKey) ?? []).filter((r) => r.receiptId !== receipt.receiptId);
    this.receipts.set(receipt.subjectKey, [...list, clone(receipt)]);
  }
  async listReceipts(key: string) {
    return clone(this.receipts.get(key) ?? []).sort((a, b) => a.completedDateTime.localeCompare(b.completedDateTime));
  }
  private nextEtag() { return `W/"${++this.etags}"`; }
}

export class RecordingEvents implements EventQueue {
  readonly events: LivenessEvent[] = [];
  async enqueue(event: LivenessEvent) { this.events.push(clone(event)); }
}

/** The app's defaults (an empty environment parsed), with fewer collection tries, a review band and two consent texts. */
export const testSettings = (overrides: Partial<LivenessSettings> = {}): LivenessSettings => ({
  ...livenessSettingsSchema.parse({}),
  collectMaxTries: 3, collectMaxBackoffSeconds: 10, sweepConcurrency: 4, policy: { matchThreshold: 0.8, reviewLowerBound: 0.5 },
  privacy: {
    consentRequired: true, currentConsentVersion: 'v2', deviceReferenceAllowed: true,
    consentVersions: [{ version: 'v1', publishedDate: '2025-01-01', text: 'old' }, { version: 'v2', publishedDate: '2026-01-01', text: 'new' }],
  },
  ...overrides,
});

export interface SubjectFakes {
  deps: LivenessDeps;
  sessions: MemorySessions; images: MemoryImages; audit: MemoryAudit; face: MemoryFace; subjects: MemorySubjects;
  /** The per-subject records (lockouts, quota, Idempotency-Keys) that erasure and export reach through SubjectRows. */
  records: InMemoryRecordStores; events: RecordingEvents; logs: string[];
  evidence: InMemoryEvidenceLog; evidenceSigner: MemoryEvidenceSigner;
  clock: { at: Date };
}

export function subjectFakes(settings: Partial<LivenessSettings> = {}): SubjectFakes {
  const sessions = new MemorySessions();
  const images = new MemoryImages();
  const audit = new MemoryAudit();
  const face = new MemoryFace();
  const subjects = new MemorySubjects();
  const records = inMemoryRecordStores();
  const events = new RecordingEvents();
  const logs: string[] = [];
  const evidence = new InMemoryEvidenceLog();
  const evidenceSigner = new MemoryEvidenceSigner();
  const clock = { at: new Date('2026-03-01T10:00:00.000Z') };
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => { logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`); };
  const deps: LivenessDeps = {
    face, sessions, audit, images,
    completions: { enqueue: async () => undefined },
    clock: { now: () => new Date(clock.at) },
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    settings: testSettings(settings),
    limiter: noAttemptLimits,
    quota: noSubjectQuota,
    idempotency: idempotencyStore(records.idempotencyKeys, testSettings(settings).idempotencyTtlSeconds),
    metrics: { sessionCreated: () => undefined, decisionRecorded: () => undefined, timeToResult: () => undefined, sweepDeletions: () => undefined },
    subjects,
    subjectRows: subjectRows(records),
    events,
    evidence,
    evidenceSigner,
    deliveries: new InMemoryDeliveryLog(),
    activity: new InMemorySubjectActivity(),
    verifications: new InMemoryVerificationStore(),
  };
  return { deps, sessions, images, audit, face, subjects, records, events, logs, clock, evidence, evidenceSigner };
}
