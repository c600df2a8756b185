import { app } from '@azure/functions';
import { deliverEvent } from '../core/webhook-delivery.js';
import { queueMessage, triggerHandler, type TriggerInvocation } from '../shared/handler.js';
import { contract } from '../shared/contract.js';

/**
 * Queue trigger: one delivery try of one event to the relying party's webhook (signed, with a timeout, no redirects).
 * A failed try schedules the next one on the same queue with a delay, or ends in a dead letter; only a storage
 * failure throws, so the host retries the message (and, after maxDequeueCount, poisons it: see below).
 */
export async function deliverWebhook({ input, webhooks }: TriggerInvocation<unknown>): Promise<void> {
  const parsed = (await contract()).deliveryMessageSchema.safeParse(queueMessage(input));
  if (!parsed.success) {
    webhooks.logger.warn('ignoring malformed webhook message'); // it cannot succeed on a retry
    return;
  }
  await deliverEvent(webhooks, parsed.data);
}

// The queue's name follows the completion queue's (`<LIVENESS_COMPLETION_QUEUE>-webhooks`), so it needs no setting
// of its own and test runs with their own completion queue get their own webhook queue too.
app.storageQueue('liveness-webhooks', {
  queueName: '%LIVENESS_COMPLETION_QUEUE%-webhooks',
  connection: 'AzureWebJobsStorage',
  handler: triggerHandler(deliverWebhook),
});
