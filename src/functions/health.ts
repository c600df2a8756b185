import { anonymousHttp } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json } from '../shared/http.js';

/** GET /api/health — whether storage and Face are reachable with this app's credentials. */
export const health: HttpRoute<undefined> = async ({ deps }) => {
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
    check(() => deps.sessions.get('00000000-0000-7000-8000-000000000000')),
    check(() => deps.face.probe({ abortSignal: AbortSignal.timeout(5_000) })),
  ]);
  const healthy = storage.status === 'healthy' && face.status === 'healthy';
  return json(healthy ? 200 : 503, { status: healthy ? 'healthy' : 'unhealthy', checks: { storage, face } });
};

anonymousHttp('health', { route: 'health', methods: ['GET'], handler: health });
