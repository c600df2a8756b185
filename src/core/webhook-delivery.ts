// Use cases of webhook delivery: one try per queue message, retries with exponential backoff over a window (at least
// 24 h by default) by re-enqueueing with a visibility delay, then a dead letter the back office can list and
// redeliver. Every try is logged (status code, duration, next try). The queue message is deleted by the host only when
// the handler returns, so a host crash mid-try repeats the try: delivery is at least once, and the event id (the
// webhook-id header) is what receivers de-duplicate on.
import type { WebhookRetrySettings } from '../config/config.js';
import { NotFoundError } from './errors.js';
import type {
  Clock, DeadLetter, DeliveryAttempt, DeliveryAttemptResult, DeliveryLog, DeliveryMessage, DeliveryQueue, Logger,
  WebhookSender,
} from './ports.js';

export type { WebhookRetrySettings };

export interface WebhookDeps {
  /** Absent when no webhook URL is configured: a try then fails as NotConfigured (and ends in a dead letter). */
  sender?: WebhookSender;
  queue: DeliveryQueue;
  log: DeliveryLog;
  clock: Clock;
  logger: Logger;
  settings: WebhookRetrySettings;
}

/** Seconds until the next try after failed try `attempt`, or undefined when the retry window is used up. */
export function nextRetryDelaySeconds(attempt: number, firstAttemptAt: Date, now: Date, settings: WebhookRetrySettings): number | undefined {
  if (now.getTime() - firstAttemptAt.getTime() >= settings.retryWindowSeconds * 1000) return undefined;
  return Math.min(settings.retryMaxDelaySeconds, settings.retryBaseSeconds * 2 ** (attempt - 1));
}

/** The whole schedule a receiver that never answers would see: seconds after the first try of each try. */
export function retrySchedule(settings: WebhookRetrySettings): number[] {
  const first = new Date(0);
  const times = [0];
  for (let attempt = 1; ; attempt++) {
    const now = new Date(times[times.length - 1]! * 1000);
    const delay = nextRetryDelaySeconds(attempt, first, now, settings);
    if (delay === undefined) return times;
    times.push(times[times.length - 1]! + delay);
  }
}

/** One try of one event (the queue trigger). Throws only when the next step could not be stored: the host retries. */
export async function deliverEvent(deps: WebhookDeps, message: DeliveryMessage): Promise<DeliveryAttemptResult> {
  const { clock, log, logger } = deps;
  const attemptedAt = clock.now();
  const firstAttemptDateTime = message.firstAttemptDateTime ?? attemptedAt.toISOString();
  const { event } = message;
  const result = deps.sender ? await deps.sender.send(event) : { delivered: false, error: 'NotConfigured' as const, durationMs: 0 };
  const line: Omit<DeliveryAttempt, 'result'> = {
    eventId: event.id,
    eventType: event.type,
    ...(typeof event.data.sessionId === 'string' ? { sessionId: event.data.sessionId } : {}),
    attempt: message.attempt,
    attemptedDateTime: attemptedAt.toISOString(),
    durationMs: result.durationMs,
    ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    ...(result.error ? { error: result.error } : {}),
  };
  const fields = { eventId: event.id, type: event.type, attempt: message.attempt, statusCode: result.statusCode, error: result.error, durationMs: result.durationMs };

  if (result.delivered) {
    await record(deps, { ...line, result: 'delivered' });
    logger.info('webhook delivered', fields);
    return 'delivered';
  }
  const delay = nextRetryDelaySeconds(message.attempt, new Date(firstAttemptDateTime), attemptedAt, deps.settings);
  if (delay !== undefined) {
    // The next try is stored before anything else: if this fails, the host retries this message instead.
    await deps.queue.enqueue({ event, attempt: message.attempt + 1, firstAttemptDateTime }, delay);
    const nextAttemptDateTime = new Date(attemptedAt.getTime() + delay * 1000).toISOString();
    await record(deps, { ...line, result: 'retry-scheduled', nextAttemptDateTime });
    logger.warn('webhook delivery failed; will try again', { ...fields, delaySeconds: delay });
    return 'retry-scheduled';
  }
  await log.putDeadLetter({
    event, attempts: message.attempt, firstAttemptDateTime, deadLetteredDateTime: attemptedAt.toISOString(),
    ...(result.statusCode !== undefined ? { lastStatusCode: result.statusCode } : {}),
    ...(result.error ? { lastError: result.error } : {}),
  });
  await record(deps, { ...line, result: 'dead-lettered' });
  logger.error('webhook delivery gave up; dead-lettered', fields);
  return 'dead-lettered';
}

/** The attempt log is a record, not a step of delivery: a failure to write it is logged, never retried. */
async function record(deps: WebhookDeps, attempt: DeliveryAttempt): Promise<void> {
  try {
    await deps.log.recordAttempt(attempt);
  } catch (error) {
    deps.logger.warn('could not write the webhook attempt log', { eventId: attempt.eventId, error: (error as Error).name });
  }
}

/** A message the host gave up on (the poison queue): it becomes a dead letter, so nothing disappears silently. */
export async function deadLetterPoisoned(deps: WebhookDeps, message: DeliveryMessage): Promise<void> {
  const now = deps.clock.now().toISOString();
  await deps.log.putDeadLetter({
    event: message.event, attempts: message.attempt, firstAttemptDateTime: message.firstAttemptDateTime ?? now,
    deadLetteredDateTime: now, lastError: 'DeliveryFailedRepeatedly',
  });
  deps.logger.error('webhook message poisoned; dead-lettered', { eventId: message.event.id, type: message.event.type });
}

/** Back office: sends a dead-lettered event again, with a fresh retry window and the same event id. */
export async function redeliverEvent(deps: WebhookDeps, eventId: string): Promise<{ eventId: string; status: 'Enqueued' }> {
  const dead = await deps.log.getDeadLetter(eventId);
  if (!dead) throw new NotFoundError('There is no failed delivery for this event.', { code: 'DeliveryNotFound' });
  // Enqueue first: a failure between the two leaves the dead letter listed, and a second redeliver is harmless.
  await deps.queue.enqueue({ event: dead.event, attempt: 1 });
  await deps.log.deleteDeadLetter(eventId);
  deps.logger.info('webhook redelivery enqueued', { eventId, type: dead.event.type });
  return { eventId, status: 'Enqueued' };
}

/** Back office: failed (dead-lettered) deliveries, oldest first, without the event's data (ask for one by id). */
export async function listFailedDeliveries(deps: WebhookDeps, top: number, continuationToken?: string) {
  const page = await deps.log.listDeadLetters(top, continuationToken);
  return {
    value: page.items.map(failureView),
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  };
}

function failureView(d: DeadLetter) {
  return {
    eventId: d.event.id,
    type: d.event.type,
    ...(typeof d.event.data.sessionId === 'string' ? { sessionId: d.event.data.sessionId } : {}),
    eventDateTime: d.event.timestamp,
    attempts: d.attempts,
    firstAttemptDateTime: d.firstAttemptDateTime,
    deadLetteredDateTime: d.deadLetteredDateTime,
    ...(d.lastStatusCode !== undefined ? { lastStatusCode: d.lastStatusCode } : {}),
    ...(d.lastError ? { lastError: d.lastError } : {}),
  };
}

/** Back office: an event's delivery attempts, oldest first. */
export async function listDeliveryAttempts(deps: WebhookDeps, eventId: string) {
  const attempts = await deps.log.listAttempts(eventId);
  if (attempts.length === 0 && !(await deps.log.getDeadLetter(eventId))) {
    throw new NotFoundError('There is no delivery for this event.', { code: 'DeliveryNotFound' });
  }
  return { value: attempts };
}
