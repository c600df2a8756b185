import { NotFoundError } from '../core/errors.js';
import { listDeliveryAttempts } from '../core/webhook-delivery.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/** GET /api/webhook-events/{eventId}/attempts — the event's delivery log: status code, duration, next try. */
export const listWebhookAttempts: OperationHandler<'listWebhookAttempts'> = async ({ request, webhooks }) => {
  const eventId = (await contract()).eventIdParam(request.params.eventId);
  if (!eventId) throw new NotFoundError('There is no delivery for this event.', { code: 'DeliveryNotFound' });
  return json(200, await listDeliveryAttempts(webhooks, eventId));
};

httpOperation('listWebhookAttempts', listWebhookAttempts);
