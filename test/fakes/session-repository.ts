// An in-memory SessionRepository with the semantics of the Table adapter (src/adapters/storage/
// table-session-repository.ts): ETags on every row, mutate() as the one conditional read-modify-write with a bounded
// number of rounds, create refusing an existing id, a separate sweep index kept in step with nextSweepDateTime
// (index row written before the session row moves, the old one removed after; rows that no longer match a session
// are dropped by listDue), the subject-sessions index (written before the session row, removed after it) and the
// review queue (kept in step with awaitingReview on every write). Test hooks: fail or intercept any operation, slip a writer in just before a conditional
// write ('write'), lose the answer of a write that landed, count calls.
import { validate as uuidValidate, version as uuidVersion } from 'uuid';
import { ConflictError, ValidationError } from '../../src/core/errors.js';
import type { ListSessionsQuery, Page, SessionChange, SessionRepository } from '../../src/core/ports.js';
import { awaitingReview, listItemOf, type LivenessSession, type SessionListItem } from '../../src/core/session.js';
import { OperationHooks } from './hooks.js';

export type SessionRepositoryOperation =
  | 'create' | 'get' | 'mutate' | 'delete' | 'list' | 'listDue' | 'listBySubject' | 'listAwaitingReview' | 'write';

/** The adapter's bound (DEFAULT_MAX_ROUNDS in src/adapters/storage/optimistic.ts). */
export const MAX_ROUNDS = 8;

const clone = <T>(value: T): T => structuredClone(value);
/** What storage keeps of a record: the Table adapter writes no column for an undefined field. */
const asStored = (session: LivenessSession): LivenessSession => JSON.parse(JSON.stringify(session)) as LivenessSession;
const normalise = (dateTime: string | undefined) => (dateTime === undefined ? undefined : new Date(dateTime).toISOString());
const indexKey = (due: string, sessionId: string) => `${normalise(due)}|${sessionId}`;
const reviewKey = (s: Pick<LivenessSession, 'createdDateTime' | 'sessionId'>) => `${normalise(s.createdDateTime)}|${s.sessionId}`;

/** The creation time inside a UUIDv7 (what the adapter's row keys are made of). */
function idMilliseconds(sessionId: string): number {
  return parseInt(sessionId.slice(0, 8) + sessionId.slice(9, 13), 16);
}

/** A continuation token in the SDK's shape, carrying the fake's own position (shared by the fakes that page). */
export function encodeToken(position: string): string {
  return Buffer.from(JSON.stringify({ nextPartitionKey: 'fake', nextRowKey: position })).toString('base64');
}

export function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { nextPartitionKey?: unknown; nextRowKey?: unknown };
    if (typeof parsed.nextPartitionKey === 'string' && typeof parsed.nextRowKey === 'string') return parsed.nextRowKey;
  } catch {
    // fall through
  }
  throw new ValidationError('InvalidContinuationToken', 'continuationToken is not one this API returned.');
}

export class InMemorySessionRepository implements SessionRepository {
  readonly hooks = new OperationHooks<SessionRepositoryOperation>();
  /** Rounds a mutate may lose to concurrent writers before it gives up with ConflictError('ConcurrentUpdate'). */
  maxRounds = MAX_ROUNDS;
  private readonly rows = new Map<string, LivenessSession>();
  /** Sweep index rows, `${due ISO}|${sessionId}`, as the adapter's LivenessSweepSchedule table holds them. */
  private readonly index = new Set<string>();
  /** Subject-sessions index rows: subject key -> session ids (the adapter's LivenessSubjectSessions partitions). */
  private readonly bySubject = new Map<string, Set<string>>();
  /** Review-queue rows, `${created ISO}|${sessionId}` (the adapter's LivenessReviewQueue). */
  private readonly reviews = new Set<string>();
  private etags = 0;
  private lostAnswers = 0;

  // ------------------------------------------------------------------------------------------------ test helpers

  /** Puts a row in place as it is (with its sweep index row), bypassing hooks: for arranging a test. */
  seed(session: LivenessSession): LivenessSession {
    const row = { ...asStored(session), etag: this.nextEtag() };
    this.rows.set(row.sessionId, row);
    if (row.nextSweepDateTime) this.index.add(indexKey(row.nextSweepDateTime, row.sessionId));
    if (row.subjectKey) this.subjectIds(row.subjectKey).add(row.sessionId);
    if (awaitingReview(row)) this.reviews.add(reviewKey(row));
    return clone(row);
  }

  /** The subject-sessions index of a subject key: session ids, sorted (stale rows included). */
  subjectIndex(subjectKey: string): string[] {
    return [...(this.bySubject.get(subjectKey) ?? [])].sort();
  }

  /** The stored row, without counting a call or running hooks. */
  peek(sessionId: string): LivenessSession | undefined {
    const row = this.rows.get(sessionId);
    return row && clone(row);
  }

