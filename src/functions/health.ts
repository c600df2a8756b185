import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loadDeps } from '../services.js';
import { contextLogger } from '../shared/logger.js';
import { json, toErrorResponse } from '../shared/http.js';
import { HealthCache } from '../shared/health-cache.js';

/** One cache per set of services (the composition root builds them once per process). */
const caches = new WeakMap<object, HealthCache>();

/** GET /api/health — whether storage and Face are reachable with this app's credentials (cached, no details). */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const deps = await loadDeps(context);
    let cache = caches.get(deps.face);
    if (!cache) {
      cache = new HealthCache({
        storage: async () => {
          await deps.repository.ensureTables();
          await deps.sessions.get('00000000-0000-0000-0000-000000000000');
        },
        face: (signal) => deps.face.probe({ abortSignal: signal }),
      });
      caches.set(deps.face, cache);
    }
    const report = await cache.get(deps.logger);
    return json(report.status === 'healthy' ? 200 : 503, report);
  } catch (error) {
    return toErrorResponse(error, contextLogger(context));
  }
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });
