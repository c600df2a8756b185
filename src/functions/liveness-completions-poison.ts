import { app, type InvocationContext } from '@azure/functions';
import { loadDeps } from '../services.js';
import { markFailed } from '../core/collect-result.js';

/**
 * Poison-queue trigger: a completion message that failed maxDequeueCount times marks its session Failed, so that
 * nothing disappears silently. A session that has a result meanwhile keeps it.
 */
export async function failPoisonedCompletion(message: unknown, context: InvocationContext): Promise<void> {
  const deps = await loadDeps(context);
  const sessionId = (message as { sessionId?: unknown } | undefined)?.sessionId;
  if (typeof sessionId !== 'string') {
    deps.logger.warn('poison message without a session id dropped');
    return;
  }
  const session = await deps.sessions.get(sessionId);
  if (!session) return;
  await markFailed(deps, session, 'CollectionFailedRepeatedly');
}

app.storageQueue('liveness-completions-poison', {
  queueName: '%LIVENESS_COMPLETION_QUEUE%-poison',
  connection: 'AzureWebJobsStorage',
  handler: failPoisonedCompletion,
});
