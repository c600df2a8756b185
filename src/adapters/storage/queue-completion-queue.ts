// CompletionQueue over a storage queue (messages: base64 JSON, see queueMessageText).
import type { QueueClient } from '@azure/storage-queue';
import type { CompletionMessage, CompletionQueue } from '../../core/ports.js';
import { guardStorage, onceUntilFailure, queueMessageText, type StorageClients } from './clients.js';

export class StorageCompletionQueue implements CompletionQueue {
  private readonly queue: QueueClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, queueName: string) {
    this.queue = clients.queueService.getQueueClient(queueName);
    this.ensure = onceUntilFailure(() => this.queue.createIfNotExists());
  }

  async enqueue(message: CompletionMessage, delaySeconds = 0): Promise<void> {
    await guardStorage('Enqueueing the completion message', async () => {
      await this.ensure();
      await this.queue.sendMessage(queueMessageText(message), { visibilityTimeout: Math.max(0, Math.round(delaySeconds)) });
    });
  }
}
