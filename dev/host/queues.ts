// Storage-queue triggers, following Microsoft.Azure.WebJobs.Extensions.Storage.Queues (QueueListener/QueueProcessor):
// poll with randomized exponential back-off (100 ms → maxPollingInterval) while the queue is empty, fetch up to
// batchSize messages with a 10-minute lease (renewed while the handler runs), base64-decode (host.json
// messageEncoding), pass JSON as an object, delete on success, on failure make the message visible again after
// visibilityTimeout, and once DequeueCount reaches maxDequeueCount copy it (same body) to `<queue>-poison` and delete it.
// Messages that are not valid base64 go to the poison queue without an invocation. Queues whose name already ends
// in `-poison` have no poison queue: failed messages stay invisible until their lease runs out.
import { randomUUID } from 'node:crypto';
import { QueueClient, QueueServiceClient, type DequeuedMessageItem } from '@azure/storage-queue';
import type { Registration } from './core.js';
import type { Invoker } from './invoke.js';
import { describeError, hostLog } from './log.js';
import type { QueueOptions } from './settings.js';

/**
 * How long a received message stays invisible to other instances while its function runs (renewed at half that while
 * it runs). The host's is 10 minutes, fixed: a message held by an instance that died comes back after it.
 * DEVHOST_QUEUE_LEASE_SECONDS shortens it so a crash test sees the redelivery within the test.
 */
export const LEASE_SECONDS = 600;

export function leaseSecondsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DEVHOST_QUEUE_LEASE_SECONDS?.trim();
  if (!raw) return LEASE_SECONDS;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 2 || seconds > 604_800) throw new Error(`DEVHOST_QUEUE_LEASE_SECONDS must be whole seconds from 2 to 604800 (got '${raw}')`);
  return seconds;
}
export const MIN_POLLING_MS = 100;

/** Resolves a binding's `connection` (an app-setting name, default AzureWebJobsStorage) to a connection string. */
export function resolveConnectionString(connection: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const name = typeof connection === 'string' && connection.trim() ? connection.trim() : 'AzureWebJobsStorage';
  const value = env[name] ?? env[`AzureWebJobs${name}`] ?? env[`ConnectionStrings:${name}`];
  if (value) return value;
  if (Object.keys(env).some((k) => k.toLowerCase().startsWith(`${name.toLowerCase()}__`))) {
    throw new Error(`connection '${name}' is identity-based (${name}__*); the dev host only supports connection strings (e.g. UseDevelopmentStorage=true)`);
  }
  throw new Error(`connection setting '${name}' is not set (expected a storage connection string, e.g. UseDevelopmentStorage=true)`);
}

export function validateQueueName(name: string): string {
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(name)) throw new Error(`'${name}' is not a valid queue name (3-63 chars: lowercase letters, digits, single hyphens)`);
  return name;
}

/** Poison queue name, or undefined when the queue is itself a poison queue (or the suffix would not fit). */
export function poisonQueueName(queueName: string): string | undefined {
  if (queueName.endsWith('-poison')) return undefined;
  const name = `${queueName}-poison`;
  return name.length <= 63 ? name : undefined;
}

/** Decodes a message body per host.json messageEncoding; undefined when it is not valid base64. */
export function decodeMessageText(text: string, encoding: 'base64' | 'none'): string | undefined {
  if (encoding === 'none') return text;
  const compact = text.replace(/[\t\n\r ]/g, ''); // .NET Convert.FromBase64String ignores white space
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** What the Node worker does with a string payload: JSON if it parses, else the string. */
export function parseMessageValue(text: string): unknown {
  try { return JSON.parse(text) as unknown; } catch { return text; }
}

/** The library camel-cases trigger metadata keys recursively (toCamelCaseValue). */
export function toCamelCaseValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCamelCaseValue);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), toCamelCaseValue(v)]));
  }
  return value;
}

export function queueTriggerMetadata(message: Pick<DequeuedMessageItem, 'messageId' | 'popReceipt' | 'dequeueCount' | 'insertedOn' | 'expiresOn' | 'nextVisibleOn'>, text: string): Record<string, unknown> {
  return {
    queueTrigger: toCamelCaseValue(parseMessageValue(text)),
    dequeueCount: message.dequeueCount,
    id: message.messageId,
    popReceipt: message.popReceipt,
    insertionTime: message.insertedOn?.toISOString(),
    expirationTime: message.expiresOn?.toISOString(),
    nextVisibleTime: message.nextVisibleOn?.toISOString(),
    sys: { methodName: '', utcNow: new Date().toISOString(), randGuid: randomUUID() },
  };
}

export interface QueueListenerOptions {
  registration: Registration;
  queueName: string;
  connectionString: string;
  options: QueueOptions;
  invoker: Invoker;
  /** Default LEASE_SECONDS. */
  leaseSeconds?: number;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  if (signal.aborted) return resolve();
  const timer = setTimeout(done, ms);
  function done(): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
  signal.addEventListener('abort', done);
});

export class QueueListener {
  readonly queue: QueueClient;
  readonly poison: QueueClient | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lastErrorLog = 0;

  private readonly leaseSeconds: number;

