// SessionRepository over Azure Table storage. Three tables (names carry the configured prefix):
//   LivenessSessions          PK = inverted epoch second, RK = inverted epoch ms + "|" + sessionId
//                             session ids are UUIDv7 (time-ordered), so the keys follow from the id: a point read
//                             needs no index, a table scan returns newest first (the table is its own list index,
//                             with the real status to filter on), and partitions stay small (one per second)
//   LivenessSweepSchedule     PK = due minute "yyyyMMddHHmm" (UTC), RK = due ISO time + "|" + sessionId
//                             the sweep reads only partitions at or before now: a key-range query whose cost
//                             follows the number of due sessions, not all sessions
//   LivenessSubjectSessions   PK = subject key, RK = sessionId: a subject's sessions are one partition (erasure,
//                             export), written before the session row
//   LivenessReviewQueue       PK = "review", RK = created ISO time + "|" + sessionId: sessions awaiting review,
//                             oldest first; kept in step with awaitingReview() on every write
// mutate() is the one write path after create: every write is conditional on the row's ETag (so complete, collect,
// delete and sweep can race safely) and moves the sweep index row whenever nextSweepDateTime changes.
// (Audit entries live in their own table: table-audit-log.ts.)
import { odata, type TableClient, type TableEntityResult } from '@azure/data-tables';
import { ConflictError } from '../../core/errors.js';
import type { ListSessionsQuery, Page, SessionChange, SessionRepository } from '../../core/ports.js';
import type { Decision } from '../../core/decision.js';
import { awaitingReview, type LivenessSession, type SessionListItem, type SessionStatus } from '../../core/session.js';
import { validate as uuidValidate, version as uuidVersion } from 'uuid';
import { checkContinuationToken, guardStorage, ignore404, isRestError, onceUntilFailure, orAbsent, requireEtag, type StorageClients } from './clients.js';
import { withOptimisticConcurrency } from './optimistic.js';
import { tableNames } from './table-names.js';

const MAX_SECONDS = 9_999_999_999;
const MAX_MS = 9_999_999_999_999;

const REVIEW_PARTITION = 'review';

function reviewKey(session: Pick<LivenessSession, 'createdDateTime' | 'sessionId'>) {
  return { partitionKey: REVIEW_PARTITION, rowKey: `${new Date(session.createdDateTime).toISOString()}|${session.sessionId}` };
}

const guard = <T>(work: () => Promise<T>) => guardStorage('Table storage request', work);

/** The session row's keys, from the creation time inside its UUIDv7 id; undefined for any other id. */
export function sessionKey(sessionId: string): { partitionKey: string; rowKey: string } | undefined {
  if (!uuidValidate(sessionId) || uuidVersion(sessionId) !== 7) return undefined;
  const ms = parseInt(sessionId.slice(0, 8) + sessionId.slice(9, 13), 16);
  return {
    partitionKey: String(MAX_SECONDS - Math.floor(ms / 1000)).padStart(10, '0'),
    rowKey: `${String(MAX_MS - ms).padStart(13, '0')}|${sessionId.toLowerCase()}`,
  };
}

export function sweepIndexKey(dueDateTime: string, sessionId: string) {
  const iso = new Date(dueDateTime).toISOString();
  return { partitionKey: minuteBucket(iso), rowKey: `${iso}|${sessionId}` };
}

function minuteBucket(iso: string): string {
  return iso.slice(0, 16).replace(/[-T:]/g, ''); // 2026-11-25T21:04 -> 202611252104
}

/** The filter the sweep sends: every partition before this minute, and this minute's rows up to now. */
export function dueFilter(now: Date): string {
  const iso = now.toISOString();
  const bucket = minuteBucket(iso);
  return `PartitionKey lt '${bucket}' or (PartitionKey eq '${bucket}' and RowKey le '${iso}~')`;
}

