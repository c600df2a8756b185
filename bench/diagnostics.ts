// Evidence behind the headline figures: where a create's time goes (in-process timeline of the app's own
// startSession with timed ports), how many storage calls one create makes, how long the completion queue waits
// before it picks a message up, and what each dependency costs to import.
import { spawn } from 'node:child_process';
import { TableClient } from '@azure/data-tables';
import { composeServices } from '../src/composition.js';
import { DEFAULT_CONSENT_VERSION, parseConfig } from '../src/config/config.js';
import type { LivenessDeps } from '../src/core/deps.js';
import { startSession } from '../src/core/start-session.js';
import { request } from './lib/http.js';
import { REPO_ROOT } from './lib/procs.js';
import { median, round, sleep } from './lib/stats.js';
import { recording, type WireCall } from './sweep.js';

interface Span { name: string; start: number; end: number }

/** Wraps every method of a port so that each call's start and end (ms since `origin()`) land in `spans`. */
function timed<T extends object>(label: string, target: T, spans: Span[], origin: () => number): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const start = performance.now() - origin();
        const done = () => spans.push({ name: `${label}.${String(prop)}`, start, end: performance.now() - origin() });
        const result = (value as (...a: unknown[]) => unknown).apply(obj, args);
        if (result && typeof (result as Promise<unknown>).then === 'function') {
          return (result as Promise<unknown>).then((v) => { done(); return v; }, (e: unknown) => { done(); throw e; });
        }
        done();
        return result;
      };
    },
  });
}

export interface CreateTimeline {
  samples: number;
  totalMs: { p50: number };
  faceCreateMs: { p50: number };
  outsideFaceMs: { p50: number };
  steps: Array<{ step: string; startMs: number; endMs: number; durationMs: number; overlapsFace: boolean }>;
  storageCallsPerCreate: Record<string, number>;
  storageCallsTotalPerCreate: number;
  /**
   * The critical path: storage round trips the person waits for besides the Face call (calls not inside the Face
   * call's window, overlapping ones counted once), median over the samples, and which calls they were in one sample.
   */
  serialRoundTripsBesideFace: number;
  serialCallsExample: string[];
}

/**
 * Storage round trips outside the Face call's window [faceStart, faceEnd]: calls that start before Face does or end
 * after it answers, merged where they overlap (calls in parallel are one round trip), in order.
 */
export function serialRoundTrips(calls: WireCall[], faceStart: number, faceEnd: number): string[][] {
  const outside = calls
    .filter((c) => c.service !== 'face' && c.startMs !== undefined && c.endMs !== undefined)
    .filter((c) => c.startMs! < faceStart || c.endMs! > faceEnd)
    .sort((a, b) => a.startMs! - b.startMs!);
  const groups: Array<{ end: number; names: string[] }> = [];
  for (const c of outside) {
    const last = groups[groups.length - 1];
    const name = `${c.service} ${c.method} ${c.target}`;
    if (last && c.startMs! < last.end) { last.end = Math.max(last.end, c.endMs!); last.names.push(name); }
    else groups.push({ end: c.endMs!, names: [name] });
  }
  return groups.map((g) => g.names);
}

/**
 * Runs the app's startSession in-process (same code as the function, without HTTP, the host or multipart) against
 * the same Azurite and emulator, with every port call timed. Medians over `samples` creates.
 */