  constructor(private readonly o: QueueListenerOptions) {
    this.leaseSeconds = o.leaseSeconds ?? LEASE_SECONDS;
    const service = QueueServiceClient.fromConnectionString(o.connectionString);
    this.queue = service.getQueueClient(o.queueName);
    const poisonName = poisonQueueName(o.queueName);
    this.poison = poisonName ? service.getQueueClient(poisonName) : undefined;
  }

  private get name(): string { return this.o.registration.metadata.name; }

  start(): void {
    this.loop ??= this.run().catch((err) => hostLog(`Queue listener for '${this.name}' stopped: ${describeError(err)}`, 'error'));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const { batchSize, maxPollingIntervalMs } = this.o.options;
    let delay = MIN_POLLING_MS;
    let created = false;
    while (!signal.aborted) {
      let batch: DequeuedMessageItem[] = [];
      try {
        if (!created) { await this.queue.createIfNotExists({ abortSignal: signal }); created = true; }
        batch = (await this.queue.receiveMessages({ numberOfMessages: batchSize, visibilityTimeout: this.leaseSeconds, abortSignal: signal })).receivedMessageItems;
      } catch (err) {
        if (signal.aborted) break;
        if (Date.now() - this.lastErrorLog > 30_000) {
          this.lastErrorLog = Date.now();
          hostLog(`Queue '${this.o.queueName}' (function '${this.name}') is not reachable: ${err instanceof Error ? err.message : String(err)}. Retrying.`, 'warning');
        }
      }
      if (batch.length === 0) {
        await sleep(delay * (0.8 + Math.random() * 0.4), signal);
        delay = Math.min(delay * 2, maxPollingIntervalMs);
        continue;
      }
      delay = MIN_POLLING_MS;
      await Promise.all(batch.map((message) => this.process(message).catch((err) => hostLog(`Queue '${this.o.queueName}': message ${message.messageId} handling failed: ${describeError(err)}`, 'error'))));
    }
  }

  private async moveToPoison(message: DequeuedMessageItem, popReceipt: string, why: string): Promise<void> {
    if (!this.poison) return;
    hostLog(`${why} Moving message to queue '${this.poison.name}'.`, 'warning');
    await this.poison.createIfNotExists();
    await this.poison.sendMessage(message.messageText); // same (still encoded) body
    await this.queue.deleteMessage(message.messageId, popReceipt);
  }

  private async process(message: DequeuedMessageItem): Promise<void> {
    const { maxDequeueCount, visibilityTimeoutMs, messageEncoding } = this.o.options;
    const lease = { popReceipt: message.popReceipt };
    if (this.poison && message.dequeueCount > maxDequeueCount) {
      return this.moveToPoison(message, lease.popReceipt, `Message has reached MaxDequeueCount of ${maxDequeueCount}.`);
    }
    const text = decodeMessageText(message.messageText, messageEncoding);
    if (text === undefined) {
      hostLog(`Message ${message.messageId} on queue '${this.o.queueName}' is not valid base64 (host.json queues.messageEncoding = base64); function '${this.name}' is not invoked.`, 'warning');
      if (this.poison) await this.moveToPoison(message, lease.popReceipt, `Message ${message.messageId} could not be decoded.`);
      return;
    }
    // Renew the lease while the handler runs (the host renews at half the visibility timeout).
    const renew = setInterval(() => {
      this.queue.updateMessage(message.messageId, lease.popReceipt, undefined, this.leaseSeconds)
        .then((r) => { if (r.popReceipt) lease.popReceipt = r.popReceipt; })
        .catch((err) => hostLog(`Could not renew the lease of message ${message.messageId}: ${String(err)}`, 'warning'));
    }, (this.leaseSeconds * 1000) / 2);
    let failed = false;
    try {
      await this.o.invoker.invoke(this.o.registration, [parseMessageValue(text)], {
        reason: `New queue message detected on '${this.o.queueName}'.`,
        triggerMetadata: queueTriggerMetadata(message, text),
      });
    } catch {
      failed = true; // logged by the invoker
    } finally {
      clearInterval(renew);
    }
    if (!failed) { await this.queue.deleteMessage(message.messageId, lease.popReceipt); return; }
    if (!this.poison) return; // no poison queue: leave it invisible (no fast infinite loop), like the host
    if (message.dequeueCount >= maxDequeueCount) {
      await this.moveToPoison(message, lease.popReceipt, `Message has reached MaxDequeueCount of ${maxDequeueCount}.`);
    } else {
      await this.queue.updateMessage(message.messageId, lease.popReceipt, undefined, Math.round(visibilityTimeoutMs / 1000));
    }
  }
}

/** Input and metadata for an admin-API run of a queue function (`{"input": "<message text>"}`). */
export function adminQueueInvocation(input: unknown): { value: unknown; triggerMetadata: Record<string, unknown> } {
  const text = typeof input === 'string' ? input : JSON.stringify(input ?? '');
  const now = new Date();
  return {
    value: parseMessageValue(text),
    triggerMetadata: { queueTrigger: toCamelCaseValue(parseMessageValue(text)), dequeueCount: 1, id: randomUUID(), popReceipt: '', insertionTime: now.toISOString(), expirationTime: new Date(now.getTime() + 7 * 86_400_000).toISOString(), nextVisibleTime: now.toISOString() },
  };
}
