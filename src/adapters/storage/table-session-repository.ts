// SessionRepository over Azure Table storage. Four tables (names carry the configured prefix):
//   LivenessSessions          PK = sessionId (ours), RK = "session"     one partition per session (cheap inserts)
//   LivenessAuditEntries      PK = sessionId, RK = attemptId (10 digits) oldest first by key order
//   LivenessSessionsByCreated PK = inverted epoch second, RK = inverted epoch ms + "|" + sessionId
//                             a whole-table scan returns newest first; small partitions (one per second)
//   LivenessSweepSchedule     PK = due minute "yyyyMMddHHmm" (UTC), RK = due ISO time + "|" + sessionId
//                             the sweep reads only partitions at or before now: a key-range query whose cost
//                             follows the number of due sessions, not all sessions
// Every session update is conditional on its ETag, so complete, collect, delete and sweep can race safely.
import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import { ConflictError, NotFoundError, StorageUnavailableError, ValidationError } from '../../core/errors.js';
import type { DueSession, ListSessionsQuery, Page, SessionRepository } from '../../core/ports.js';
import type { AuditEntry, LivenessSession, SessionListItem, SessionStatus } from '../../core/session.js';
import { isRestError, type StorageClients } from './clients.js';

const SESSION_ROW = 'session';
const MAX_SECONDS = 9_999_999_999;
const MAX_MS = 9_999_999_999_999;

export interface TableNames { sessions: string; auditEntries: string; byCreated: string; sweepSchedule: string }

export function tableNames(prefix: string): TableNames {
  return {
    sessions: `${prefix}LivenessSessions`,
    auditEntries: `${prefix}LivenessAuditEntries`,
    byCreated: `${prefix}LivenessSessionsByCreated`,
    sweepSchedule: `${prefix}LivenessSweepSchedule`,
  };
}

