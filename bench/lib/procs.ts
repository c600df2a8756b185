// Child processes of the bench (dev host, Face emulator) and /proc readings (CPU time, RSS). Every child is
// registered so that run.ts can stop all of them, even after a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DIST = path.join(REPO_ROOT, 'dist');

export interface Child {
  name: string;
  pid: number | undefined;
  url?: string;
  /** Everything written so far (bounded to the last 2 MB). */
  logs(): string;
  /** Count of lines matching a pattern seen so far (counted on the full stream, not the bounded buffer). */
  count(pattern: RegExp): number;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

const running = new Set<Child>();

export async function stopAll(): Promise<void> {
  for (const child of [...running].reverse()) await child.stop().catch(() => undefined);
}

export function killAllNow(): void {
  for (const child of running) if (child.pid) { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }
}

function spawnChild(name: string, script: string, args: string[], env: Record<string, string>, counters: RegExp[] = []): Child {
  const proc: ChildProcess = spawn(process.execPath, [script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let pending = '';
  const counts = new Map<RegExp, number>(counters.map((c) => [c, 0]));
  const onData = (s: string): void => {
    output += s;
    if (output.length > 4_000_000) output = output.slice(-2_000_000);
    pending += s;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) for (const [re, n] of counts) if (re.test(line)) counts.set(re, n + 1);
  };
  proc.stdout!.setEncoding('utf8').on('data', onData);
  proc.stderr!.setEncoding('utf8').on('data', onData);
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.once('exit', () => { exited = true; resolve(); }));
  const child: Child = {
    name,
    pid: proc.pid,
    logs: () => output,
    count: (re) => counts.get(re) ?? 0,
    async waitForLog(pattern, timeoutMs = 30_000) {
      const started = Date.now();
      for (;;) {
        const m = pattern.exec(output);
        if (m) return m;
        if (exited) throw new Error(`${name} exited while waiting for ${String(pattern)}:\n${output.slice(-4000)}`);
        if (Date.now() - started > timeoutMs) throw new Error(`${name}: timed out waiting for ${String(pattern)}:\n${output.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      running.delete(child);
      if (exited) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) proc.kill('SIGKILL'); }, 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
  running.add(child);
  return child;
}

/** The dev host serving the repo's app (same approach as the tests' spawnDevHost: wait for the listening line). */
export async function startDevHost(env: Record<string, string>, port: number, counters: RegExp[] = []): Promise<Child> {
  const main = path.join(DIST, 'dev/host/main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: build first (npx tsc -p tsconfig.json)`);
  const child = spawnChild('devhost', main, [REPO_ROOT], { ...env, PORT: String(port), FUNCTIONS_HTTPWORKER_PORT: String(port) }, counters);
  try {
    const m = await child.waitForLog(/Dev host listening on (http:\/\/\S+)/, 60_000);
    child.url = m[1]!;
  } catch (error) {
    await child.stop();
    throw error;
  }
  return child;
}

/** The Face emulator in its own process, so its CPU is separate from the load generator's. */
export async function startEmulatorProcess(port: number, apiKey: string, engine: 'human' | 'stub' = 'human'): Promise<Child> {
  const main = path.join(DIST, 'dev/face-emulator/main.js');
  const child = spawnChild('face-emulator', main, [], {
    FACE_EMULATOR_PORT: String(port), FACE_EMULATOR_KEY: apiKey, FACE_EMULATOR_ENGINE: engine,
  });
  try {
    const m = await child.waitForLog(/Face emulator listening on (http:\/\/\S+)/, 120_000);
    child.url = m[1]!;
  } catch (error) {
    await child.stop();
    throw error;
  }
  return child;
}

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14 and 15)
  } catch {
    return Number.NaN;
  }
}

/** VmRSS and VmHWM in bytes. */
export function memory(pid: number | undefined): { rss: number; hwm: number } {
  if (!pid) return { rss: Number.NaN, hwm: Number.NaN };
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN };
  }
}

/** Resets VmHWM to the current RSS (Linux: echo 5 > /proc/pid/clear_refs). */
export function resetPeak(pid: number | undefined): boolean {
  if (!pid) return false;
  try { fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); return true; } catch { return false; }
}

/** Measures CPU % (one core = 100) of several processes over an async piece of work. */
export async function withCpu<T>(pids: Record<string, number | undefined>, work: () => Promise<T>): Promise<{ value: T; cpu: Record<string, number>; ms: number }> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  const ms = performance.now() - t0;
  const self = process.cpuUsage(self0);
  const cpu: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) cpu[k] = Math.round(((cpuSeconds(pid) - before[k]!) / (ms / 1000)) * 100);
  cpu.bench = Math.round(((self.user + self.system) / 1e6 / (ms / 1000)) * 100);
  return { value, cpu, ms };
}

/** CPU seconds of every process on the machine, with its parent pid and name. */
export function cpuSnapshot(): Map<number, { cpu: number; ppid: number; name: string }> {
  const out = new Map<number, { cpu: number; ppid: number; name: string }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      out.set(Number(entry), { cpu: (Number(fields[11]) + Number(fields[12])) / TICKS, ppid: Number(fields[1]), name });
    } catch { /* exited */ }
  }
  return out;
}

/**
 * CPU % (one core = 100) used during a window by processes that are neither the bench nor its children: other
 * work on the machine that competes with the measurement.
 */
export function foreignCpu(before: Map<number, { cpu: number; ppid: number; name: string }>, ms: number): { percent: number; top: Array<{ pid: number; name: string; percent: number }> } {
  const after = cpuSnapshot();
  const ours = (pid: number, ppid: number) => pid === process.pid || ppid === process.pid;
  const top: Array<{ pid: number; name: string; percent: number }> = [];
  let total = 0;
  for (const [pid, a] of after) {
    if (ours(pid, a.ppid)) continue;
    const used = a.cpu - (before.get(pid)?.cpu ?? 0);
    if (used <= 0) continue;
    const percent = (used / (ms / 1000)) * 100;
    total += percent;
    top.push({ pid, name: a.name, percent: Math.round(percent) });
  }
  top.sort((x, y) => y.percent - x.percent);
  return { percent: Math.round(total), top: top.slice(0, 5) };
}
