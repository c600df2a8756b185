// CreateJournal over Table storage: PK = the minute the create began ("yyyyMMddHHmm"), RK = intent id. The sweep
// lists stale intents with a key-range query (partitions before a cut-off minute), like the sweep schedule.
import type { TableClient } from '@azure/data-tables';
import { StorageUnavailableError } from '../../core/errors.js';
import type { CreateIntent, CreateJournal } from '../../core/ports.js';
import { isRestError, type StorageClients } from './clients.js';

interface IntentEntity { partitionKey: string; rowKey: string; blobName: string; createdDateTime: string; faceSessionId?: string }

const bucket = (iso: string) => iso.slice(0, 16).replace(/[-T:]/g, '');

export class TableCreateJournal implements CreateJournal {
  private readonly table: TableClient;
  private ready: Promise<unknown> | undefined;

  constructor(clients: StorageClients, prefix: string, private readonly onQuery?: (table: string, filter: string) => void) {
    this.table = clients.table(`${prefix}LivenessCreateIntents`);
  }

  async open(intent: CreateIntent): Promise<void> {
    await guard(async () => {
      await (this.ready ??= this.table.createTable().catch((e) => { this.ready = undefined; throw e; }));
      await this.table.createEntity(toEntity(intent));
    });
  }

  async attachFaceSession(intent: CreateIntent, faceSessionId: string): Promise<void> {
    await guard(() => this.table.updateEntity({ ...keys(intent), faceSessionId }, 'Merge'));
  }

  async close(intent: CreateIntent): Promise<void> {
    await guard(async () => {
      try {
        await this.table.deleteEntity(bucket(intent.createdDateTime), intent.intentId);
      } catch (error) {
        if (!isRestError(error, 404)) throw error;
      }
    });
  }

  async listStale(olderThan: Date, pageSize: number): Promise<CreateIntent[]> {
    return guard(async () => {
      await (this.ready ??= this.table.createTable().catch((e) => { this.ready = undefined; throw e; }));
      const filter = `PartitionKey lt '${bucket(olderThan.toISOString())}'`;
      this.onQuery?.(this.table.tableName, filter);
      for await (const page of this.table.listEntities<IntentEntity>({ queryOptions: { filter } }).byPage({ maxPageSize: pageSize })) {
        return page.map((e) => ({
          intentId: e.rowKey!, blobName: e.blobName, createdDateTime: e.createdDateTime,
          ...(e.faceSessionId ? { faceSessionId: e.faceSessionId } : {}),
        }));
      }
      return [];
    });
  }
}

function keys(intent: CreateIntent) {
  return { partitionKey: bucket(intent.createdDateTime), rowKey: intent.intentId };
}

function toEntity(intent: CreateIntent): IntentEntity {
  return { ...keys(intent), blobName: intent.blobName, createdDateTime: intent.createdDateTime };
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new StorageUnavailableError('Create journal request failed.', { cause: error });
  }
}
