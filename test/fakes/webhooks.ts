// In-memory versions of the webhook ports: the webhook queue (the session outbox hands new events to it, and delivery
// schedules its retries on it, as src/adapters/storage/queue-webhook-queue.ts does with one storage queue) and the
// delivery log (src/adapters/storage/table-delivery-log.ts), with the same test hooks as the other fakes; and a
// receiver that records what it was sent.
import type {
  DeadLetter, DeliveryAttempt, DeliveryLog, DeliveryMessage, DeliveryQueue, DeliveryResult, EventQueue, LivenessEvent, Page, WebhookSender,
} from '../../src/core/ports.js';
import { OperationHooks } from './hooks.js';
import { decodeToken, encodeToken } from './session-repository.js';

const clone = <T>(value: T): T => structuredClone(value);

export interface QueuedDelivery { message: DeliveryMessage; delaySeconds: number }

/** A new event becomes its first delivery try, due at once; a retry carries its delay. */
export class InMemoryWebhookQueue implements EventQueue, DeliveryQueue {
  readonly hooks = new OperationHooks<'enqueue'>();
  private queued: QueuedDelivery[] = [];

  enqueue(event: LivenessEvent): Promise<void>;
  enqueue(message: DeliveryMessage, delaySeconds?: number): Promise<void>;
  async enqueue(item: LivenessEvent | DeliveryMessage, delaySeconds = 0): Promise<void> {
    await this.hooks.enter('enqueue');
    const message: DeliveryMessage = 'event' in item ? item : { event: item, attempt: 1 };
    this.queued.push({ message: clone(message), delaySeconds });
  }

  /** Messages waiting, oldest first. */
  peek(): QueuedDelivery[] {
    return clone(this.queued);
  }

  /** The events of the waiting messages, oldest first. */
  events(): LivenessEvent[] {
    return this.queued.map((q) => clone(q.message.event));
  }

  /** Takes every waiting message off the queue (as the host would deliver them). */
  drain(): QueuedDelivery[] {
    const taken = this.queued;
    this.queued = [];
    return taken;
  }
}

/** Attempts per event oldest first; dead letters one per event id, listed oldest first (event ids are UUIDv7). */
export class InMemoryDeliveryLog implements DeliveryLog {
  readonly hooks = new OperationHooks<'recordAttempt' | 'listAttempts' | 'putDeadLetter' | 'getDeadLetter' | 'deleteDeadLetter' | 'listDeadLetters'>();
  private readonly attempts = new Map<string, DeliveryAttempt[]>();
  private readonly deadLetters = new Map<string, DeadLetter>();

  async recordAttempt(attempt: DeliveryAttempt): Promise<void> {
    await this.hooks.enter('recordAttempt');
    // As the adapter's row key: one attempt per time and number (a repeated write replaces itself), in key order.
    const key = (a: DeliveryAttempt) => `${a.attemptedDateTime}|${String(a.attempt).padStart(4, '0')}`;
    const list = (this.attempts.get(attempt.eventId) ?? []).filter((a) => key(a) !== key(attempt));
    this.attempts.set(attempt.eventId, [...list, clone(attempt)].sort((a, b) => key(a).localeCompare(key(b))));
  }

  async listAttempts(eventId: string): Promise<DeliveryAttempt[]> {
    await this.hooks.enter('listAttempts');
    return clone(this.attempts.get(eventId) ?? []);
  }

  async putDeadLetter(deadLetter: DeadLetter): Promise<void> {
    await this.hooks.enter('putDeadLetter');
    this.deadLetters.set(deadLetter.event.id, clone(deadLetter));
  }

  async getDeadLetter(eventId: string): Promise<DeadLetter | undefined> {
    await this.hooks.enter('getDeadLetter');
    const d = this.deadLetters.get(eventId);
    return d && clone(d);
  }

  async deleteDeadLetter(eventId: string): Promise<void> {
    await this.hooks.enter('deleteDeadLetter');
    this.deadLetters.delete(eventId);
  }

  async listDeadLetters(top: number, continuationToken?: string): Promise<Page<DeadLetter>> {
    await this.hooks.enter('listDeadLetters');
    const after = continuationToken === undefined ? undefined : decodeToken(continuationToken);
    const ids = [...this.deadLetters.keys()].sort().filter((id) => after === undefined || id > after);
    const page = ids.slice(0, top);
    const last = page[page.length - 1];
    return {
      items: page.map((id) => clone(this.deadLetters.get(id)!)),
      ...(ids.length > top && last ? { continuationToken: encodeToken(last) } : {}),
    };
  }
}

/** The receiver side of a webhook: records each event sent; answers 204 unless a test queues other results. */
export class RecordingWebhookSender implements WebhookSender {
  readonly sent: LivenessEvent[] = [];
  readonly results: DeliveryResult[] = [];

  async send(event: LivenessEvent): Promise<DeliveryResult> {
    this.sent.push(clone(event));
    return this.results.shift() ?? { delivered: true, statusCode: 204, durationMs: 1 };
  }
}