interface SessionEntity {
  partitionKey: string;
  rowKey: string;
  createdDateTime: string;
  authTokenTimeToLiveInSeconds: number;
  authTokenExpiresDateTime: string;
  livenessOperationMode: string;
  deviceCorrelationId?: string;
  faceSessionId?: string;
  subject?: string;
  subjectKey?: string;
  origin?: string;
  verificationId?: string;
  clientReferenceId?: string;
  referenceJson?: string;
  consentVersion?: string;
  reviewJson?: string;
  clientDigest?: string;
  abuseLinksJson?: string;
  enableSessionImage: boolean;
  modelVersion?: string;
  status: string;
  decisionJson?: string;
  verifyImageJson: string;
  storedVerifyImageJson: string;
  completionRequestedDateTime?: string;
  resultCollectedDateTime?: string;
  resultJson?: string;
  resultWriteId?: string;
  failureReason?: string;
  faceSessionDeleted: boolean;
  imagesDeleted: boolean;
  sessionImageBlobsJson: string;
  deleting: boolean;
  collectionJson?: string;
  /** The session outbox (events not yet handed to the webhook queue). */
  pendingEventsJson?: string;
  /** The evidence outbox, and where the session's evidence records sit. */
  pendingEvidenceJson?: string;
  evidenceJson?: string;
  nextSweepDateTime?: string;
  platform?: string;
  attestationRequired?: boolean;
  /** The device-attestation state (holds this session's server private key until the digest is in). */
  attestationJson?: string;
  attestedDigestJson?: string;
}


export interface TableSessionRepositoryOptions {
  /** Observes every query filter sent (the bench prints them to show the sweep uses key ranges). */
  onQuery?: (table: string, filter: string) => void;
  /**
   * Whether sessions are found by their Face session id (findByFaceSessionId, through an index row written before a
   * session first names its Face session). Only Face's abuse monitoring (v1.3) names other Face sessions, so under
   * v1.2 the index would be a write, in series after Face on every create, that nothing reads. Default true.
   */
  indexFaceSessions?: boolean;
}

