import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loadDeps } from '../services.js';
import { contextLogger } from '../shared/logger.js';
import { json, toErrorResponse } from '../shared/http.js';

/** GET /api/health — whether storage and Face are reachable with this app's credentials. */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const deps = await loadDeps(context);
    const check = async (probe: () => Promise<unknown>) => {
      const t0 = Date.now();
      try {
        await probe();
        return { status: 'healthy', latencyMs: Date.now() - t0 };
      } catch (error) {
        return { status: 'unhealthy', latencyMs: Date.now() - t0, reason: (error as Error).message };
      }
    };
    const [storage, face] = await Promise.all([
      check(async () => {
        await deps.repository.ensureTables();
        await deps.sessions.get('00000000-0000-0000-0000-000000000000');
      }),
      check(() => deps.face.probe({ abortSignal: AbortSignal.timeout(5_000) })),
    ]);
    const healthy = storage.status === 'healthy' && face.status === 'healthy';
    return json(healthy ? 200 : 503, { status: healthy ? 'healthy' : 'unhealthy', checks: { storage, face } });
  } catch (error) {
    return toErrorResponse(error, contextLogger(context));
  }
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });
