import { app } from '@azure/functions';
import { deadLetterPoisoned } from '../core/webhook-delivery.js';
import { queueMessage, triggerHandler, type TriggerInvocation } from '../shared/handler.js';
import { contract } from '../shared/contract.js';

/**
 * Poison-queue trigger: a webhook message the host gave up on (its tries kept failing to store their outcome) becomes
 * a dead letter, so the back office sees it and can redeliver it.
 */
export async function deadLetterPoisonedWebhook({ input, webhooks }: TriggerInvocation<unknown>): Promise<void> {
  const parsed = (await contract()).deliveryMessageSchema.safeParse(queueMessage(input));
  if (!parsed.success) {
    webhooks.logger.warn('poison webhook message without an event dropped');
    return;
  }
  await deadLetterPoisoned(webhooks, parsed.data);
}

app.storageQueue('liveness-webhooks-poison', {
  queueName: '%LIVENESS_COMPLETION_QUEUE%-webhooks-poison',
  connection: 'AzureWebJobsStorage',
  handler: triggerHandler(deadLetterPoisonedWebhook),
});
