// The one launcher for the local stack's processes. `npm start` (dev/start.ts), the bench (bench/run.ts) and the
// tests (test/setup/global-setup.ts, test/support/dev-host.ts) start Azurite, the Face emulator, the dev OIDC issuer
// and the dev host (or `func start`) through it, so every piece is spawned with the same flags, awaited the same way
// (its "listening on" line or its ports, never a fixed sleep), logged the same way and stopped the same way.
//
// Each child's output is kept in memory (the last 2 MB) for logs() and waitForLog(), and optionally echoed line by
// line with a [name] prefix (npm start). Every child is registered until it exits: stopAll() stops them in reverse
// start order (SIGTERM, then SIGKILL after a grace period), and if this process exits with children still running,
// they are killed, so a crashed test or bench leaves no server behind.
//
// Deployable code (src/) never imports this module (a lint rule).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { azuriteArgs, connectionStringFor, freePort, isPortOpen, type AzuriteOptions, type AzuritePorts } from './azurite.js';
import { eventually, GiveUp } from './eventually.js';

/** The repository root: the first folder above this file with a package.json (dev/ from source, dist/dev/ built). */
export const REPO_ROOT = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('no package.json above dev/stack');
    dir = up;
  }
  return dir;
})();
const DIST = path.join(REPO_ROOT, 'dist');

const KEEP_OUTPUT = 2_000_000;

export interface LaunchOptions {
  /** Shown in errors and as the line prefix when echoing. */
  name: string;
  /** Default: this Node binary. */
  command?: string;
  args: string[];
  /** Default: the repository root. */
  cwd?: string;
  /** Merged over process.env. */
  env?: Record<string, string | undefined>;
  /** Copy each output line to this process's stdout/stderr with a [name] prefix (npm start). */
  echo?: boolean;
  /** Own process group, so a terminal Ctrl-C reaches only the launcher, which then stops the children in order. */
  detached?: boolean;
  /** Line patterns counted over the whole output (the bench counts failed invocations). */
  counters?: RegExp[];
  /** Called when the child exits without stop() having been asked (npm start then stops everything). */
  onUnexpectedExit?: (child: ManagedProcess, code: number | null, signal: NodeJS.Signals | null) => void;
  /** Grace period between SIGTERM and SIGKILL in stop(). Default 10 s. */
  stopGraceMs?: number;
}

export interface ManagedProcess {
  name: string;
  pid: number | undefined;
  readonly exited: boolean;
  /** Resolves once the child has exited (or could not be started). */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Output so far (stdout and stderr interleaved; the last 2 MB). */
  logs(): string;
  /** Lines matching a pattern given in `counters`, counted over the whole output. */
  count(pattern: RegExp): number;
  /** Resolves with the first match of `pattern` in the output; rejects if the child exits first or on timeout. */
  waitForLog(pattern: string | RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM (to the group when detached), SIGKILL after the grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

/** A child that serves HTTP at `url`. */
export type RunningService = ManagedProcess & { url: string };

const running: ManagedProcess[] = [];
/** How to SIGKILL each running child at once (its process group when detached). */
const killers = new Map<ManagedProcess, () => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllNow);
}

/** SIGKILLs every child still running (synchronous: usable from an exit or signal handler). */
export function killAllNow(): void {
  for (const kill of killers.values()) kill();
}

/** Stops every running child, last started first. */
export async function stopAll(): Promise<void> {
  for (const child of [...running].reverse()) await child.stop().catch(() => undefined);
}

const TTY_COLORS: Record<string, string> = { azurite: '36', 'face-emulator': '35', issuer: '34', webhooks: '94', devhost: '32', func: '32', start: '33' };

