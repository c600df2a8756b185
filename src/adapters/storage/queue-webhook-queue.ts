// The webhook queue over a storage queue: the session outbox hands new events to it (EventQueue), and the sender
// schedules its retries on it with a visibility delay (DeliveryQueue). Messages: base64 JSON, see queueMessageText.
import type { QueueClient } from '@azure/storage-queue';
import type { DeliveryMessage, DeliveryQueue, EventQueue, LivenessEvent } from '../../core/ports.js';
import { guardStorage, onceUntilFailure, queueMessageText, type StorageClients } from './clients.js';

/** A storage queue message stays invisible at most 7 days. */
export const MAX_VISIBILITY_SECONDS = 7 * 86_400;

export class StorageWebhookQueue implements EventQueue, DeliveryQueue {
  private readonly queue: QueueClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, queueName: string) {
    this.queue = clients.queueService.getQueueClient(queueName);
    this.ensure = onceUntilFailure(() => this.queue.createIfNotExists());
  }

  /** A new event: its first delivery try, at once. */
  enqueue(event: LivenessEvent): Promise<void>;
  enqueue(message: DeliveryMessage, delaySeconds?: number): Promise<void>;
  async enqueue(item: LivenessEvent | DeliveryMessage, delaySeconds = 0): Promise<void> {
    const message: DeliveryMessage = 'event' in item ? item : { event: item, attempt: 1 };
    const visibilityTimeout = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.round(delaySeconds)));
    await guardStorage('Enqueueing the webhook message', async () => {
      await this.ensure();
      // Time to live: a retry delayed by up to 7 days must still be there when it becomes visible.
      await this.queue.sendMessage(queueMessageText(message), { visibilityTimeout, messageTimeToLive: -1 });
    });
  }
}
