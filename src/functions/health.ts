import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';

/**
 * GET /api/health — whether storage and Face are reachable with this app's credentials. Answered from a short cache
 * (src/shared/health-cache.ts), so anonymous callers cannot spend Face calls; the reasons go to the log only.
 */
export const health: OperationHandler<'getHealth'> = async ({ services, deps }) => {
  const report = await services.health.get(deps.logger);
  return json(report.status === 'healthy' ? 200 : 503, report);
};

httpOperation('getHealth', health);
