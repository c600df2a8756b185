// /proc readings of the bench's child processes (CPU time, RSS). The children themselves are started and stopped by
// dev/stack.ts, the launcher `npm start` and the tests use too.
import fs from 'node:fs';

export { REPO_ROOT } from '../../dev/stack.js';

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