  /** Every stored row, newest first. */
  all(): LivenessSession[] {
    return [...this.rows.values()].sort(newestFirst).map(clone);
  }

  /** The sweep index as `{ due, sessionId }`, oldest first (stale rows included). */
  sweepIndex(): Array<{ due: string; sessionId: string }> {
    return [...this.index].sort().map((k) => ({ due: k.slice(0, k.indexOf('|')), sessionId: k.slice(k.indexOf('|') + 1) }));
  }

  /**
   * The next `times` conditional writes land but their callers see a concurrency conflict, as when the SDK retries
   * a write whose answer was lost and gets 412: mutate reads again and re-applies its change to its own write.
   */
  loseNextWriteAnswer(times = 1): void {
    this.lostAnswers += times;
  }

  /** Changes a stored row behind everyone's back (a new ETag, the index kept in step), bypassing hooks. */
  tamper(sessionId: string, change: (current: LivenessSession) => LivenessSession): LivenessSession {
    const current = this.rows.get(sessionId);
    if (!current) throw new Error(`no session ${sessionId} to tamper with`);
    const next = { ...asStored(change(clone(current))), etag: this.nextEtag() };
    this.moveIndex(current, next);
    if (awaitingReview(next)) this.reviews.add(reviewKey(next));
    else this.reviews.delete(reviewKey(current));
    this.rows.set(sessionId, next);
    return clone(next);
  }

  // ------------------------------------------------------------------------------------------------ the port

  async create(session: LivenessSession): Promise<LivenessSession> {
    await this.hooks.enter('create');
    if (this.rows.has(session.sessionId)) throw new ConflictError('SessionExists', `Session ${session.sessionId} already exists.`);
    // The adapter writes the index rows first, so the sweep (and an erasure) can always reach the row.
    if (session.nextSweepDateTime) this.index.add(indexKey(session.nextSweepDateTime, session.sessionId));
    if (session.subjectKey) this.subjectIds(session.subjectKey).add(session.sessionId);
    const row = { ...asStored(session), etag: this.nextEtag() };
    this.rows.set(row.sessionId, row);
    return clone(row);
  }

  async get(sessionId: string): Promise<LivenessSession | undefined> {
    await this.hooks.enter('get');
    return this.read(sessionId);
  }

  async mutate(target: string | LivenessSession, change: SessionChange): Promise<LivenessSession | undefined> {
    await this.hooks.enter('mutate');
    const sessionId = typeof target === 'string' ? target : target.sessionId;
    let snapshot = typeof target === 'string' ? undefined : clone(target);
    for (let round = 1; ; round++) {
      const current = snapshot ?? this.read(sessionId);
      snapshot = undefined; // a lost round reads the row again
      if (!current) return undefined;
      const next = change(clone(current));
      if (!next) return current;
      if (next.sessionId !== current.sessionId) throw new Error('a session change must keep the session id');
      const written = await this.replace(current, next);
      if (written !== 'conflict') return written;
      if (round >= this.maxRounds) {
        throw new ConflictError('ConcurrentUpdate', `Session ${sessionId} is changing too often; try again.`);
      }
    }
  }

  async delete(session: LivenessSession): Promise<void> {
    await this.hooks.enter('delete');
    if (session.nextSweepDateTime) this.index.delete(indexKey(session.nextSweepDateTime, session.sessionId));
    this.reviews.delete(reviewKey(session));
    this.rows.delete(session.sessionId);
    // The subject index row last, so an erasure can reach the session until it is gone.
    if (session.subjectKey) this.bySubject.get(session.subjectKey)?.delete(session.sessionId);
  }

  async listBySubject(subjectKey: string): Promise<LivenessSession[]> {
    await this.hooks.enter('listBySubject');
    const sessions: LivenessSession[] = [];
    for (const sessionId of [...(this.bySubject.get(subjectKey) ?? [])].sort()) {
      const session = this.read(sessionId);
      if (session?.subjectKey === subjectKey) sessions.push(session);
      else this.bySubject.get(subjectKey)?.delete(sessionId); // the session is gone: the index row points at nothing
    }
    return sessions;
  }

  async listAwaitingReview(pageSize: number, continuationToken?: string): Promise<Page<LivenessSession>> {
    await this.hooks.enter('listAwaitingReview');
    const after = continuationToken === undefined ? undefined : decodeToken(continuationToken);
    const waiting = [...this.reviews].sort().filter((k) => after === undefined || k > after);
    const page = waiting.slice(0, pageSize);
    const items: LivenessSession[] = [];
    for (const key of page) {
      const session = this.read(key.slice(key.indexOf('|') + 1));
      if (session && awaitingReview(session) && reviewKey(session) === key) items.push(session);
      else this.reviews.delete(key); // settled, deleted, or a crash between the index write and the session write
    }
    const last = page[page.length - 1];
    return { items, ...(waiting.length > pageSize && last ? { continuationToken: encodeToken(last) } : {}) };
  }

