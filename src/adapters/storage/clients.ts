// Storage service clients built from the config: a connection string locally (Azurite), identity-based URIs with
// DefaultAzureCredential in Azure (the same AzureWebJobsStorage__* settings the Functions host uses for triggers).
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { StorageUnavailableError, ValidationError } from '../../core/errors.js';
import { lazyDefaultAzureCredential } from '../auth/lazy-credential.js';

/** How to reach storage: a connection string (Azurite, local runs), or the services' URIs with a managed identity. */
export type StorageConnection =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; blobServiceUri: string; queueServiceUri: string; tableServiceUri: string; clientId?: string };

export interface StorageClients {
  table(name: string): TableClient;
  blobService: BlobServiceClient;
  queueService: QueueServiceClient;
}

export function createStorageClients(connection: StorageConnection): StorageClients {
  if (connection.kind === 'connectionString') {
    const cs = connection.connectionString;
    // data-tables refuses plain http unless told; Azurite connection strings are http.
    const allowInsecureConnection = /UseDevelopmentStorage=true|DefaultEndpointsProtocol=http;/i.test(cs);
    return {
      table: (name) => TableClient.fromConnectionString(cs, name, { allowInsecureConnection }),
      blobService: BlobServiceClient.fromConnectionString(cs),
      queueService: QueueServiceClient.fromConnectionString(cs),
    };
  }
  const credential = lazyDefaultAzureCredential(connection.clientId);
  return {
    table: (name) => new TableClient(connection.tableServiceUri, name, credential),
    blobService: new BlobServiceClient(connection.blobServiceUri, credential),
    queueService: new QueueServiceClient(connection.queueServiceUri, credential),
  };
}

/**
 * Runs `create` (a container, queue or table create-if-missing) on the first call and shares its promise with every
 * later call; after a failure, the next call tries again instead of repeating the failure forever.
 */
export function onceUntilFailure(create: () => Promise<unknown>): () => Promise<unknown> {
  let pending: Promise<unknown> | undefined;
  return () => (pending ??= create().catch((error: unknown) => {
    pending = undefined;
    throw error;
  }));
}

/** True for the SDKs' RestError with the given status (checked by name, per the Azure SDK guidelines). */
export function isRestError(error: unknown, ...statuses: number[]): error is { statusCode: number } {
  const e = error as { name?: string; statusCode?: number } | undefined;
  return e?.name === 'RestError' && (statuses.length === 0 || statuses.includes(e.statusCode ?? -1));
}

/**
 * Turns a failure of the storage service (an SDK RestError: an error status, a timeout or a network error) into
 * StorageUnavailableError, which callers answer with 503 + Retry-After. Anything else, a bug included, passes through
 * unchanged and becomes a 500: a programming error must not look like an outage.
 */
export async function guardStorage<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isRestError(error) || (error as Error | undefined)?.name === 'AbortError') {
      throw new StorageUnavailableError(`${what} failed.`, { cause: error });
    }
    throw error;
  }
}

/**
 * Deletes rows of one partition in entity group transactions (at most 100 each). A transaction fails whole when one
 * of its rows is already gone (a concurrent or earlier interrupted delete), so such a batch is redone row by row.
 */
export async function deleteInBatches(table: TableClient, deletes: TransactionAction[]): Promise<void> {
  for (let i = 0; i < deletes.length; i += 100) {
    const batch = deletes.slice(i, i + 100);
    try {
      await table.submitTransaction(batch);
    } catch (error) {
      if (!isRestError(error, 404)) throw error;
      for (const [, entity] of batch) {
        await table.deleteEntity(entity.partitionKey, entity.rowKey).catch((e: unknown) => {
          if (!isRestError(e, 404)) throw e;
        });
      }
    }
  }
}

/**
 * A continuation token is @azure/data-tables' own: base64 of {"nextPartitionKey": string, "nextRowKey"?: string}.
 * Anything else (another shape, a key that is not a bounded string) is the caller's mistake, a 400, never handed to
 * the SDK (a nextRowKey object used to surface as a 503).
 */
export function checkContinuationToken(token: string): void {
  // Table keys: at most 1 KiB, no control characters.
  const key = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 1024 && [...v].every((c) => c >= ' ' && c !== '\x7f');
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const { nextPartitionKey, nextRowKey, ...rest } = parsed as Record<string, unknown>;
      if (key(nextPartitionKey) && (nextRowKey === undefined || key(nextRowKey)) && Object.keys(rest).length === 0) return;
    }
  } catch {
    // fall through
  }
  throw new ValidationError('InvalidContinuationToken', 'continuationToken is not one this API returned.');
}
