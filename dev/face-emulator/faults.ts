// Fault injection for resilience tests and benchmarks: added latency, random error responses (429 with
// Retry-After like the APIM gateway, 500, 503) and dropped connections. Faults only hit paths matching `paths`
// (regexes, case-insensitive; default: every Face API call, management and device), never /emulator/ control calls.
import { z } from 'zod';

export const faultSettingsSchema = z.object({
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  errorStatus: z.union([z.literal(429), z.literal(500), z.literal(503)]).optional(),
  retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
  dropRate: z.number().min(0).max(1).optional(),
  paths: z.array(z.string().min(1)).optional(),
  /** Stop injecting errors/drops after this many (latency keeps applying). Handy for "fail twice then succeed". */
  maxFaults: z.number().int().min(0).optional(),
}).strict();

export type FaultSettings = z.infer<typeof faultSettingsSchema>;

export const DEFAULT_FAULT_PATHS = ['^/face/'];

export type FaultAction =
  | { kind: 'none'; delayMs: number }
  | { kind: 'drop'; delayMs: number }
  | { kind: 'error'; delayMs: number; status: 429 | 500 | 503; retryAfterSeconds: number };

export class FaultInjector {
  private settings: FaultSettings = {};
  private patterns: RegExp[] = [];
  private injected = 0;

  constructor(private readonly initial: FaultSettings = {}, private readonly random: () => number = Math.random) {
    this.set(initial);
  }

  /** Replaces the settings (PUT semantics). Throws on an invalid regex. */
  set(settings: FaultSettings): void {
    const patterns = (settings.paths ?? DEFAULT_FAULT_PATHS).map((p) => new RegExp(p, 'i'));
    this.settings = { ...settings };
    this.patterns = patterns;
    this.injected = 0;
  }

  /** Back to what the emulator was started with (latency from options/env). */
  reset(): void { this.set(this.initial); }

  current(): FaultSettings & { paths: string[]; injected: number } {
    return { ...this.settings, paths: this.settings.paths ?? DEFAULT_FAULT_PATHS, injected: this.injected };
  }

  decide(pathname: string): FaultAction {
    if (pathname.toLowerCase().startsWith('/emulator/')) return { kind: 'none', delayMs: 0 };
    if (!this.patterns.some((p) => p.test(pathname))) return { kind: 'none', delayMs: 0 };
    const s = this.settings;
    const delayMs = s.latencyMs ?? 0;
    const budgetLeft = s.maxFaults === undefined || this.injected < s.maxFaults;
    if (budgetLeft && s.dropRate && this.random() < s.dropRate) {
      this.injected++;
      return { kind: 'drop', delayMs };
    }
    if (budgetLeft && s.errorRate && this.random() < s.errorRate) {
      this.injected++;
      return { kind: 'error', delayMs, status: s.errorStatus ?? 429, retryAfterSeconds: s.retryAfterSeconds ?? 1 };
    }
    return { kind: 'none', delayMs };
  }
}

/** Fault settings from env (used by main.ts): FACE_EMULATOR_LATENCY_MS, _ERROR_RATE, _ERROR_STATUS, _RETRY_AFTER_SECONDS, _DROP_RATE, _FAULT_PATHS (comma-separated regexes). */
export function faultsFromEnv(env: NodeJS.ProcessEnv): FaultSettings {
  const num = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`${name} must be a number`);
    return value;
  };
  const candidate: Record<string, unknown> = {
    latencyMs: num('FACE_EMULATOR_LATENCY_MS'),
    errorRate: num('FACE_EMULATOR_ERROR_RATE'),
    errorStatus: num('FACE_EMULATOR_ERROR_STATUS'),
    retryAfterSeconds: num('FACE_EMULATOR_RETRY_AFTER_SECONDS'),
    dropRate: num('FACE_EMULATOR_DROP_RATE'),
    paths: env.FACE_EMULATOR_FAULT_PATHS?.split(',').map((p) => p.trim()).filter(Boolean),
  };
  for (const key of Object.keys(candidate)) if (candidate[key] === undefined) delete candidate[key];
  const parsed = faultSettingsSchema.safeParse(candidate);
  if (!parsed.success) throw new Error(`invalid fault settings in environment: ${parsed.error.message}`);
  return parsed.data;
}