export function createdIndexKey(createdDateTime: string, sessionId: string) {
  const ms = Date.parse(createdDateTime);
  return {
    partitionKey: String(MAX_SECONDS - Math.floor(ms / 1000)).padStart(10, '0'),
    rowKey: `${String(MAX_MS - ms).padStart(13, '0')}|${sessionId}`,
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
  enableSessionImage: boolean;
  modelVersion?: string;
  status: string;
  decisionJson?: string;
  verifyImageJson: string;
  storedVerifyImageJson: string;
  completionRequestedDateTime?: string;
  resultCollectedDateTime?: string;
  resultJson?: string;
  failureReason?: string;
  faceSessionDeleted: boolean;
  imagesDeleted: boolean;
  sessionImageBlobsJson: string;
  deleting: boolean;
  nextSweepDateTime?: string;
}

interface CreatedIndexEntity {
  partitionKey: string;
  rowKey: string;
  sessionId: string;
  createdDateTime: string;
  status: string;
  deviceCorrelationId?: string;
  authTokenTimeToLiveInSeconds: number;
  authTokenExpiresDateTime: string;
}

export interface TableSessionRepositoryOptions {
  /** Observes every query filter sent (the bench prints them to show the sweep uses key ranges). */
  onQuery?: (table: string, filter: string) => void;
}

export class TableSessionRepository implements SessionRepository {
  private readonly sessions: TableClient;
  private readonly audit: TableClient;
  private readonly byCreated: TableClient;
  private readonly sweep: TableClient;
  private ready: Promise<unknown> | undefined;

  constructor(clients: StorageClients, prefix: string, private readonly options: TableSessionRepositoryOptions = {}) {
    const names = tableNames(prefix);
    this.sessions = clients.table(names.sessions);
    this.audit = clients.table(names.auditEntries);
    this.byCreated = clients.table(names.byCreated);
    this.sweep = clients.table(names.sweepSchedule);
  }

  /** Creates the tables once per instance (createTable ignores "already exists"). */
  ensureTables(): Promise<unknown> {
    return (this.ready ??= Promise.all([this.sessions, this.audit, this.byCreated, this.sweep].map((t) => t.createTable()))
      .catch((error) => {
        this.ready = undefined;
        throw error;
      }));
  }

  async create(session: LivenessSession): Promise<LivenessSession> {
    return guard(async () => {
      await this.ensureTables();
      const results = await Promise.allSettled([
        this.insertSessionRow(session),
        session.nextSweepDateTime ? this.upsertSweepRow(session.sessionId, session.nextSweepDateTime) : undefined,
      ]);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        // Leave no half-written session: remove both rows (whichever landed; a lost answer may hide one).
        await Promise.allSettled([
          this.sessions.deleteEntity(session.sessionId, SESSION_ROW),
          session.nextSweepDateTime ? this.reschedule(session.sessionId, session.nextSweepDateTime, undefined) : undefined,
        ]);
        throw (failed as PromiseRejectedResult).reason;
      }
      return { ...session, etag: (results[0] as PromiseFulfilledResult<string | undefined>).value };
    });
  }

  async addToList(session: LivenessSession): Promise<void> {
    await guard(() => this.byCreated.upsertEntity(toCreatedIndex(session), 'Replace'));
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
      const existing = await this.sessions.getEntity<SessionEntity>(session.sessionId, SESSION_ROW);
      if (existing.storedVerifyImageJson === JSON.stringify(session.storedVerifyImage)) return existing.etag;
      throw new ConflictError('SessionExists', `Session ${session.sessionId} already exists.`);
    }
  }

  async get(sessionId: string): Promise<LivenessSession | undefined> {
    return guard(async () => {
      await this.ensureTables();
      try {
        const entity = await this.sessions.getEntity<SessionEntity>(sessionId, SESSION_ROW);
        return fromEntity(entity);
      } catch (error) {
        if (isRestError(error, 404)) return undefined;
        throw error;
      }
    });
  }

  async update(session: LivenessSession): Promise<LivenessSession> {
    return guard(async () => {
      try {
        const response = await this.sessions.updateEntity(toEntity(session), 'Replace', { etag: session.etag ?? '*' });
        return { ...session, etag: response.etag };
      } catch (error) {
        if (isRestError(error, 412)) throw new ConflictError('ConcurrentUpdate', `Session ${session.sessionId} changed concurrently.`);
        if (isRestError(error, 404)) throw new NotFoundError();
        throw error;
      }
    });
  }

  async delete(session: LivenessSession): Promise<void> {
    await guard(async () => {
      const created = createdIndexKey(session.createdDateTime, session.sessionId);
      await Promise.all([
        ignore404(this.byCreated.deleteEntity(created.partitionKey, created.rowKey)),
        session.nextSweepDateTime ? this.reschedule(session.sessionId, session.nextSweepDateTime, undefined) : undefined,
      ]);
      // The session row goes last: while it exists, the sweep can still find and finish the deletion.
      await ignore404(this.sessions.deleteEntity(session.sessionId, SESSION_ROW));
    });
  }

  async list(query: ListSessionsQuery): Promise<Page<SessionListItem>> {
    return guard(async () => {
      await this.ensureTables();
      const clauses: string[] = [];
      if (query.status) clauses.push(odata`status eq ${query.status}`);
      if (query.deviceCorrelationId) clauses.push(odata`deviceCorrelationId eq ${query.deviceCorrelationId}`);
      const filter = clauses.join(' and ') || undefined;
      if (filter) this.options.onQuery?.(this.byCreated.tableName, filter);
      const continuationToken = query.continuationToken;
      if (continuationToken !== undefined) checkContinuationToken(continuationToken);
      const pages = this.byCreated
        .listEntities<CreatedIndexEntity>({ queryOptions: filter ? { filter } : {} })
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

  async upsertAuditEntries(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await guard(async () => {
      await this.ensureTables();
      const actions: TransactionAction[] = entries.map((entry) => ['upsert', {
        partitionKey: entry.sessionId,
        rowKey: String(entry.id).padStart(10, '0'),
        entryJson: JSON.stringify(entry),
      }, 'Replace']);
      for (let i = 0; i < actions.length; i += 100) await this.audit.submitTransaction(actions.slice(i, i + 100));
    });
  }

  async listAuditEntries(sessionId: string): Promise<AuditEntry[]> {
    return guard(async () => {
      await this.ensureTables();
      const entries: AuditEntry[] = [];
      const filter = odata`PartitionKey eq ${sessionId}`;
      for await (const e of this.audit.listEntities<{ entryJson: string }>({ queryOptions: { filter } })) {
        entries.push(JSON.parse(e.entryJson) as AuditEntry);
      }
      return entries.sort((a, b) => a.id - b.id);
    });
  }

  async deleteAuditEntries(sessionId: string): Promise<void> {
    await guard(async () => {
      await this.ensureTables();
      const filter = odata`PartitionKey eq ${sessionId}`;
      const keys: TransactionAction[] = [];
      for await (const e of this.audit.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) {
        keys.push(['delete', { partitionKey: sessionId, rowKey: e.rowKey! }]);
      }
      for (let i = 0; i < keys.length; i += 100) {
        await this.audit.submitTransaction(keys.slice(i, i + 100)).catch((error) => {
          if (!isRestError(error, 404)) throw error; // a concurrent delete got there first
        });
      }
    });
  }

  async listDue(now: Date, pageSize: number, continuationToken?: string): Promise<Page<DueSession>> {
    return guard(async () => {
      await this.ensureTables();
      const filter = dueFilter(now);
      this.options.onQuery?.(this.sweep.tableName, filter);
      if (continuationToken !== undefined) checkContinuationToken(continuationToken);
      const pages = this.sweep
        .listEntities<{ sessionId: string; dueDateTime: string }>({ queryOptions: { filter, select: ['sessionId', 'dueDateTime'] } })
        .byPage({ maxPageSize: pageSize, continuationToken });
      for await (const page of pages) {
        return {
          items: page.map((e) => ({ sessionId: e.sessionId, dueDateTime: e.dueDateTime })),
          continuationToken: page.continuationToken,
        };
      }
      return { items: [] };
    });
  }

  async reschedule(sessionId: string, previousDue: string | undefined, nextDue: string | undefined): Promise<void> {
    await guard(async () => {
      const same = previousDue && nextDue && new Date(previousDue).getTime() === new Date(nextDue).getTime();
      if (same) return;
      if (nextDue) await this.upsertSweepRow(sessionId, nextDue);
      if (previousDue) {
        const k = sweepIndexKey(previousDue, sessionId);
        await ignore404(this.sweep.deleteEntity(k.partitionKey, k.rowKey));
      }
    });
  }

  async syncListStatus(session: LivenessSession): Promise<void> {
    await guard(async () => {
      const k = createdIndexKey(session.createdDateTime, session.sessionId);
      // Merge (not insert): never resurrect the row of a session deleted meanwhile.
      await ignore404(this.byCreated.updateEntity({ ...k, status: session.status }, 'Merge'));
    });
  }

  private async upsertSweepRow(sessionId: string, dueDateTime: string): Promise<void> {
    const k = sweepIndexKey(dueDateTime, sessionId);
    await this.sweep.upsertEntity({ ...k, sessionId, dueDateTime: new Date(dueDateTime).toISOString() }, 'Replace');
  }
}

function checkContinuationToken(token: string): void {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { nextPartitionKey?: unknown };
    if (typeof parsed.nextPartitionKey === 'string') return;
  } catch {
    // fall through
  }
  throw new ValidationError('InvalidContinuationToken', 'continuationToken is not one this API returned.');
}

function toEntity(s: LivenessSession): SessionEntity {
  return {
    partitionKey: s.sessionId,
    rowKey: SESSION_ROW,
    createdDateTime: s.createdDateTime,
    authTokenTimeToLiveInSeconds: s.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: s.authTokenExpiresDateTime,
    livenessOperationMode: s.livenessOperationMode,
    ...(s.deviceCorrelationId !== undefined ? { deviceCorrelationId: s.deviceCorrelationId } : {}),
    ...(s.faceSessionId !== undefined ? { faceSessionId: s.faceSessionId } : {}),
    ...(s.subject !== undefined ? { subject: s.subject } : {}),
    enableSessionImage: s.enableSessionImage,
    ...(s.modelVersion !== undefined ? { modelVersion: s.modelVersion } : {}),
    status: s.status,
    ...(s.decision ? { decisionJson: JSON.stringify(s.decision) } : {}),
    verifyImageJson: JSON.stringify(s.verifyImage),
    storedVerifyImageJson: JSON.stringify(s.storedVerifyImage),
    ...(s.completionRequestedDateTime ? { completionRequestedDateTime: s.completionRequestedDateTime } : {}),
    ...(s.resultCollectedDateTime ? { resultCollectedDateTime: s.resultCollectedDateTime } : {}),
    ...(s.result ? { resultJson: JSON.stringify(s.result) } : {}),
    ...(s.failureReason ? { failureReason: s.failureReason } : {}),
    faceSessionDeleted: s.faceSessionDeleted,
    imagesDeleted: s.imagesDeleted,
    sessionImageBlobsJson: JSON.stringify(s.sessionImageBlobs),
    deleting: s.deleting,
    ...(s.nextSweepDateTime ? { nextSweepDateTime: s.nextSweepDateTime } : {}),
  };
}

function fromEntity(e: TableEntityResult<SessionEntity>): LivenessSession {
  return {
    sessionId: e.partitionKey!,
    createdDateTime: e.createdDateTime,
    authTokenTimeToLiveInSeconds: e.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: e.authTokenExpiresDateTime,
    livenessOperationMode: e.livenessOperationMode as LivenessSession['livenessOperationMode'],
    ...(e.deviceCorrelationId !== undefined ? { deviceCorrelationId: e.deviceCorrelationId } : {}),
    ...(e.faceSessionId !== undefined ? { faceSessionId: e.faceSessionId } : {}),
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    enableSessionImage: e.enableSessionImage,
    ...(e.modelVersion !== undefined ? { modelVersion: e.modelVersion } : {}),
    status: e.status as SessionStatus,
    ...(e.decisionJson ? { decision: JSON.parse(e.decisionJson) } : {}),
    verifyImage: JSON.parse(e.verifyImageJson),
    storedVerifyImage: JSON.parse(e.storedVerifyImageJson),
    ...(e.completionRequestedDateTime ? { completionRequestedDateTime: e.completionRequestedDateTime } : {}),
    ...(e.resultCollectedDateTime ? { resultCollectedDateTime: e.resultCollectedDateTime } : {}),
    ...(e.resultJson ? { result: JSON.parse(e.resultJson) } : {}),
    ...(e.failureReason ? { failureReason: e.failureReason } : {}),
    faceSessionDeleted: e.faceSessionDeleted,
    imagesDeleted: e.imagesDeleted,
    sessionImageBlobs: JSON.parse(e.sessionImageBlobsJson ?? '[]'),
    deleting: e.deleting ?? false,
    ...(e.nextSweepDateTime ? { nextSweepDateTime: e.nextSweepDateTime } : {}),
    etag: e.etag,
  };
}

function toCreatedIndex(s: LivenessSession): CreatedIndexEntity {
  return {
    ...createdIndexKey(s.createdDateTime, s.sessionId),
    sessionId: s.sessionId,
    createdDateTime: s.createdDateTime,
    status: s.status,
    ...(s.deviceCorrelationId !== undefined ? { deviceCorrelationId: s.deviceCorrelationId } : {}),
    authTokenTimeToLiveInSeconds: s.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: s.authTokenExpiresDateTime,
  };
}

function toListItem(e: CreatedIndexEntity): SessionListItem {
  return {
    id: e.sessionId,
    createdDateTime: e.createdDateTime,
    status: e.status as SessionStatus,
    ...(e.deviceCorrelationId !== undefined ? { deviceCorrelationId: e.deviceCorrelationId } : {}),
    authTokenTimeToLiveInSeconds: e.authTokenTimeToLiveInSeconds,
    authTokenExpiresDateTime: e.authTokenExpiresDateTime,
  };
}

async function ignore404(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (error) {
    if (!isRestError(error, 404)) throw error;
  }
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ConflictError || error instanceof NotFoundError || error instanceof ValidationError
      || error instanceof StorageUnavailableError) throw error;
    throw new StorageUnavailableError('Table storage request failed.', { cause: error });
  }
}