  async list(query: ListSessionsQuery): Promise<Page<SessionListItem>> {
    await this.hooks.enter('list');
    const after = query.continuationToken === undefined ? undefined : decodeToken(query.continuationToken);
    const matching = [...this.rows.values()]
      .filter((s) => (query.status ? s.status === query.status : s.status !== 'Creating'))
      .filter((s) => query.deviceCorrelationId === undefined || s.deviceCorrelationId === query.deviceCorrelationId)
      .sort(newestFirst);
    const start = after === undefined ? 0 : matching.findIndex((s) => listPosition(s) > after);
    const rest = start < 0 ? [] : matching.slice(start);
    const items = rest.slice(0, query.top);
    const last = items[items.length - 1];
    return {
      items: items.map(listItem),
      ...(rest.length > query.top && last ? { continuationToken: encodeToken(listPosition(last)) } : {}),
    };
  }

  async listDue(now: Date, pageSize: number, continuationToken?: string): Promise<Page<LivenessSession>> {
    await this.hooks.enter('listDue');
    const after = continuationToken === undefined ? undefined : decodeToken(continuationToken);
    const limit = `${now.toISOString()}~`;
    const due = [...this.index].sort().filter((k) => k <= limit && (after === undefined || k > after));
    const page = due.slice(0, pageSize);
    const items: LivenessSession[] = [];
    for (const key of page) {
      const sessionId = key.slice(key.indexOf('|') + 1);
      const session = this.read(sessionId);
      if (session && normalise(session.nextSweepDateTime) === key.slice(0, key.indexOf('|'))) items.push(session);
      else this.index.delete(key); // the session is gone, or its due time moved on without this row
    }
    const last = page[page.length - 1];
    return { items, ...(due.length > pageSize && last ? { continuationToken: encodeToken(last) } : {}) };
  }

  // ------------------------------------------------------------------------------------------------ internals

  private read(sessionId: string): LivenessSession | undefined {
    if (!uuidValidate(sessionId) || uuidVersion(sessionId) !== 7) return undefined; // not an id this app minted
    const row = this.rows.get(sessionId);
    return row && clone(row);
  }

  /** The conditional write of one round: the written row, undefined when the row is gone, or 'conflict'. */
  private async replace(current: LivenessSession, next: LivenessSession): Promise<LivenessSession | undefined | 'conflict'> {
    const previousDue = normalise(current.nextSweepDateTime);
    const nextDue = normalise(next.nextSweepDateTime);
    if (nextDue && nextDue !== previousDue) this.index.add(indexKey(nextDue, next.sessionId));
    // The review index follows the same rule: its row exists before the session awaits review, and goes after.
    const wasAwaiting = awaitingReview(current);
    const isAwaiting = awaitingReview(next);
    if (isAwaiting && !wasAwaiting) this.reviews.add(reviewKey(next));
    await this.hooks.enter('write');
    const stored = this.rows.get(next.sessionId);
    if (!stored) return undefined; // deleted meanwhile
    // As the adapter: a write without an ETag is refused, never made unconditionally.
    if (!current.etag) throw new Error(`Session ${next.sessionId}: refusing a write without an ETag (it would overwrite concurrent changes)`);
    if (stored.etag !== current.etag) return 'conflict';
    const written = { ...asStored(next), etag: this.nextEtag() };
    this.rows.set(written.sessionId, written);
    if (this.lostAnswers > 0) {
      this.lostAnswers--;
      return 'conflict'; // the write landed; its caller never heard (and the old index row stays, as in the adapter)
    }
    if (previousDue && previousDue !== nextDue) this.index.delete(indexKey(previousDue, next.sessionId));
    if (wasAwaiting && !isAwaiting) this.reviews.delete(reviewKey(next));
    return clone(written);
  }

  private moveIndex(current: LivenessSession, next: LivenessSession): void {
    if (current.nextSweepDateTime) this.index.delete(indexKey(current.nextSweepDateTime, current.sessionId));
    if (next.nextSweepDateTime) this.index.add(indexKey(next.nextSweepDateTime, next.sessionId));
  }

  private subjectIds(subjectKey: string): Set<string> {
    let ids = this.bySubject.get(subjectKey);
    if (!ids) this.bySubject.set(subjectKey, (ids = new Set()));
    return ids;
  }

  private nextEtag(): string {
    return `W/"${++this.etags}"`;
  }
}

/** The adapter's row key order: newest creation first, then by id. */
function listPosition(s: LivenessSession): string {
  return `${String(9_999_999_999_999 - idMilliseconds(s.sessionId)).padStart(13, '0')}|${s.sessionId}`;
}

function newestFirst(a: LivenessSession, b: LivenessSession): number {
  return listPosition(a) < listPosition(b) ? -1 : listPosition(a) > listPosition(b) ? 1 : 0;
}

function listItem(s: LivenessSession): SessionListItem {
  return listItemOf(s);
}
