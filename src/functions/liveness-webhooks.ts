import { app } from '@azure/functions';
import { deliverEvent } from '../core/webhook-delivery.js';
import { deliveryMessage, triggerHandler, type TriggerInvocation } from '../shared/handler.js';

/**
 * Queue trigger: one delivery try of one event to the relying party's webhook (signed, with a timeout, no redirects).
 * A failed try schedules the next one on the same queue with a delay, or ends in a dead letter; only a storage
 * failure throws, so the host retries the message (and, after maxDequeueCount, poisons it: see below).
 */
export async function deliverWebhook({ input, webhooks }: TriggerInvocation<unknown>): Promise<void> {
  const message = await deliveryMessage(input, webhooks, 'ignoring malformed webhook message'); // it cannot succeed on a retry
  if (message) await deliverEvent(webhooks, message);
}

// The queue's name follows the completion queue's (`<LIVENESS_COMPLETION_QUEUE>-webhooks`), so it needs no setting
// of its own and test runs with their own completion queue get their own webhook queue too.
app.storageQueue('liveness-webhooks', {
  queueName: '%LIVENESS_COMPLETION_QUEUE%-webhooks',
  connection: 'AzureWebJobsStorage',
  handler: triggerHandler(deliverWebhook),
});
