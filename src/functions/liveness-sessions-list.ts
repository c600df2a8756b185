import { ValidationError } from '../core/errors.js';
import { listSessions } from '../core/queries.js';
import { SESSION_STATUSES } from '../core/session.js';
import { backOfficeHttp, type BackOfficeCaller } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json, truncate } from '../shared/http.js';

const KNOWN = new Set(['top', 'continuationToken', 'status', 'deviceCorrelationId']);

/** GET /api/liveness-sessions?top=&continuationToken=&status=&deviceCorrelationId= — newest first, paged. */
export const listLivenessSessions: HttpRoute<BackOfficeCaller> = async ({ request, deps }) => {
  const q = request.query;
  for (const key of q.keys()) {
    if (!KNOWN.has(key)) throw new ValidationError('BadArgument', `Unknown query parameter '${truncate(key)}'.`);
  }
  const topText = q.get('top') ?? '50';
  if (!/^\d{1,4}$/.test(topText) || Number(topText) < 1 || Number(topText) > 1000) {
    throw new ValidationError('BadArgument', "'top' must be a whole number from 1 to 1000.");
  }
  const status = q.get('status') ?? undefined;
  if (status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(status)) {
    throw new ValidationError('BadArgument', `'status' must be one of ${SESSION_STATUSES.join(', ')}.`);
  }
  const deviceCorrelationId = q.get('deviceCorrelationId') ?? undefined;
  if (deviceCorrelationId !== undefined && (deviceCorrelationId.length < 1 || deviceCorrelationId.length > 64)) {
    throw new ValidationError('BadArgument', "'deviceCorrelationId' must be 1 to 64 characters.");
  }
  const continuationToken = q.get('continuationToken') ?? undefined;
  if (continuationToken !== undefined && continuationToken.length > 1024) {
    throw new ValidationError('InvalidContinuationToken', 'continuationToken is not one this API returned.');
  }
  const page = await listSessions(deps, {
    top: Number(topText), continuationToken, status: status as (typeof SESSION_STATUSES)[number] | undefined, deviceCorrelationId,
  });
  return json(200, page);
};

backOfficeHttp('liveness-sessions-list', { route: 'liveness-sessions', methods: ['GET'], handler: listLivenessSessions });
