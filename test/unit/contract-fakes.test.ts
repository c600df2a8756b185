// The storage ports' contract (test/contract/storage-contract.ts) against the in-memory fakes: the same cases run
// against the real adapters on Azurite in the integration project (test/integration/adapters.test.ts).
import {
  auditLogContract, completionQueueContract, deliveryLogContract, imageStoreContract, sessionRepositoryContract, subjectRecordsContract,
  subjectStoreContract, verificationStoreContract, webhookQueueContract,
} from '../contract/storage-contract.js';
import { InMemoryVerificationStore } from '../fakes/verifications.js';
import {
  inMemoryRecordStores, InMemoryAuditLog, InMemoryCompletionQueue, InMemoryDeliveryLog, InMemoryImageStore, InMemorySessionRepository,
  InMemoryWebhookQueue, MemorySubjects,
} from '../fakes/index.js';

subjectRecordsContract(async () => {
  const { limits, quotas, idempotencyKeys } = inMemoryRecordStores();
  const harness = <S extends { hooks: { beforeNext(op: 'write', cb: () => unknown): unknown } }>(store: S) =>
    ({ store, beforeNextWrite: (cb: () => Promise<unknown>) => { store.hooks.beforeNext('write', cb); } });
  return { limits: harness(limits), quotas: harness(quotas), idempotencyKeys: harness(idempotencyKeys) };
});

sessionRepositoryContract(async () => {
  const store = new InMemorySessionRepository();
  return { store, beforeNextWrite: (cb) => { store.hooks.beforeNext('write', cb); } };
});

subjectStoreContract(async () => {
  const store = new MemorySubjects();
  return { store, beforeNextWrite: (cb) => { store.hooks.beforeNext('write', cb); } };
});

deliveryLogContract(async () => new InMemoryDeliveryLog());
auditLogContract(async () => new InMemoryAuditLog());
imageStoreContract(async () => new InMemoryImageStore());

completionQueueContract(async () => {
  const queue = new InMemoryCompletionQueue();
  return { queue, visible: async () => queue.peek().filter((q) => q.delaySeconds <= 0).map((q) => q.message) };
});

webhookQueueContract(async () => {
  const queue = new InMemoryWebhookQueue();
  return { queue, visible: async () => queue.peek().filter((q) => q.delaySeconds <= 0).map((q) => q.message) };
});

verificationStoreContract(async () => {
  const store = new InMemoryVerificationStore();
  const pending: Array<() => Promise<unknown>> = [];
  store.beforeWrite = async () => { await pending.shift()?.(); };
  return { store, beforeNextWrite: (cb) => { pending.push(cb); } };
});
