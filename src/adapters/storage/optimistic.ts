// The one optimistic-concurrency loop of the storage adapters. Table storage has no transactions across rows, so a
// read-modify-write is made safe by writing conditionally (an ETag, or an insert that fails when the row exists) and,
// when another writer got there first, reading again and re-applying the change. Every record that more than one
// invocation may write at once (sessions, subjects, and the per-subject records of table-subject-records.ts) goes
// through here.
import { ConflictError } from '../../core/errors.js';
import { isRestError } from './clients.js';

/** How many read-modify-write rounds before giving up: enough for a handful of racing writers on one record. */
export const DEFAULT_MAX_ROUNDS = 8;

/** A round that found the record changed under it in another way (deleted between read and write): run it again. */
export class RoundLost extends Error {
  override name = 'RoundLost';
}

/** A conditional write lost to a concurrent writer: 412 (ETag mismatch) on update, 409 on insert, or RoundLost. */
export function isConcurrencyConflict(error: unknown): boolean {
  return error instanceof RoundLost || isRestError(error, 409, 412);
}

/**
 * Runs `round` (read, decide, write conditionally) until it returns without a concurrency conflict.
 * @throws ConflictError when `maxRounds` rounds all lost; any other error at once
 */
export async function withOptimisticConcurrency<T>(
  round: () => Promise<T>,
  options: { maxRounds?: number; what?: string } = {},
): Promise<T> {
  const maxRounds = options.maxRounds ?? DEFAULT_MAX_ROUNDS;
  for (let n = 1; ; n++) {
    try {
      return await round();
    } catch (error) {
      if (!isConcurrencyConflict(error)) throw error;
      if (n >= maxRounds) {
        throw new ConflictError('ConcurrentUpdate', `${options.what ?? 'The record'} is changing too often; try again.`, { cause: error });
      }
    }
  }
}
