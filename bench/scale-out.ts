// (10) Scale-out: whole checks (create, the device's capture at the emulator, complete, poll the device status until
// decided) per second on one dev host and on three (separate processes, one app, one host id) against the same fresh
// Azurite and emulator, in one run: one host for half the checks, two more hosts join for the three-host segment, then
// they leave and the first host does the other half (A B A, so Azurite's slowing as blobs pile up falls on both).
// Calls go round-robin over the running hosts; completion messages go to whichever host polls first.
import { eventually } from '../dev/eventually.js';
import { performDeviceAttempt } from '../dev/face-emulator/device.js';
import type { RunningService } from '../dev/stack.js';
import { json, request, type Multipart } from './lib/http.js';
import { withCpu } from './lib/procs.js';
import { round, runPool, summarize, type LatencySummary } from './lib/stats.js';

export interface ScaleOutSettings { checks: number; concurrency: number; faceLatencyMs: number }

export interface ScaleOutDeps {
  settings: ScaleOutSettings;
  /** Starts one more instance of the same app (same env: storage prefix, queue, host id). */
  startHost(): Promise<RunningService>;
  emulator: RunningService;
  azuritePid: number | undefined;
  form: Multipart;
  capture: Uint8Array;
  deviceToken(subject: string): Promise<string>;
  log(message: string): void;
}

export interface ScaleOutSegment {
  hosts: number; checks: number; errors: number; seconds: number; checksPerSecond: number;
  createMs: LatencySummary; timeToResultMs: LatencySummary; cpuPercent: Record<string, number>; cpuMsPerCheck: Record<string, number>;
}

interface Raw { segment: ScaleOutSegment; createMs: number[]; resultMs: number[] }

async function segment(deps: ScaleOutDeps, hosts: RunningService[], count: number, label: string): Promise<Raw> {
  const { concurrency } = deps.settings;
  const createMs: number[] = [];
  const resultMs: number[] = [];
  let errors = 0;
  let next = 0;
  const api = (): string => `${hosts[next++ % hosts.length]!.url}/api`;
  const pids: Record<string, number | undefined> = { azurite: deps.azuritePid, emulator: deps.emulator.pid };
  hosts.forEach((h, i) => { pids[`host${i + 1}`] = h.pid; });
  const { cpu, ms } = await withCpu(pids, () => runPool(count, concurrency, async (_i, worker) => {
    const subject = `bench-so-${label}-${worker}`;
    const token = await deviceToken(deps, subject);
    try {
      const t0 = performance.now();
      const created = await request('POST', `${api()}/liveness-sessions`, { 'content-type': deps.form.contentType, authorization: `Bearer ${token}` }, deps.form.body);
      createMs.push(performance.now() - t0);
      const body = json<{ sessionId?: string; authToken?: string }>(created);
      if (created.status !== 201 || !body?.sessionId || !body.authToken) throw new Error(`create ${created.status}`);
      const attempt = await performDeviceAttempt(deps.emulator.url, body.authToken, deps.capture);
      if (attempt.status >= 300) throw new Error(`device attempt ${attempt.status}`);
      const t1 = performance.now();
      const done = await request('POST', `${api()}/liveness-sessions/${body.sessionId}/complete`, { authorization: `Bearer ${token}` });
      if (done.status !== 202) throw new Error(`complete ${done.status}`);
      await eventually(async () => {
        const r = await request('GET', `${api()}/liveness-sessions/${body.sessionId}/status`, { authorization: `Bearer ${token}` });
        const status = json<{ status?: string }>(r)?.status;
        return r.status === 200 && status !== undefined && status !== 'pending';
      }, `a decision for ${body.sessionId}`, { timeoutMs: 60_000, intervalMs: 20 });
      resultMs.push(performance.now() - t1);
    } catch (error) {
      errors++;
      deps.log(`scale-out ${label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }));
  const cpuMsPerCheck: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpu)) cpuMsPerCheck[k] = round((v / 100) * ms / count, 1);
  return {
    segment: {
      hosts: hosts.length, checks: count, errors, seconds: round(ms / 1000, 2), checksPerSecond: round(count / (ms / 1000), 1),
      createMs: summarize(createMs), timeToResultMs: summarize(resultMs), cpuPercent: cpu, cpuMsPerCheck,
    },
    createMs, resultMs,
  };
}

const tokens = new Map<string, Promise<string>>();
function deviceToken(deps: ScaleOutDeps, subject: string): Promise<string> {
  let token = tokens.get(subject);
  if (!token) { token = deps.deviceToken(subject); tokens.set(subject, token); }
  return token;
}

/** Runs the three segments; the caller owns `first` (and stops it); the two extra hosts are stopped here. */
export async function scaleOut(deps: ScaleOutDeps, first: RunningService): Promise<{ one: ScaleOutSegment; three: ScaleOutSegment; ratio: number }> {
  const { checks } = deps.settings;
  const half = Math.floor(checks / 2);
  deps.log('scale-out: warm-up on one host');
  await segment(deps, [first], 16, 'warm');
  const a1 = await segment(deps, [first], half, 'one-a');
  deps.log(`scale-out: one host ${JSON.stringify(a1.segment)}`);
  const more = await Promise.all([deps.startHost(), deps.startHost()]);
  let three: Raw;
  try {
    await segment(deps, [first, ...more], 16, 'warm3');
    three = await segment(deps, [first, ...more], checks, 'three');
    deps.log(`scale-out: three hosts ${JSON.stringify(three.segment)}`);
  } finally {
    await Promise.all(more.map((h) => h.stop()));
  }
  const a2 = await segment(deps, [first], checks - half, 'one-b');
  deps.log(`scale-out: one host again ${JSON.stringify(a2.segment)}`);
  const [x, y] = [a1.segment, a2.segment];
  const seconds = x.seconds + y.seconds;
  const one: ScaleOutSegment = {
    hosts: 1, checks, errors: x.errors + y.errors, seconds: round(seconds, 2), checksPerSecond: round(checks / seconds, 1),
    createMs: summarize([...a1.createMs, ...a2.createMs]), timeToResultMs: summarize([...a1.resultMs, ...a2.resultMs]),
    cpuPercent: Object.fromEntries(Object.keys(x.cpuPercent).map((k) => [k, Math.round((x.cpuPercent[k]! * x.seconds + (y.cpuPercent[k] ?? 0) * y.seconds) / seconds)])),
    cpuMsPerCheck: Object.fromEntries(Object.keys(x.cpuMsPerCheck).map((k) => [k, round((x.cpuMsPerCheck[k]! * x.checks + (y.cpuMsPerCheck[k] ?? 0) * y.checks) / checks, 1)])),
  };
  return { one, three: three.segment, ratio: round(three.segment.checksPerSecond / one.checksPerSecond, 2) };
}
