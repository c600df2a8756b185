import { anonymousHttp } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json } from '../shared/http.js';

/**
 * GET /api/health — whether storage and Face are reachable with this app's credentials. Answered from a short cache
 * (src/shared/health-cache.ts), so anonymous callers cannot spend Face calls; the reasons go to the log only.
 */
export const health: HttpRoute<undefined> = async ({ services, deps }) => {
  const report = await services.health.get(deps.logger);
  return json(report.status === 'healthy' ? 200 : 503, report);
};

anonymousHttp('health', { route: 'health', methods: ['GET'], handler: health });