export async function createTimeline(env: Record<string, string>, image: Uint8Array, samples: number, subjectOf: (i: number) => string = () => 'bench-timeline'): Promise<CreateTimeline> {
  const config = parseConfig(env);
  const base = composeServices(config).liveness;
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const runs: Array<{ spans: Span[]; total: number; calls: WireCall[]; t0: number }> = [];
  for (let i = 0; i < samples + 3; i++) {
    const spans: Span[] = [];
    let t0 = 0;
    const origin = () => t0;
    const deps: LivenessDeps = {
      ...base,
      face: timed('face', base.face, spans, origin),
      images: timed('blob', base.images, spans, origin),
      sessions: timed('sessions', base.sessions, spans, origin),
      limiter: timed('limiter', base.limiter, spans, origin),
      idempotency: timed('idempotency', base.idempotency, spans, origin),
      logger: quiet,
    } as LivenessDeps;
    t0 = performance.now();
    const { calls } = await recording(() => startSession(deps, {
      caller: { subject: subjectOf(i) }, fields: { deviceCorrelationId: 'bench-timeline-device', consentVersion: DEFAULT_CONSENT_VERSION }, verifyImage: image,
    }));
    const total = performance.now() - t0;
    if (i >= 3) runs.push({ spans, total, calls, t0 });
  }
  const names = [...new Set(runs.flatMap((r) => r.spans.map((s) => s.name)))];
  const faceOf = (r: { spans: Span[] }) => r.spans.find((s) => s.name === 'face.create');
  const steps = names.map((name) => {
    const of = runs.map((r) => r.spans.find((s) => s.name === name)).filter((s): s is Span => !!s);
    const startMs = round(median(of.map((s) => s.start)), 1);
    const endMs = round(median(of.map((s) => s.end)), 1);
    const face = runs.map(faceOf).filter((s): s is Span => !!s);
    const fStart = median(face.map((s) => s.start));
    const fEnd = median(face.map((s) => s.end));
    return { step: name, startMs, endMs, durationMs: round(median(of.map((s) => s.end - s.start)), 1), overlapsFace: startMs < fEnd && endMs > fStart };
  }).sort((a, b) => a.startMs - b.startMs);
  const faceMs = runs.map((r) => { const f = faceOf(r); return f ? f.end - f.start : Number.NaN; });
  const perCreate: Record<string, number> = {};
  for (const r of runs) {
    for (const c of r.calls) {
      if (c.service === 'face') continue;
      const key = `${c.service} ${c.method} ${c.target.replace(config.names.tablePrefix, '<prefix>')}`;
      perCreate[key] = (perCreate[key] ?? 0) + 1 / runs.length;
    }
  }
  for (const k of Object.keys(perCreate)) perCreate[k] = round(perCreate[k]!, 2);
  const serial = runs.map((r) => {
    const f = faceOf(r);
    return f ? serialRoundTrips(r.calls, r.t0 + f.start, r.t0 + f.end).map((g) => g.map((n) => n.replace(config.names.tablePrefix, '<prefix>')).join(' + ')) : [];
  });
  const serialCount = median(serial.map((g) => g.length));
  const example = serial.find((g) => g.length === serialCount) ?? [];
  return {
    samples: runs.length,
    totalMs: { p50: round(median(runs.map((r) => r.total)), 1) },
    faceCreateMs: { p50: round(median(faceMs), 1) },
    outsideFaceMs: { p50: round(median(runs.map((r, i) => r.total - faceMs[i]!)), 1) },
    steps,
    storageCallsPerCreate: perCreate,
    storageCallsTotalPerCreate: round(Object.values(perCreate).reduce((a, b) => a + b, 0), 2),
    serialRoundTripsBesideFace: serialCount,
    serialCallsExample: example,
  };
}

/** From the dev host's log: when the completion function started and how long it ran, per [from, to] window. */
export function queuePickups(logs: string, windows: Array<{ from: number; to: number }>): { pickupMs: number[]; executionMs: number[] } {
  const starts: Array<{ at: number; id: string }> = [];
  const durations = new Map<string, number>();
  for (const m of logs.matchAll(/^\[([^\]]+)\] Executing 'Functions\.liveness-completions' \(Reason=.*?, Id=([^)]+)\)$/gm)) {
    starts.push({ at: Date.parse(m[1]!), id: m[2]! });
  }
  for (const m of logs.matchAll(/Executed 'Functions\.liveness-completions' \(\w+, Id=([^,]+), Duration=(\d+)ms\)/g)) {
    durations.set(m[1]!, Number(m[2]));
  }
  const pickupMs: number[] = [];
  const executionMs: number[] = [];
  for (const w of windows) {
    const first = starts.find((s) => s.at >= w.from - 2 && s.at <= w.to);
    if (!first) continue;
    pickupMs.push(first.at - w.from);
    const d = durations.get(first.id);
    if (d !== undefined) executionMs.push(d);
  }
  return { pickupMs, executionMs };
}

/**
 * Milliseconds a fresh node process takes to `import()` the given specifiers one after the other (Node's own start-up
 * excluded). Bare specifiers resolve from the repo root, as the app's own imports do.
 */
export async function timeImports(specifiers: string[]): Promise<number> {
  const script = `const t0 = performance.now(); for (const s of ${JSON.stringify(specifiers)}) await import(s);
process.stdout.write('\\nIMPORT ' + (performance.now() - t0) + '\\n'); process.exit(0);`;
  const text = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let t = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { t += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { t += d; });
    child.on('error', reject);
    child.on('exit', () => resolve(t));
  });
  const m = /IMPORT ([\d.]+)/.exec(text);
  if (!m) throw new Error(`the import timing child printed no timing:\n${text.slice(-2000)}`);
  return Number(m[1]);
}

/** Import cost of each runtime dependency on its own, in a fresh node process each (median of `runs`). */
export async function importCosts(specifiers: string[], runs = 3): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const spec of specifiers) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await timeImports([spec]));
    out[spec] = round(median(times), 1);
  }
  return out;
}

export interface MachineFloor {
  samples: number;
  /** An HTTP round trip between two Node processes on loopback, after a 50 ms pause (as after waiting on Face). */
  hopMs: number;
  /** The same, back to back. */
  hopBackToBackMs: number;
  /** What carrying the verify image adds to that round trip. */
  uploadMs: number;
  /** An Azurite point read of a session-sized row through the SDK, after a pause. */
  readMs: number;
  /** A conditional replace of that row (with its ETag) through the SDK, after a pause. */
  replaceMs: number;
}

/**
 * What this machine charges for the work an API create must add to a direct Face create, measured without the app:
 * one more HTTP hop (the device talks to the app, the app to Face), the verify image carried over it once more, and
 * the two storage round trips the person waits for (the subject read before Face, the session write after it).
 * Medians over `samples`; each timed call follows a 50 ms pause, as the write after Face follows a wait.
 */
export async function machineFloor(connectionString: string, tableName: string, image: Buffer, samples = 30): Promise<MachineFloor> {
  const server = spawn(process.execPath, ['-e', `
    const http = require('node:http');
    const s = http.createServer((q, r) => { q.resume(); q.on('end', () => r.end('{"ok":true}')); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      server.once('exit', () => reject(new Error('the echo server exited')));
    });
    // The bench's own keep-alive client: sequential calls reuse one connection, as the app's clients do.
    const roundTrip = async (body?: Buffer) => {
      const t0 = performance.now();
      await request('POST', `http://127.0.0.1:${port}/`, {}, body);
      return performance.now() - t0;
    };
    const hop: number[] = [];
    const hopB2B: number[] = [];
    const withImage: number[] = [];
    for (let i = 0; i < 5; i++) { await roundTrip(); await roundTrip(image); }
    for (let i = 0; i < samples; i++) {
      await sleep(50); hop.push(await roundTrip());
      hopB2B.push(await roundTrip());
      await sleep(50); withImage.push(await roundTrip(image));
    }

    const table = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
    await table.createTable();
    const columns = Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`c${i}`, 'x'.repeat(100)]));
    const rows = Array.from({ length: samples + 5 }, (_, i) => ({ partitionKey: `floor${i}`, rowKey: 'r', ...columns }));
    for (const row of rows) await table.createEntity(row);
    const read: number[] = [];
    const replace: number[] = [];
    for (const [i, row] of rows.entries()) {
      await sleep(50);
      let t0 = performance.now();
      const current = await table.getEntity(row.partitionKey, row.rowKey);
      const readMs = performance.now() - t0;
      await sleep(50);
      t0 = performance.now();
      await table.updateEntity({ ...row, c0: 'y' }, 'Replace', { etag: current.etag });
      const replaceMs = performance.now() - t0;
      if (i >= 5) { read.push(readMs); replace.push(replaceMs); }
    }
    await table.deleteTable();
    return {
      samples,
      hopMs: round(median(hop), 2),
      hopBackToBackMs: round(median(hopB2B), 2),
      uploadMs: round(median(withImage) - median(hop), 2),
      readMs: round(median(read), 2),
      replaceMs: round(median(replace), 2),
    };
  } finally {
    server.kill();
  }
}
