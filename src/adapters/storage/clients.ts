// Storage service clients built from the config: a connection string locally (Azurite), identity-based URIs with
// DefaultAzureCredential in Azure (the same AzureWebJobsStorage__* settings the Functions host uses for triggers).
import { odata, TableClient, type TransactionAction } from '@azure/data-tables';
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
 * Whether a storage failure is an outage, worth a retry later: a 5xx or 408 from the service, or a request that never
 * got an answer (an SDK RestError with no status: connection refused or reset, DNS; or a timeout/abort). A 4xx is
 * not: 400/413 mean we sent something wrong, 404/409/412 are answers the adapter handles itself (or a bug when one
 * escapes it), 403 is a missing role assignment.
 */
export function isStorageOutage(error: unknown): boolean {
  const e = error as { name?: string; statusCode?: number; code?: string } | undefined;
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return true;
  if (e?.name !== 'RestError') return false;
  if (e.statusCode === undefined) return true;
  return e.statusCode >= 500 || e.statusCode === 408;
}

/**
 * Turns an outage of the storage service (see isStorageOutage) into StorageUnavailableError, which callers answer
 * with 503 + Retry-After. Anything else, a 4xx RestError or a bug, passes through unchanged and becomes a 500: a
 * programming error must not look like an outage (nor invite the caller to retry it).
 */
export async function guardStorage<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isStorageOutage(error)) throw new StorageUnavailableError(`${what} failed.`, { cause: error });
    throw error;
  }
}

/**
 * The ETag a conditional write of `record` must carry. A record read from storage always has one; one without is a
 * bug (a record made up by the caller), and writing it unconditionally ('*') would overwrite whatever a concurrent
 * writer stored, so it is refused.
 */
export function requireEtag(record: { etag?: string }, what: string): string {
  if (!record.etag) throw new Error(`${what}: refusing a write without an ETag (it would overwrite concurrent changes)`);
  return record.etag;
}

/**
 * Every row of one partition, each the value the adapter wrote as JSON into `column` (from a typed, checked value:
 * the rows are the adapter's own), in key order.
 */
export async function partitionValues<T>(table: TableClient, partitionKey: string, column: string): Promise<T[]> {
  const values: T[] = [];
  const filter = odata`PartitionKey eq ${partitionKey}`;
  for await (const e of table.listEntities<Record<string, string>>({ queryOptions: { filter, select: [column] } })) {
    values.push(JSON.parse(e[column]!) as T);
  }
  return values;
}

/**
 * A queue message's text: base64 of its JSON, because the Functions queue trigger decodes base64
 * (host.json extensions.queues.messageEncoding); the JS SDK does not encode by itself.
 */
export function queueMessageText(message: unknown): string {
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}

/** A read whose 404 means "there is none". */
export async function orAbsent<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isRestError(error, 404)) return undefined;
    throw error;
  }
}

/** A delete whose 404 means "already gone": deletes are idempotent. */
export async function ignore404(remove: Promise<unknown>): Promise<void> {
  await orAbsent(remove);
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
      for (const [, entity] of batch) await ignore404(table.deleteEntity(entity.partitionKey, entity.rowKey));
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
