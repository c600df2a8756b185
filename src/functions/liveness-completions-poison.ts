import { app } from '@azure/functions';
import { markFailed } from '../core/collect-result.js';
import { queueMessage, triggerHandler, type TriggerInvocation } from '../shared/handler.js';

/**
 * Poison-queue trigger: a completion message that failed maxDequeueCount times marks its session Failed, so that
 * nothing disappears silently. A session that has a result meanwhile keeps it.
 */
export async function failPoisonedCompletion({ input, deps }: TriggerInvocation<unknown>): Promise<void> {
  const sessionId = (queueMessage(input) as { sessionId?: unknown } | undefined)?.sessionId;
  if (typeof sessionId !== 'string') {
    deps.logger.warn('poison message without a session id dropped');
    return;
  }
  await markFailed(deps, sessionId, 'CollectionFailedRepeatedly');
}

app.storageQueue('liveness-completions-poison', {
  queueName: '%LIVENESS_COMPLETION_QUEUE%-poison',
  connection: 'AzureWebJobsStorage',
  handler: triggerHandler(failPoisonedCompletion),
});
