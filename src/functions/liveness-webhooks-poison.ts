import { app } from '@azure/functions';
import { deadLetterPoisoned } from '../core/webhook-delivery.js';
import { deliveryMessage, triggerHandler, type TriggerInvocation } from '../shared/handler.js';

/**
 * Poison-queue trigger: a webhook message the host gave up on (its tries kept failing to store their outcome) becomes
 * a dead letter, so the back office sees it and can redeliver it.
 */
export async function deadLetterPoisonedWebhook({ input, webhooks }: TriggerInvocation<unknown>): Promise<void> {
  const message = await deliveryMessage(input, webhooks, 'poison webhook message without an event dropped');
  if (message) await deadLetterPoisoned(webhooks, message);
}

app.storageQueue('liveness-webhooks-poison', {
  queueName: '%LIVENESS_COMPLETION_QUEUE%-webhooks-poison',
  connection: 'AzureWebJobsStorage',
  handler: triggerHandler(deadLetterPoisonedWebhook),
});
