import { listFailedDeliveries } from '../core/webhook-delivery.js';
import { backOfficeHttp, type BackOfficeCaller } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/** GET /api/webhook-failures?top=&continuationToken= — dead-lettered webhook deliveries, oldest first. */
export const listWebhookFailures: HttpRoute<BackOfficeCaller> = async ({ request, webhooks }) => {
  const query = (await contract()).parseListFailedDeliveriesQuery(request.query);
  return json(200, await listFailedDeliveries(webhooks, query.top, query.continuationToken));
};

backOfficeHttp('webhook-failures-list', { route: 'webhook-failures', methods: ['GET'], handler: listWebhookFailures });
