// Spawns the dev host (`node dist/dev/host/main.js <appRoot>`) for end-to-end tests, through the same launcher as
// `npm start` and the bench (dev/stack.ts). `npm test` runs tsc first, so dist/ exists. Output (stdout + stderr) is
// kept in memory; logs() returns it.
import { REPO_ROOT, startDevHost } from '../../dev/stack.js';

export { REPO_ROOT };

export interface SpawnDevHostOptions {
  /** App folder (package.json with "main", host.json). Default: the repo root. */
  appRoot?: string;
  /** Extra environment (e.g. AzureWebJobsStorage). Merged over process.env. */
  env: Record<string, string>;
  /** Port; default: a free one. */
  port?: number;
  /** How long to wait for the listening line (ms). Default 30 s. */
  startTimeoutMs?: number;
}

export interface RunningDevHost {
  url: string;
  logs(): string;
  /** Resolves when `pattern` appears in the output (polls; rejects after timeoutMs, default 15 s, or if the host exits). */
  waitForLog(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  pid: number | undefined;
}

export async function spawnDevHost(options: SpawnDevHostOptions): Promise<RunningDevHost> {
  const host = await startDevHost({
    appRoot: options.appRoot, env: options.env, port: options.port, startTimeoutMs: options.startTimeoutMs ?? 30_000, stopGraceMs: 15_000,
  });
  return {
    url: host.url,
    logs: host.logs,
    waitForLog: async (pattern, timeoutMs = 15_000) => { await host.waitForLog(pattern, timeoutMs); },
    stop: host.stop,
    pid: host.pid,
  };
}
