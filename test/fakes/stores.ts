// In-memory versions of the small storage ports: completion queue, image store, audit log. Each keeps its adapter's
// observable behaviour (src/adapters/storage/*, held to it by the contract suite in test/contract) and carries the
// same test hooks. The per-subject records (limits, quotas, Idempotency-Keys) are in records.ts.
import { StorageUnavailableError } from '../../src/core/errors.js';
import type { AuditLog, CompletionMessage, CompletionQueue, ImageStore } from '../../src/core/ports.js';
import type { AuditEntry } from '../../src/core/session.js';
import { OperationHooks } from './hooks.js';

const clone = <T>(value: T): T => structuredClone(value);

export interface QueuedMessage { message: CompletionMessage; delaySeconds: number }

export class InMemoryCompletionQueue implements CompletionQueue {
  readonly hooks = new OperationHooks<'enqueue'>();
  private queued: QueuedMessage[] = [];
  private lostAnswers = 0;

  /** The next enqueue lands, but its caller sees StorageUnavailableError (a lost answer). */
  loseNextAnswer(times = 1): void {
    this.lostAnswers += times;
  }

  async enqueue(message: CompletionMessage, delaySeconds = 0): Promise<void> {
    await this.hooks.enter('enqueue');
    this.queued.push({ message: clone(message), delaySeconds });
    if (this.lostAnswers > 0) {
      this.lostAnswers--;
      throw new StorageUnavailableError('Queue request failed.');
    }
  }

  /** Messages waiting, oldest first. */
  peek(): QueuedMessage[] {
    return clone(this.queued);
  }

  /** Takes every waiting message off the queue (as the host would deliver them). */
  drain(): QueuedMessage[] {
    const taken = this.queued;
    this.queued = [];
    return taken;
  }
}

export interface StoredBlob { bytes: Uint8Array; contentType: string; metadata?: Record<string, string> }

export class InMemoryImageStore implements ImageStore {
  readonly hooks = new OperationHooks<'put' | 'get' | 'delete' | 'exists'>();
  readonly blobs = new Map<string, StoredBlob>();

  names(): string[] {
    return [...this.blobs.keys()].sort();
  }

  async put(blobName: string, bytes: Uint8Array, contentType: string, metadata?: Record<string, string>): Promise<void> {
    await this.hooks.enter('put');
    this.blobs.set(blobName, { bytes: new Uint8Array(bytes), contentType, ...(metadata ? { metadata: { ...metadata } } : {}) });
  }

  async get(blobName: string): Promise<Uint8Array | undefined> {
    await this.hooks.enter('get');
    const blob = this.blobs.get(blobName);
    return blob && new Uint8Array(blob.bytes);
  }

  async delete(blobName: string): Promise<void> {
    await this.hooks.enter('delete');
    this.blobs.delete(blobName);
  }

  async exists(blobName: string): Promise<boolean> {
    await this.hooks.enter('exists');
    return this.blobs.has(blobName);
  }
}

export class InMemoryAuditLog implements AuditLog {
  readonly hooks = new OperationHooks<'upsert' | 'list' | 'deleteAll'>();
  private readonly entries = new Map<string, Map<number, AuditEntry>>();

  /** Every entry of a session, oldest first, without counting a call. */
  peek(sessionId: string): AuditEntry[] {
    return [...(this.entries.get(sessionId)?.values() ?? [])].sort((a, b) => a.id - b.id).map(clone);
  }

  sessionIds(): string[] {
    return [...this.entries.keys()].filter((id) => (this.entries.get(id)?.size ?? 0) > 0);
  }

  async upsert(entries: AuditEntry[]): Promise<void> {
    await this.hooks.enter('upsert');
    for (const entry of entries) {
      const perSession = this.entries.get(entry.sessionId) ?? new Map<number, AuditEntry>();
      perSession.set(entry.id, clone(entry));
      this.entries.set(entry.sessionId, perSession);
    }
  }

  async list(sessionId: string): Promise<AuditEntry[]> {
    await this.hooks.enter('list');
    return this.peek(sessionId);
  }

  async deleteAll(sessionId: string): Promise<void> {
    await this.hooks.enter('deleteAll');
    this.entries.delete(sessionId);
  }
}
