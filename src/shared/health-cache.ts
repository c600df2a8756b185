// The health answer, from a short cache. Anonymous callers must not be able to spend Face calls (Face allows about
// 10 per second per resource, shared by every user) or learn backend details: one storage probe and one Face probe
// run per interval, concurrent callers share the probe in flight, and the answer says only healthy/unhealthy per
// dependency. Why a probe failed (error names and status codes, never messages, storage XML or credential text) goes
// to the log.
import { AppError, FaceUnavailableError } from '../core/errors.js';
import type { Logger } from '../core/ports.js';

export type HealthStatus = 'healthy' | 'unhealthy';
export interface HealthCheck { status: HealthStatus; latencyMs: number; reason?: string }
export interface HealthReport { status: HealthStatus; checks: { storage: HealthCheck; face: HealthCheck } }
/** The answer when the settings cannot be used, so nothing was probed (src/functions/health.ts). */
export interface SettingsHealthReport { status: 'unhealthy'; checks: { settings: HealthCheck } }

export interface HealthProbes {
  storage: (signal: AbortSignal) => Promise<unknown>;
  face: (signal: AbortSignal) => Promise<unknown>;
}

export const HEALTH_CACHE_MS = 30_000;
export const HEALTH_PROBE_TIMEOUT_MS = 5_000;

export class HealthCache {
  private latest: { at: number; report: HealthReport } | undefined;
  private running: Promise<HealthReport> | undefined;

  constructor(
    private readonly probes: HealthProbes,
    private readonly ttlMs = HEALTH_CACHE_MS,
    private readonly now: () => number = Date.now,
    private readonly probeTimeoutMs = HEALTH_PROBE_TIMEOUT_MS,
  ) {}

  /** The cached report, or the one being made, or a new one (the logger of the caller that starts it gets the details). */
  get(logger: Logger): Promise<HealthReport> {
    const latest = this.latest;
    if (latest && this.now() - latest.at < this.ttlMs) return Promise.resolve(latest.report);
    this.running ??= this.probe(logger).then((report) => {
      this.latest = { at: this.now(), report };
      return report;
    }).finally(() => { this.running = undefined; });
    return this.running;
  }

  private async probe(logger: Logger): Promise<HealthReport> {
    const check = async (dependency: 'storage' | 'face'): Promise<HealthCheck> => {
      const t0 = this.now();
      try {
        await withTimeout(this.probes[dependency], this.probeTimeoutMs);
        return { status: 'healthy', latencyMs: Math.max(0, this.now() - t0) };
      } catch (error) {
        logger.warn('health probe failed', { dependency, ...describe(error) });
        return { status: 'unhealthy', latencyMs: Math.max(0, this.now() - t0) };
      }
    };
    const [storage, face] = await Promise.all([check('storage'), check('face')]);
    return { status: storage.status === 'healthy' && face.status === 'healthy' ? 'healthy' : 'unhealthy', checks: { storage, face } };
  }
}

async function withTimeout(probe: (signal: AbortSignal) => Promise<unknown>, ms: number): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { controller.abort(); reject(new ProbeTimeoutError()); }, ms);
  });
  try {
    await Promise.race([probe(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class ProbeTimeoutError extends Error {
  override name = 'ProbeTimeoutError';
}

const token = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v) ? v : undefined);

/** Names and codes only: messages can carry storage XML, request ids or credential hints. */
function describe(error: unknown): Record<string, unknown> {
  const e = error as { name?: unknown; cause?: unknown } | undefined;
  const cause = e?.cause as { name?: unknown; statusCode?: unknown; code?: unknown } | undefined;
  return {
    error: token(e?.name) ?? 'unknown',
    ...(error instanceof AppError ? { code: token(error.code) } : {}),
    ...(error instanceof FaceUnavailableError && error.status !== undefined ? { status: error.status } : {}),
    ...(cause ? {
      cause: token(cause.name) ?? 'unknown',
      ...(typeof cause.statusCode === 'number' ? { statusCode: cause.statusCode } : {}),
      ...(token(cause.code) ? { causeCode: token(cause.code) } : {}),
    } : {}),
  };
}