export class TableSessionRepository implements SessionRepository {
  private readonly sessions: TableClient;
  private readonly sweep: TableClient;
  private readonly bySubject: TableClient;
  private readonly reviews: TableClient;
  private readonly indexesFace: boolean;
  /** Creates the tables once per instance (createTable ignores "already exists"). */
  readonly ensureTables: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string, private readonly options: TableSessionRepositoryOptions = {}) {
    const names = tableNames(prefix);
    this.sessions = clients.table(names.sessions);
    this.sweep = clients.table(names.sweepSchedule);
    this.bySubject = clients.table(names.subjectSessions);
    this.reviews = clients.table(names.reviewQueue);
    this.ensureTables = onceUntilFailure(() => Promise.all([this.sessions, this.sweep, this.bySubject, this.reviews].map((t) => t.createTable())));
    this.indexesFace = options.indexFaceSessions ?? true;
  }

  async create(session: LivenessSession): Promise<LivenessSession> {
    return guard(async () => {
      await this.ensureTables();
      // The sweep index row first: a session row must never exist without it, or no sweep would ever reach it
      // (a host that dies between the two leaves at most an index row pointing at nothing, which listDue drops).
      // Likewise the subject-sessions index row: erasure reaches every session of the subject through it, and the
      // Face-session index row, when the session already names its Face session. The index rows are independent of
      // each other, so they go together.
      await Promise.all([
        session.nextSweepDateTime ? this.upsertSweepRow(session.sessionId, session.nextSweepDateTime) : undefined,
        session.subjectKey ? this.upsertSubjectRow(session.subjectKey, session.sessionId) : undefined,
        this.indexesFace && session.faceSessionId ? this.upsertFaceRow(session.faceSessionId, session.sessionId) : undefined,
      ]);
      try {
        return { ...session, etag: await this.insertSessionRow(session) };
      } catch (error) {
        // Another session's id (not one of our own lost answers): its rows are not ours to remove.
        if (error instanceof ConflictError) throw error;
        // Leave no half-written session: remove the rows (whichever landed; a lost answer may hide one).
        const key = keyOf(session.sessionId);
        await Promise.allSettled([
          this.sessions.deleteEntity(key.partitionKey, key.rowKey),
          session.nextSweepDateTime ? this.deleteSweepRow(session.sessionId, session.nextSweepDateTime) : undefined,
          session.subjectKey ? ignore404(this.bySubject.deleteEntity(session.subjectKey, session.sessionId)) : undefined,
          session.faceSessionId ? ignore404(this.bySubject.deleteEntity(faceIndexPartition(session.faceSessionId), FACE_INDEX_ROW)) : undefined,
        ]);
        throw error;
      }
    });
  }

  /**
   * Inserts the session row. Session ids are fresh UUIDs, so a 409 can only be our own insert, retried by the SDK
   * after its answer was lost: then the row holding our verify image is ours and the insert succeeded.
   */
  private async insertSessionRow(session: LivenessSession): Promise<string | undefined> {
    try {
      return (await this.sessions.createEntity(toEntity(session))).etag;
    } catch (error) {
      if (!isRestError(error, 409)) throw error;
      const key = keyOf(session.sessionId);
      const existing = await this.sessions.getEntity<SessionEntity>(key.partitionKey, key.rowKey);
      if (existing.storedVerifyImageJson === JSON.stringify(session.storedVerifyImage)) return existing.etag;
      throw new ConflictError('SessionExists', `Session ${session.sessionId} already exists.`);
    }
  }

  async get(sessionId: string): Promise<LivenessSession | undefined> {
    return guard(async () => {
      await this.ensureTables();
      return this.read(sessionId);
    });
  }

  private async read(sessionId: string): Promise<LivenessSession | undefined> {
    const key = sessionKey(sessionId);
    if (!key) return undefined; // not an id this app minted
    const entity = await orAbsent(this.sessions.getEntity<SessionEntity>(key.partitionKey, key.rowKey));
    return entity && fromEntity(entity);
  }

  async mutate(target: string | LivenessSession, change: SessionChange): Promise<LivenessSession | undefined> {
    const sessionId = typeof target === 'string' ? target : target.sessionId;
    let snapshot = typeof target === 'string' ? undefined : target;
    return guard(() => withOptimisticConcurrency(async () => {
      const current = snapshot ?? await this.read(sessionId);
      snapshot = undefined; // a lost round reads the row again
      if (!current) return undefined;
      const next = change(current);
      if (!next) return current;
      if (next.sessionId !== current.sessionId) throw new Error('a session change must keep the session id');
      return this.replace(current, next);
    }, { what: `Session ${sessionId}` }));
  }

  /** Writes `next` over `current` (conditional on its ETag) and moves the sweep index row if the due time moved. */
  private async replace(current: LivenessSession, next: LivenessSession): Promise<LivenessSession | undefined> {
    const previousDue = normalise(current.nextSweepDateTime);
    const nextDue = normalise(next.nextSweepDateTime);
    // The new index row goes first, so the session is reachable whichever write a crash interrupts. An index row left
    // behind by a lost round or a crash no longer matches the session's due time, and listDue drops it.
    if (nextDue && nextDue !== previousDue) await this.upsertSweepRow(next.sessionId, nextDue);
    // The review index follows the same rule: its row exists before the session awaits review, and goes after.
    // The Face-session index row likewise: written before the row first names its Face session.
    if (this.indexesFace && next.faceSessionId && next.faceSessionId !== current.faceSessionId) await this.upsertFaceRow(next.faceSessionId, next.sessionId);
    const wasAwaiting = awaitingReview(current);
    const isAwaiting = awaitingReview(next);
    if (isAwaiting && !wasAwaiting) await this.reviews.upsertEntity({ ...reviewKey(next), sessionId: next.sessionId }, 'Replace');
    let etag: string | undefined;
    try {
      etag = (await this.sessions.updateEntity(toEntity(next), 'Replace', { etag: requireEtag(current, `Session ${next.sessionId}`) })).etag;
    } catch (error) {
      if (isRestError(error, 404)) return undefined; // deleted meanwhile
      throw error; // 412 goes back to withOptimisticConcurrency for another round
    }
    if (previousDue && previousDue !== nextDue) {
      await this.deleteSweepRow(next.sessionId, previousDue).catch(() => undefined); // stale rows are dropped later
    }
    if (wasAwaiting && !isAwaiting) await this.deleteReviewRow(next).catch(() => undefined); // likewise
    return { ...next, etag };
  }

  async delete(session: LivenessSession): Promise<void> {
    await guard(async () => {
      await Promise.all([
        session.nextSweepDateTime ? this.deleteSweepRow(session.sessionId, session.nextSweepDateTime) : undefined,
        session.decision?.outcome === 'review' ? this.deleteReviewRow(session) : undefined,
      ]);
      // The session row goes after those: while it exists, the sweep can still find and finish the deletion.
      const key = keyOf(session.sessionId);
      await ignore404(this.sessions.deleteEntity(key.partitionKey, key.rowKey));
      if (session.faceSessionId) await ignore404(this.bySubject.deleteEntity(faceIndexPartition(session.faceSessionId), FACE_INDEX_ROW));
      // The subject index row last, so an erasure can reach the session until it is gone.
      if (session.subjectKey) await ignore404(this.bySubject.deleteEntity(session.subjectKey, session.sessionId));
    });
  }

  async findByFaceSessionId(faceSessionId: string): Promise<LivenessSession | undefined> {
    if (!this.indexesFace) return undefined;
    return guard(async () => {
      await this.ensureTables();
      let sessionId: string;
      try {
        sessionId = (await this.bySubject.getEntity<{ sessionId: string }>(faceIndexPartition(faceSessionId), FACE_INDEX_ROW)).sessionId;
      } catch (error) {
        if (isRestError(error, 404)) return undefined;
        throw error;
      }
      const session = await this.read(sessionId);
      // An index row left by a crash, or a Face id reused: only a session that names this Face session counts.
      return session?.faceSessionId?.toLowerCase() === faceSessionId.toLowerCase() ? session : undefined;
    });
  }

  private async upsertFaceRow(faceSessionId: string, sessionId: string): Promise<void> {
    await this.bySubject.upsertEntity({ partitionKey: faceIndexPartition(faceSessionId), rowKey: FACE_INDEX_ROW, sessionId }, 'Replace');
  }

  async listBySubject(subjectKey: string): Promise<LivenessSession[]> {
    return guard(async () => {
      await this.ensureTables();
      const filter = odata`PartitionKey eq ${subjectKey}`;
      this.options.onQuery?.(this.bySubject.tableName, filter);
      const ids: string[] = [];
      for await (const row of this.bySubject.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) ids.push(row.rowKey!);
      const sessions = await Promise.all(ids.map(async (sessionId) => {
        const session = sessionKey(sessionId) ? await this.read(sessionId) : undefined;
        if (session?.subjectKey === subjectKey) return session;
        // The session is gone (a crash between its row and this one): the index row points at nothing.
        await ignore404(this.bySubject.deleteEntity(subjectKey, sessionId));
        return undefined;
      }));
      return sessions.filter((s) => s !== undefined);
    });
  }

  async listAwaitingReview(pageSize: number, continuationToken?: string): Promise<Page<LivenessSession>> {
    return guard(async () => {
      await this.ensureTables();
      const filter = odata`PartitionKey eq ${REVIEW_PARTITION}`;
      this.options.onQuery?.(this.reviews.tableName, filter);
      if (continuationToken !== undefined) checkContinuationToken(continuationToken);
      const pages = this.reviews
        .listEntities<{ sessionId: string }>({ queryOptions: { filter, select: ['RowKey', 'sessionId'] } })
        .byPage({ maxPageSize: pageSize, continuationToken });
      for await (const page of pages) {
        const sessions = await Promise.all(page.map(async (row) => {
          const session = await this.read(row.sessionId);
          if (session && awaitingReview(session) && reviewKey(session).rowKey === row.rowKey) return session;
          // Settled, deleted, or a crash between the index write and the session write: no longer awaiting review.
          await ignore404(this.reviews.deleteEntity(REVIEW_PARTITION, row.rowKey!));
          return undefined;
        }));
        return { items: sessions.filter((s) => s !== undefined), continuationToken: page.continuationToken };
      }
      return { items: [] };
    });
  }

  private async upsertSubjectRow(subjectKey: string, sessionId: string): Promise<void> {
    await this.bySubject.upsertEntity({ partitionKey: subjectKey, rowKey: sessionId }, 'Replace');
  }

  private async deleteReviewRow(session: LivenessSession): Promise<void> {
    const k = reviewKey(session);
    await ignore404(this.reviews.deleteEntity(k.partitionKey, k.rowKey));
  }

  async list(query: ListSessionsQuery): Promise<Page<SessionListItem>> {
    return guard(async () => {
      await this.ensureTables();
      // Rows still Creating are creates in flight (or abandoned), not sessions yet.
      const clauses: string[] = [query.status ? odata`status eq ${query.status}` : `status ne 'Creating'`];
      if (query.deviceCorrelationId) clauses.push(odata`deviceCorrelationId eq ${query.deviceCorrelationId}`);
      const filter = clauses.join(' and ');
      this.options.onQuery?.(this.sessions.tableName, filter);
      const continuationToken = query.continuationToken;
      if (continuationToken !== undefined) checkContinuationToken(continuationToken);
      const pages = this.sessions
        .listEntities<SessionEntity>({ queryOptions: { filter, select: LIST_COLUMNS } })
        .byPage({ maxPageSize: query.top, continuationToken });
      // Azure may return fewer rows than asked (and even an empty page with a token); keep reading until full.
      const items: SessionListItem[] = [];
      let next: string | undefined;
      for await (const page of pages) {
        for (const e of page) items.push(toListItem(e));
        next = page.continuationToken;
        if (items.length >= query.top || !next) break;
      }
      return { items: items.slice(0, query.top), continuationToken: next };
    });
  }

  async listDue(now: Date, pageSize: number, continuationToken?: string): Promise<Page<LivenessSession>> {
    return guard(async () => {
      await this.ensureTables();
      const filter = dueFilter(now);
      this.options.onQuery?.(this.sweep.tableName, filter);
      if (continuationToken !== undefined) checkContinuationToken(continuationToken);
      const pages = this.sweep
        .listEntities<{ sessionId: string; dueDateTime: string }>({ queryOptions: { filter, select: ['sessionId', 'dueDateTime'] } })
        .byPage({ maxPageSize: pageSize, continuationToken });
      for await (const page of pages) {
        const sessions = await Promise.all(page.map(async (row) => {
          const session = await this.read(row.sessionId);
          if (session && normalise(session.nextSweepDateTime) === normalise(row.dueDateTime)) return session;
          // The session is gone, or its due time moved on without this row (a crash between the index writes).
          await this.deleteSweepRow(row.sessionId, row.dueDateTime);
          return undefined;
        }));
        return { items: sessions.filter((s) => s !== undefined), continuationToken: page.continuationToken };
      }
      return { items: [] };
    });
  }

  private async upsertSweepRow(sessionId: string, dueDateTime: string): Promise<void> {
    const k = sweepIndexKey(dueDateTime, sessionId);
    await this.sweep.upsertEntity({ ...k, sessionId, dueDateTime: new Date(dueDateTime).toISOString() }, 'Replace');
  }

  private async deleteSweepRow(sessionId: string, dueDateTime: string): Promise<void> {
    const k = sweepIndexKey(dueDateTime, sessionId);
    await ignore404(this.sweep.deleteEntity(k.partitionKey, k.rowKey));
  }
}

