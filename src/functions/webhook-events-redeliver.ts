import { NotFoundError } from '../core/errors.js';
import { redeliverEvent } from '../core/webhook-delivery.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/** POST /api/webhook-events/{eventId}/redeliver — queues a dead-lettered event again (same id, fresh retry window). */
export const redeliverWebhook: OperationHandler<'redeliverWebhookEvent'> = async ({ request, webhooks }) => {
  const eventId = (await contract()).eventIdParam(request.params.eventId);
  if (!eventId) throw new NotFoundError('There is no failed delivery for this event.', { code: 'DeliveryNotFound' });
  return json(202, await redeliverEvent(webhooks, eventId));
};

httpOperation('redeliverWebhookEvent', redeliverWebhook);
