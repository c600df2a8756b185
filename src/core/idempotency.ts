// Idempotency-Keys: the first create with a key claims it (in progress), then records the session it made (done); a
// retry with the key gets that session. A claim expires after the TTL (IDEMPOTENCY_TTL_SECONDS), and a claim still
// in progress after longer than any create can take belongs to a request that died midway, so it may be taken over.
// Pure rules over the key's record; idempotencyStore applies them through the store's conditional read-modify-write.
import { randomUUID } from 'node:crypto';
import { ConflictError, IdempotencyError } from './errors.js';
import type { IdempotencyRecord, IdempotencyRecords, IdempotencyStore, Logger, RecordUpdate } from './ports.js';

/** Longer than a create can take (Face timeout × retries, storage writes). */
export const IN_PROGRESS_TIMEOUT_MS = 120_000;

/** Whether a claim may be taken over: older than the TTL, or still in progress after the in-progress timeout. */
export function claimExpired(record: IdempotencyRecord, now: Date, ttlSeconds: number): boolean {
  const age = now.getTime() - Date.parse(record.createdDateTime);
  return age > ttlSeconds * 1000 || (record.state !== 'done' && age > IN_PROGRESS_TIMEOUT_MS);
}

/**
 * Claims the key for `claim` (which carries its own claim id): granted (undefined) when the key is free, expired, or
 * already ours (our write landed but its answer was lost); otherwise the holder's record, which is left as it is.
 */
export function claimKey(
  current: IdempotencyRecord | undefined, claim: IdempotencyRecord & { claimId: string }, now: Date, ttlSeconds: number,
): RecordUpdate<IdempotencyRecord, IdempotencyRecord | undefined> {
  if (current?.claimId !== undefined && current.claimId === claim.claimId) return { result: undefined };
  if (current && !claimExpired(current, now, ttlSeconds)) {
    const { claimId: _claimId, ...holder } = current;
    return { result: holder };
  }
  return { next: claim, result: undefined };
}

/** Records the session the claim made; nothing to write when the key is gone (released, or erased meanwhile). */
export function completeClaim(current: IdempotencyRecord | undefined, sessionId: string): RecordUpdate<IdempotencyRecord, boolean> {
  if (!current) return { result: false };
  return { next: { ...current, state: 'done', sessionId }, result: true };
}

export function idempotencyStore(records: IdempotencyRecords, ttlSeconds: number): IdempotencyStore {
  return {
    claim: (subjectKey, key, record, now) => {
      const claim = { ...record, claimId: randomUUID() };
      return records.update({ subjectKey, key }, (current) => claimKey(current, claim, now, ttlSeconds));
    },
    complete: async (subjectKey, key, sessionId) => {
      if (!await records.update({ subjectKey, key }, (current) => completeClaim(current, sessionId))) {
        throw new ConflictError('IdempotencyKeyGone', 'The Idempotency-Key was released before its session was recorded.');
      }
    },
    release: (subjectKey, key) => records.delete({ subjectKey, key }),
  };
}

/** One create under an Idempotency-Key: the key under the person's key, and the hash of what was asked. */
export interface KeyedCreate<T> {
  subjectKey: string;
  key: string;
  requestHash: string;
  now: Date;
  /** Makes the thing (a session, a verification) the first time. */
  create: () => Promise<T>;
  /** The id recorded under the key. */
  idOf: (made: T) => string;
  /** The answer of a retry, rebuilt from the recorded id. */
  replay: (id: string) => Promise<T>;
}

/**
 * The Idempotency-Key rule of a create: the first request claims the key, makes the thing and records its id; a retry
 * with the same request gets the recorded one (`replay`), a different request under the key is a 422, one while the
 * first still runs a 409. A create that fails gives the key back.
 */
export async function createOncePerKey<T>(
  deps: { idempotency: IdempotencyStore; logger: Logger }, op: KeyedCreate<T>,
): Promise<T & { replayed: boolean }> {
  const { subjectKey, key, requestHash, now } = op;
  const existing = await deps.idempotency.claim(subjectKey, key, { requestHash, state: 'in-progress', createdDateTime: now.toISOString() }, now);
  if (existing) {
    if (existing.requestHash !== requestHash) {
      throw new IdempotencyError('IdempotencyKeyReused', 'This Idempotency-Key was used with a different request.', 422);
    }
    if (existing.state !== 'done' || !existing.sessionId) {
      throw new IdempotencyError('RequestInProgress', 'A request with this Idempotency-Key is still being processed.', 409);
    }
    return { ...(await op.replay(existing.sessionId)), replayed: true };
  }
  let made: T;
  try {
    made = await op.create();
  } catch (error) {
    await deps.idempotency.release(subjectKey, key).catch(() => undefined);
    throw error;
  }
  try {
    await deps.idempotency.complete(subjectKey, key, op.idOf(made));
  } catch (error) {
    // What was made exists and is returned; a retry with this key sees "in progress" until the claim times out (2 min).
    deps.logger.warn('could not record the idempotency key', { id: op.idOf(made), error: (error as Error).name });
  }
  return { ...made, replayed: false };
}