function normalise(dateTime: string | undefined): string | undefined {
  return dateTime === undefined ? undefined : new Date(dateTime).toISOString();
}


function keyOf(sessionId: string): { partitionKey: string; rowKey: string } {
  const key = sessionKey(sessionId);
  if (!key) throw new Error('session ids are UUIDv7'); // ids come from startSession; anything else is a bug
  return key;
}

// The decision column is read for its outcome only (the list shows no scores).
const LIST_COLUMNS = [
  'RowKey', 'createdDateTime', 'status', 'deviceCorrelationId', 'authTokenTimeToLiveInSeconds', 'authTokenExpiresDateTime',
  'completionRequestedDateTime', 'resultCollectedDateTime', 'decisionJson', 'origin', 'verificationId',
];

function sessionIdOf(rowKey: string): string {
  return rowKey.slice(rowKey.indexOf('|') + 1);
}

function toEntity(s: LivenessSession): SessionEntity {
  return {
    ...keyOf(s.sessionId),
    createdDateTime: s.createdDateTime,
    authTokenTimeToLiveInSeconds: s.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: s.authTokenExpiresDateTime,
    livenessOperationMode: s.livenessOperationMode,
    ...(s.deviceCorrelationId !== undefined ? { deviceCorrelationId: s.deviceCorrelationId } : {}),
    ...(s.faceSessionId !== undefined ? { faceSessionId: s.faceSessionId } : {}),
    ...(s.subject !== undefined ? { subject: s.subject } : {}),
    ...(s.subjectKey !== undefined ? { subjectKey: s.subjectKey } : {}),
    ...(s.origin !== undefined ? { origin: s.origin } : {}),
    ...(s.verificationId !== undefined ? { verificationId: s.verificationId } : {}),
    ...(s.clientReferenceId !== undefined ? { clientReferenceId: s.clientReferenceId } : {}),
    ...(s.reference ? { referenceJson: JSON.stringify(s.reference) } : {}),
    ...(s.consentVersion !== undefined ? { consentVersion: s.consentVersion } : {}),
    ...(s.review ? { reviewJson: JSON.stringify(s.review) } : {}),
    ...(s.clientDigest ? { clientDigest: s.clientDigest } : {}),
    ...(s.abuseLinks?.length ? { abuseLinksJson: JSON.stringify(s.abuseLinks) } : {}),
    enableSessionImage: s.enableSessionImage,
    ...(s.modelVersion !== undefined ? { modelVersion: s.modelVersion } : {}),
    status: s.status,
    ...(s.decision ? { decisionJson: JSON.stringify(s.decision) } : {}),
    verifyImageJson: JSON.stringify(s.verifyImage),
    storedVerifyImageJson: JSON.stringify(s.storedVerifyImage),
    ...(s.completionRequestedDateTime ? { completionRequestedDateTime: s.completionRequestedDateTime } : {}),
    ...(s.resultCollectedDateTime ? { resultCollectedDateTime: s.resultCollectedDateTime } : {}),
    ...(s.result ? { resultJson: JSON.stringify(s.result) } : {}),
    ...(s.resultWriteId ? { resultWriteId: s.resultWriteId } : {}),
    ...(s.failureReason ? { failureReason: s.failureReason } : {}),
    faceSessionDeleted: s.faceSessionDeleted,
    imagesDeleted: s.imagesDeleted,
    sessionImageBlobsJson: JSON.stringify(s.sessionImageBlobs),
    deleting: s.deleting,
    ...(s.collection ? { collectionJson: JSON.stringify(s.collection) } : {}),
    ...(s.pendingEvents?.length ? { pendingEventsJson: JSON.stringify(s.pendingEvents) } : {}),
    ...(s.pendingEvidence?.length ? { pendingEvidenceJson: JSON.stringify(s.pendingEvidence) } : {}),
    ...(s.evidence?.length ? { evidenceJson: JSON.stringify(s.evidence) } : {}),
    ...(s.nextSweepDateTime ? { nextSweepDateTime: s.nextSweepDateTime } : {}),
    ...(s.platform ? { platform: s.platform } : {}),
    ...(s.attestationRequired ? { attestationRequired: true } : {}),
    ...(s.attestation ? { attestationJson: JSON.stringify(s.attestation) } : {}),
    ...(s.attestedDigest ? { attestedDigestJson: JSON.stringify(s.attestedDigest) } : {}),
  };
}

