import { listFailedDeliveries } from '../core/webhook-delivery.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/** GET /api/webhook-failures?top=&continuationToken= — dead-lettered webhook deliveries, oldest first. */
export const listWebhookFailures: OperationHandler<'listWebhookFailures'> = async ({ request, webhooks }) => {
  const query = (await contract()).parseListFailedDeliveriesQuery(request.query);
  return json(200, await listFailedDeliveries(webhooks, query.top, query.continuationToken));
};

httpOperation('listWebhookFailures', listWebhookFailures);
