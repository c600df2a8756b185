// IdempotencyStore over Table storage: PK = the subject key (scope), RK = SHA-256 of the Idempotency-Key, so a
// subject's keys are one partition (found and erased by key). Inserting the row claims the
// key atomically (a 409 means someone else holds it); an expired row is taken over with an ETag-guarded replace.
import { createHash, randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { IdempotencyRecord, IdempotencyStore } from '../../core/ports.js';
import { guardStorage, isRestError, onceUntilFailure, type StorageClients } from './clients.js';
import { withOptimisticConcurrency } from './optimistic.js';
import { tableNames } from './table-session-repository.js';

interface KeyEntity {
  partitionKey: string; rowKey: string; requestHash: string; state: string; sessionId?: string; createdDateTime: string;
  /** Unique per claim: tells our own insert (retried by the SDK after a lost answer) from someone else's. */
  claimId: string;
}

/** Longer than a create can take (Face timeout × retries, storage writes). */
const IN_PROGRESS_TIMEOUT_MS = 120_000;

export class TableIdempotencyStore implements IdempotencyStore {
  private readonly table: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string, private readonly ttlSeconds: number) {
    this.table = clients.table(tableNames(prefix).idempotencyKeys);
    this.ensure = onceUntilFailure(() => this.table.createTable());
  }

  async claim(scope: string, key: string, record: IdempotencyRecord, now: Date): Promise<IdempotencyRecord | undefined> {
    const k = keyOf(scope, key);
    const entity: KeyEntity = { ...k, requestHash: record.requestHash, state: record.state, createdDateTime: record.createdDateTime, claimId: randomUUID() };
    return guardStorage('Recording the Idempotency-Key', async () => {
      await this.ensure();
      // Each round: insert (the claim); if the key is held, read the holder; take over an expired claim with an
      // ETag-guarded replace. A row that vanishes or changes between those steps makes the round lose (409/412).
      return withOptimisticConcurrency(async () => {
        let inserted: unknown;
        try {
          await this.table.createEntity(entity);
          return undefined;
        } catch (error) {
          if (!isRestError(error, 409)) throw error;
          inserted = error;
        }
        let existing;
        try {
          existing = await this.table.getEntity<KeyEntity>(k.partitionKey, k.rowKey);
        } catch (error) {
          if (isRestError(error, 404)) throw inserted; // released meanwhile: claim again
          throw error;
        }
        if (existing.claimId === entity.claimId) return undefined; // our own insert landed after all
        const age = now.getTime() - Date.parse(existing.createdDateTime);
        // A claim still in progress after longer than any create can take belongs to a request that died midway.
        const expired = age > this.ttlSeconds * 1000 || (existing.state !== 'done' && age > IN_PROGRESS_TIMEOUT_MS);
        if (!expired) {
          return {
            requestHash: existing.requestHash,
            state: existing.state === 'done' ? 'done' as const : 'in-progress' as const,
            ...(existing.sessionId ? { sessionId: existing.sessionId } : {}),
            createdDateTime: existing.createdDateTime,
          };
        }
        try {
          await this.table.updateEntity(entity, 'Replace', { etag: existing.etag });
        } catch (error) {
          if (isRestError(error, 404)) throw inserted; // released meanwhile: claim again
          throw error;
        }
        return undefined;
      }, { maxRounds: 3, what: 'The Idempotency-Key' });
    });
  }

  async complete(scope: string, key: string, sessionId: string): Promise<void> {
    await guardStorage('Recording the Idempotency-Key', () =>
      this.table.updateEntity({ ...keyOf(scope, key), state: 'done', sessionId }, 'Merge'));
  }

  async release(scope: string, key: string): Promise<void> {
    const k = keyOf(scope, key);
    await guardStorage('Releasing the Idempotency-Key', async () => {
      try {
        await this.table.deleteEntity(k.partitionKey, k.rowKey);
      } catch (error) {
        if (!isRestError(error, 404)) throw error;
      }
    });
  }
}

function keyOf(scope: string, key: string) {
  return { partitionKey: scope, rowKey: createHash('sha256').update(key).digest('hex') };
}