function fromEntity(e: TableEntityResult<SessionEntity>): LivenessSession {
  return {
    sessionId: sessionIdOf(e.rowKey),
    createdDateTime: e.createdDateTime,
    authTokenTimeToLiveInSeconds: e.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: e.authTokenExpiresDateTime,
    livenessOperationMode: e.livenessOperationMode as LivenessSession['livenessOperationMode'],
    ...(e.deviceCorrelationId !== undefined ? { deviceCorrelationId: e.deviceCorrelationId } : {}),
    ...(e.faceSessionId !== undefined ? { faceSessionId: e.faceSessionId } : {}),
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    ...(e.subjectKey !== undefined ? { subjectKey: e.subjectKey } : {}),
    ...(e.origin === 'device' || e.origin === 'link' ? { origin: e.origin } : {}),
    ...(e.verificationId !== undefined ? { verificationId: e.verificationId } : {}),
    ...(e.clientReferenceId !== undefined ? { clientReferenceId: e.clientReferenceId } : {}),
    ...(e.referenceJson ? { reference: JSON.parse(e.referenceJson) as LivenessSession['reference'] } : {}),
    ...(e.consentVersion !== undefined ? { consentVersion: e.consentVersion } : {}),
    ...(e.reviewJson ? { review: JSON.parse(e.reviewJson) as LivenessSession['review'] } : {}),
    ...(e.clientDigest ? { clientDigest: e.clientDigest } : {}),
    ...(e.abuseLinksJson ? { abuseLinks: JSON.parse(e.abuseLinksJson) as string[] } : {}),
    enableSessionImage: e.enableSessionImage,
    ...(e.modelVersion !== undefined ? { modelVersion: e.modelVersion } : {}),
    status: e.status as SessionStatus,
    ...(e.decisionJson ? { decision: JSON.parse(e.decisionJson) as LivenessSession['decision'] } : {}),
    verifyImage: JSON.parse(e.verifyImageJson) as LivenessSession['verifyImage'],
    storedVerifyImage: JSON.parse(e.storedVerifyImageJson) as LivenessSession['storedVerifyImage'],
    ...(e.completionRequestedDateTime ? { completionRequestedDateTime: e.completionRequestedDateTime } : {}),
    ...(e.resultCollectedDateTime ? { resultCollectedDateTime: e.resultCollectedDateTime } : {}),
    ...(e.resultJson ? { result: JSON.parse(e.resultJson) as LivenessSession['result'] } : {}),
    ...(e.resultWriteId ? { resultWriteId: e.resultWriteId } : {}),
    ...(e.failureReason ? { failureReason: e.failureReason } : {}),
    faceSessionDeleted: e.faceSessionDeleted,
    imagesDeleted: e.imagesDeleted,
    sessionImageBlobs: JSON.parse(e.sessionImageBlobsJson ?? '[]') as LivenessSession['sessionImageBlobs'],
    deleting: e.deleting ?? false,
    ...(e.collectionJson ? { collection: JSON.parse(e.collectionJson) as LivenessSession['collection'] } : {}),
    ...(e.pendingEventsJson ? { pendingEvents: JSON.parse(e.pendingEventsJson) as LivenessSession['pendingEvents'] } : {}),
    ...(e.pendingEvidenceJson ? { pendingEvidence: JSON.parse(e.pendingEvidenceJson) as LivenessSession['pendingEvidence'] } : {}),
    ...(e.evidenceJson ? { evidence: JSON.parse(e.evidenceJson) as LivenessSession['evidence'] } : {}),
    ...(e.nextSweepDateTime ? { nextSweepDateTime: e.nextSweepDateTime } : {}),
    ...(e.platform ? { platform: e.platform as LivenessSession['platform'] } : {}),
    ...(e.attestationRequired ? { attestationRequired: true } : {}),
    ...(e.attestationJson ? { attestation: JSON.parse(e.attestationJson) as LivenessSession['attestation'] } : {}),
    ...(e.attestedDigestJson ? { attestedDigest: JSON.parse(e.attestedDigestJson) as LivenessSession['attestedDigest'] } : {}),
    etag: e.etag,
  };
}

