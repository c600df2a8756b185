// The storage ports' contract (test/contract/storage-contract.ts) against the real Table, Blob and Queue adapters on
// Azurite: the same cases the in-memory fakes pass in the unit project. Each case gets its own table prefix, container
// and queue names, so cases never see each other's rows.
import { TableVerificationStore } from '../../src/adapters/storage/table-verification-store.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { BlobImageStore } from '../../src/adapters/storage/blob-image-store.js';
import { createStorageClients, type StorageClients } from '../../src/adapters/storage/clients.js';
import { StorageCompletionQueue } from '../../src/adapters/storage/queue-completion-queue.js';
import { StorageWebhookQueue } from '../../src/adapters/storage/queue-webhook-queue.js';
import { TableAuditLog } from '../../src/adapters/storage/table-audit-log.js';
import { TableDeliveryLog } from '../../src/adapters/storage/table-delivery-log.js';
import { tableIdempotencyRecords } from '../../src/adapters/storage/table-idempotency-records.js';
import { tableLimitRecords } from '../../src/adapters/storage/table-limit-records.js';
import { tableQuotaRecords } from '../../src/adapters/storage/table-quota-records.js';
import { TableSessionRepository } from '../../src/adapters/storage/table-session-repository.js';
import { subjectKeyer, TableSubjectStore } from '../../src/adapters/storage/table-subject-store.js';
import {
  auditLogContract, completionQueueContract, deliveryLogContract, imageStoreContract, sessionRepositoryContract, subjectRecordsContract,
  subjectStoreContract, testSession, verificationStoreContract, webhookQueueContract, type BeforeNextWrite,
} from '../contract/storage-contract.js';

const clients = () => createStorageClients({ kind: 'connectionString', connectionString: inject('storageConnectionString') });
/** A fresh name per case: letters and digits (valid for tables, and lower-cased for queues and containers). */
const fresh = () => `c${randomBytes(6).toString('hex')}`;

/**
 * The clients with every table's conditional writes (createEntity, updateEntity) intercepted: a callback registered
 * with beforeNextWrite runs just before the next one goes out, after the adapter's read; what the callback itself
 * writes goes straight through.
 */
function intercepted(base: StorageClients): { clients: StorageClients; beforeNextWrite: BeforeNextWrite } {
  const pending: Array<() => Promise<unknown>> = [];
  const table: StorageClients['table'] = (name) => {
    const client = base.table(name);
    return new Proxy(client, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (prop !== 'createEntity' && prop !== 'updateEntity') return value.bind(target);
        return async (...args: unknown[]) => {
          const callback = pending.shift();
          if (callback) await callback();
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
  };
  return { clients: { ...base, table }, beforeNextWrite: (callback) => { pending.push(callback); } };
}

subjectRecordsContract(async () => {
  const prefix = fresh();
  const [l, q, i] = [intercepted(clients()), intercepted(clients()), intercepted(clients())];
  return {
    limits: { store: tableLimitRecords(l.clients, prefix), beforeNextWrite: l.beforeNextWrite },
    quotas: { store: tableQuotaRecords(q.clients, prefix), beforeNextWrite: q.beforeNextWrite },
    idempotencyKeys: { store: tableIdempotencyRecords(i.clients, prefix), beforeNextWrite: i.beforeNextWrite },
  };
});

sessionRepositoryContract(async () => {
  const { clients: c, beforeNextWrite } = intercepted(clients());
  return { store: new TableSessionRepository(c, fresh()), beforeNextWrite };
});

describe('TableSessionRepository under Face v1.2 (indexFaceSessions: false)', () => {
  it('writes no Face-session index row when a session names its Face session, and finds nothing by that id', async () => {
    const c = clients();
    const prefix = fresh();
    const store = new TableSessionRepository(c, prefix, { indexFaceSessions: false });
    const indexed = new TableSessionRepository(c, prefix); // the same tables, read as a v1.3 deployment would
    const faceId = 'a1b2c3d4-0000-4000-8000-0000000000f1';
    const created = await store.create(testSession(Date.now(), { status: 'Creating' }));
    await store.mutate(created, (current) => ({ ...current, status: 'NotStarted', faceSessionId: faceId }));
    expect((await store.get(created.sessionId))?.faceSessionId).toBe(faceId);
    expect(await store.findByFaceSessionId(faceId)).toBeUndefined();
    expect(await indexed.findByFaceSessionId(faceId)).toBeUndefined(); // no index row was written
  });
});

subjectStoreContract(async () => {
  const { clients: c, beforeNextWrite } = intercepted(clients());
  return { store: new TableSubjectStore(c, fresh(), subjectKeyer('contract-test-secret')), beforeNextWrite };
});

deliveryLogContract(async () => new TableDeliveryLog(clients(), fresh()));
auditLogContract(async () => new TableAuditLog(clients(), fresh()));
imageStoreContract(async () => new BlobImageStore(clients(), fresh()));

/** What a consumer could take off the storage queue now (peek: visible messages only), decoded as the trigger does. */
async function visibleOn(c: StorageClients, queueName: string): Promise<unknown[]> {
  const peeked = await c.queueService.getQueueClient(queueName).peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as unknown);
}

completionQueueContract(async () => {
  const c = clients();
  const name = fresh();
  return { queue: new StorageCompletionQueue(c, name), visible: () => visibleOn(c, name) };
});

webhookQueueContract(async () => {
  const c = clients();
  const name = fresh();
  return { queue: new StorageWebhookQueue(c, name), visible: () => visibleOn(c, name) };
});

verificationStoreContract(async () => {
  const { clients: c, beforeNextWrite } = intercepted(clients());
  return { store: new TableVerificationStore(c, fresh()), beforeNextWrite };
});
