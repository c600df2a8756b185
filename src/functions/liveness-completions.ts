import { app } from '@azure/functions';
import { handleCompletionMessage } from '../core/collect-result.js';
import { contract } from '../shared/contract.js';
import { queueMessage, triggerHandler, type TriggerInvocation } from '../shared/handler.js';

/**
 * Queue trigger: pulls the liveness decision and face-match result from Face into Table storage. Throwing lets the
 * host retry (visibility timeout) and, after maxDequeueCount, move the message to the poison queue.
 */
export async function collectLivenessResult({ input, context, deps }: TriggerInvocation<unknown>): Promise<void> {
  const parsed = (await contract()).completionMessageSchema.safeParse(queueMessage(input));
  if (!parsed.success) {
    // A malformed message cannot succeed on retry; drop it with a warning instead of poisoning the queue.
    deps.logger.warn('ignoring malformed completion message', { dequeueCount: context.triggerMetadata?.dequeueCount });
    return;
  }
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  const outcome = await handleCompletionMessage(deps, parsed.data, Number.isInteger(dequeueCount) && dequeueCount > 0 ? dequeueCount : 1);
  deps.logger.info('completion message handled', { sessionId: parsed.data.sessionId, outcome, try: parsed.data.try });
}

app.storageQueue('liveness-completions', {
  queueName: '%LIVENESS_COMPLETION_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: triggerHandler(collectLivenessResult),
});
