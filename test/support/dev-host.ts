// Spawns the dev host (`node dist/dev/host/main.js <appRoot>`) for end-to-end tests. `npm test` runs tsc first,
// so dist/ exists. Output (stdout + stderr) is kept in memory; logs() returns everything so far.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../dev/azurite.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEV_HOST_MAIN = path.join(REPO_ROOT, 'dist/dev/host/main.js');

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
  /** Resolves when `pattern` appears in the output (polls; rejects after timeoutMs). */
  waitForLog(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  pid: number | undefined;
}

export async function spawnDevHost(options: SpawnDevHostOptions): Promise<RunningDevHost> {
  if (!fs.existsSync(DEV_HOST_MAIN)) throw new Error(`${DEV_HOST_MAIN} is missing: run \`npx tsc -p tsconfig.json\` first`);
  const appRoot = path.resolve(options.appRoot ?? REPO_ROOT);
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(process.execPath, [DEV_HOST_MAIN, appRoot], {
    cwd: appRoot,
    env: { ...process.env, ...options.env, PORT: String(port), FUNCTIONS_HTTPWORKER_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));

  const waitForLog = async (pattern: string | RegExp, timeoutMs = 15_000): Promise<void> => {
    const started = Date.now();
    const found = (): boolean => (typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output));
    while (!found()) {
      if (exited) throw new Error(`dev host exited while waiting for ${String(pattern)}:\n${output}`);
      if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)}:\n${output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 15_000);
    await exit;
    clearTimeout(timer);
  };

  try {
    await waitForLog(/Dev host listening on http:\/\/\S+/, options.startTimeoutMs ?? 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const url = /Dev host listening on (http:\/\/[^\s]+)/.exec(output)![1]!;
  return { url, logs: () => output, waitForLog, stop, pid: child.pid };
}