/** "[name]" for a line prefix, coloured on a terminal. */
export function tag(name: string, stream: NodeJS.WriteStream = process.stdout): string {
  return stream.isTTY ? `\x1b[${TTY_COLORS[name] ?? '37'}m[${name}]\x1b[0m` : `[${name}]`;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function launch(options: LaunchOptions): ManagedProcess {
  installExitHook();
  const proc = spawn(options.command ?? process.execPath, options.args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  const counts = new Map<RegExp, number>((options.counters ?? []).map((c) => [c, 0]));
  const pending = { stdout: '', stderr: '' };
  const onData = (which: 'stdout' | 'stderr') => (chunk: string): void => {
    output += chunk;
    if (output.length > 2 * KEEP_OUTPUT) output = output.slice(-KEEP_OUTPUT);
    const lines = (pending[which] + chunk).split('\n');
    pending[which] = lines.pop() ?? '';
    for (const line of lines) {
      for (const [re, n] of counts) if (re.test(line)) counts.set(re, n + 1);
      if (options.echo) process[which].write(`${tag(options.name, process[which])} ${line.replace(/\r$/, '')}\n`);
    }
  };
  proc.stdout.setEncoding('utf8').on('data', onData('stdout'));
  proc.stderr.setEncoding('utf8').on('data', onData('stderr'));
  const flush = (which: 'stdout' | 'stderr') => () => {
    if (options.echo && pending[which]) process[which].write(`${tag(options.name, process[which])} ${pending[which]}\n`);
    pending[which] = '';
  };
  proc.stdout.on('end', flush('stdout'));
  proc.stderr.on('end', flush('stderr'));

  let exited = false;
  let stopping = false;
  let startError: Error | undefined;
  const child: ManagedProcess = {
    name: options.name,
    pid: proc.pid,
    get exited() { return exited; },
    exit: undefined as unknown as ManagedProcess['exit'],
    logs: () => output,
    count: (re) => counts.get(re) ?? 0,
    async waitForLog(pattern, timeoutMs = 30_000) {
      const re = typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern;
      return eventually(() => {
        const match = re.exec(output);
        if (match) return match;
        if (exited) throw new GiveUp(`${options.name} exited while waiting for ${String(pattern)}${startError ? ` (${startError.message})` : ''}:\n${output.slice(-4000)}`);
        return undefined;
      }, `${String(pattern)} in the output of ${options.name}`, { timeoutMs, intervalMs: 25 }).catch((error: Error) => {
        if (error instanceof GiveUp) throw error;
        throw new Error(`${error.message}; output so far:\n${output.slice(-4000)}`);
      });
    },
    async stop() {
      stopping = true;
      if (exited || proc.pid === undefined) return;
      const signal = (sig: NodeJS.Signals) => {
        try { process.kill(options.detached ? -proc.pid! : proc.pid!, sig); } catch { proc.kill(sig); }
      };
      signal('SIGTERM');
      const timer = setTimeout(() => { if (!exited) signal('SIGKILL'); }, options.stopGraceMs ?? 10_000);
      await child.exit;
      clearTimeout(timer);
    },
  };
  child.exit = new Promise((resolve) => {
    const done = (code: number | null, sig: NodeJS.Signals | null): void => {
      if (exited) return;
      exited = true;
      running.splice(running.indexOf(child), 1);
      killers.delete(child);
      resolve({ code, signal: sig });
      if (!stopping) options.onUnexpectedExit?.(child, code, sig);
    };
    proc.once('exit', done);
    proc.once('error', (error) => { startError = error; done(null, null); });
  });
  running.push(child);
  killers.set(child, () => {
    try { process.kill(options.detached ? -proc.pid! : proc.pid!, 'SIGKILL'); } catch { /* gone */ }
  });
  return child;
}

type PieceOptions = Pick<LaunchOptions, 'echo' | 'detached' | 'onUnexpectedExit' | 'counters' | 'stopGraceMs'>;

// ---------------------------------------------------------------------------------------------------------------
// The pieces.

export interface RunningAzurite {
  ports: AzuritePorts;
  connectionString: string;
  /** Azurite's command-line flags (the bench records them). */
  args: string[];
  pid: number | undefined;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Three ports the OS reports free right now (tests and the bench never clash with a running `npm start`). */
export async function freeAzuritePorts(): Promise<AzuritePorts> {
  return { blob: await freePort(), queue: await freePort(), table: await freePort() };
}

/** Azurite from its npm package; ready once all three ports accept connections. Default ports: free ones. */
export async function startAzurite(options: Partial<AzuriteOptions> & PieceOptions = {}): Promise<RunningAzurite> {
  const ports = options.ports ?? (await freeAzuritePorts());
  const entry = createRequire(import.meta.url).resolve('azurite/dist/src/azurite.js');
  const args = azuriteArgs({ ...options, ports });
  const child = launch({ name: 'azurite', args: [entry, ...args], ...pieceOptions(options) });
  try {
    await eventually(async () => {
      if (child.exited) throw new GiveUp(`Azurite exited during start-up (ports ${Object.values(ports).join(', ')}):\n${child.logs().slice(-4000)}`);
      return (await Promise.all([ports.blob, ports.queue, ports.table].map((p) => isPortOpen(p)))).every(Boolean);
    }, 'Azurite to listen', 30_000);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { ports, connectionString: connectionStringFor(ports), args, pid: child.pid, process: child, stop: () => child.stop() };
}

export interface FaceEmulatorProcessOptions extends PieceOptions {
  /** 0 (default) = any free port; the URL comes from the emulator's "listening on" line. */
  port?: number;
  apiKey: string;
  engine?: 'human' | 'stub';
  env?: Record<string, string>;
}

/** The Face emulator (dist/dev/face-emulator/main.js) in its own process. */
export function startFaceEmulatorProcess(options: FaceEmulatorProcessOptions): Promise<RunningService> {
  return startService('face-emulator', 'dev/face-emulator/main.js', [], {
    ...options.env,
    FACE_EMULATOR_PORT: String(options.port ?? 0),
    FACE_EMULATOR_KEY: options.apiKey,
    ...(options.engine ? { FACE_EMULATOR_ENGINE: options.engine } : {}),
  }, /Face emulator listening on (http:\/\/\S+)/, 120_000, options);
}

/** The dev OIDC issuer (dist/dev/oidc-issuer/main.js) in its own process. */
export function startIssuerProcess(options: PieceOptions & { port?: number } = {}): Promise<RunningService> {
  return startService('issuer', 'dev/oidc-issuer/main.js', [], { DEV_ISSUER_PORT: String(options.port ?? 0) },
    /Dev OIDC issuer listening on (http:\/\/\S+)/, 30_000, options);
}

/** The local webhook receiver (dist/dev/webhook-receiver/main.js): verifies each delivery with the given secrets. */
export function startWebhookReceiverProcess(options: PieceOptions & { port?: number; secrets: string[] }): Promise<RunningService> {
  const [primary, secondary] = options.secrets;
  return startService('webhooks', 'dev/webhook-receiver/main.js', [], {
    WEBHOOK_RECEIVER_PORT: String(options.port ?? 0),
    ...(primary ? { WEBHOOK_SECRET: primary } : {}),
    ...(secondary ? { WEBHOOK_SECRET_SECONDARY: secondary } : {}),
  }, /Webhook receiver listening on (http:\/\/\S+)/, 30_000, options);
}

export interface DevHostOptions extends PieceOptions {
  /** App folder (package.json with "main", host.json). Default: the repository root. */
  appRoot?: string;
  /** Default: a free port. */
  port?: number;
  /** Merged over process.env (storage, Face, settings, keys). */
  env?: Record<string, string>;
  /** How long to wait for the listening line. Default 60 s. */
  startTimeoutMs?: number;
}

/** The dev host (dist/dev/host/main.js) serving `appRoot`, started in that folder like `func start`. */
export async function startDevHost(options: DevHostOptions = {}): Promise<RunningService> {
  const appRoot = path.resolve(options.appRoot ?? REPO_ROOT);
  const port = options.port ?? (await freePort());
  return startService('devhost', 'dev/host/main.js', [appRoot], {
    ...options.env, PORT: String(port), FUNCTIONS_HTTPWORKER_PORT: String(port),
  }, /Dev host listening on (http:\/\/\S+)/, options.startTimeoutMs ?? 60_000, { ...options, cwd: appRoot });
}

/** Azure Functions Core Tools (`func start`) on `port`; ready once the port accepts connections. */
export async function startFunc(options: PieceOptions & { port: number }): Promise<RunningService> {
  const child = launch({ name: 'func', command: 'func', args: ['start', '--port', String(options.port)], ...pieceOptions(options) });
  await readyOrStopped(child, () => eventually(async () => {
    if (child.exited) throw new GiveUp(`func start exited before listening on ${options.port}:\n${child.logs().slice(-4000)}`);
    return isPortOpen(options.port);
  }, `func start to listen on ${options.port}`, 120_000));
  return Object.assign(child, { url: `http://127.0.0.1:${options.port}` });
}

/** Whether a command is on PATH. */
export function onPath(command: string): boolean {
  return spawnSync(process.platform === 'win32' ? 'where' : 'which', [command], { stdio: 'ignore' }).status === 0;
}

function pieceOptions(options: PieceOptions): Omit<LaunchOptions, 'name' | 'args'> {
  return { echo: options.echo, detached: options.detached, onUnexpectedExit: options.onUnexpectedExit, counters: options.counters, stopGraceMs: options.stopGraceMs };
}

async function readyOrStopped<T>(child: ManagedProcess, ready: () => Promise<T>): Promise<T> {
  try {
    return await ready();
  } catch (error) {
    await child.stop();
    throw error;
  }
}

async function startService(
  name: string, script: string, args: string[], env: Record<string, string>, listening: RegExp, timeoutMs: number,
  options: PieceOptions & { cwd?: string },
): Promise<RunningService> {
  const main = path.join(DIST, script);
  if (!fs.existsSync(main)) throw new Error(`${path.relative(REPO_ROOT, main)} is missing: build first (npm run build)`);
  const child = launch({ name, args: [main, ...args], env, cwd: options.cwd, ...pieceOptions(options) });
  const match = await readyOrStopped(child, () => child.waitForLog(listening, timeoutMs));
  return Object.assign(child, { url: match[1]! });
}
