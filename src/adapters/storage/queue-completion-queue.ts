// CompletionQueue over a storage queue. Messages are base64 JSON because the Functions queue trigger decodes base64
// (host.json extensions.queues.messageEncoding); the JS SDK does not encode by itself.
import type { QueueClient } from '@azure/storage-queue';
import type { CompletionMessage, CompletionQueue } from '../../core/ports.js';
import { guardStorage, onceUntilFailure, type StorageClients } from './clients.js';

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
      const text = Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
      await this.queue.sendMessage(text, { visibilityTimeout: Math.max(0, Math.round(delaySeconds)) });
    });
  }
}