function toListItem(e: TableEntityResult<Pick<SessionEntity, 'createdDateTime' | 'status' | 'deviceCorrelationId' | 'authTokenTimeToLiveInSeconds' | 'authTokenExpiresDateTime' | 'completionRequestedDateTime' | 'resultCollectedDateTime' | 'decisionJson' | 'origin' | 'verificationId'>>): SessionListItem {
  const decision = e.decisionJson ? (JSON.parse(e.decisionJson) as Decision) : undefined;
  return {
    id: sessionIdOf(e.rowKey!),
    createdDateTime: e.createdDateTime,
    status: e.status as SessionStatus,
    ...(e.deviceCorrelationId !== undefined ? { deviceCorrelationId: e.deviceCorrelationId } : {}),
    authTokenTimeToLiveInSeconds: e.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: e.authTokenExpiresDateTime,
    ...(e.completionRequestedDateTime ? { completionRequestedDateTime: e.completionRequestedDateTime } : {}),
    ...(e.resultCollectedDateTime ? { resultCollectedDateTime: e.resultCollectedDateTime } : {}),
    ...(decision ? { outcome: decision.outcome } : {}),
    ...(e.origin === 'link' ? { origin: 'link' as const } : {}),
    ...(e.verificationId !== undefined ? { verificationId: e.verificationId } : {}),
  };
}

/**
 * Face session id → our session id, in the subject-sessions table under its own partitions (`face-<id>`: subject keys
 * are 64 hex digits, so the two never meet). Face names other flagged sessions by its ids (abuse monitoring).
 */
const FACE_INDEX_ROW = 'session';
function faceIndexPartition(faceSessionId: string): string {
  return `face-${faceSessionId.toLowerCase().replace(/[^0-9a-f-]/g, '')}`;
}
