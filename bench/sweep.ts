// (4) Sweep scaling, in-process: seed live and expired sessions straight into Table storage with batch
// transactions (the app's own table names and key formats), then time one sweep through the app's core
// (`sweepSessions`) with 0 and with 100,000 live sessions, count every storage call it makes and record the
// filters its queries send (the repository's onQuery hook, plus the $filter of every table query on the wire).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { createStorageClients } from '../src/adapters/storage/clients.js';
import { v7 as uuidv7 } from 'uuid';
import { tableNames } from '../src/adapters/storage/table-names.js';
import { sessionKey, sweepIndexKey, TableSessionRepository } from '../src/adapters/storage/table-session-repository.js';
import { composeServices } from '../src/composition.js';
import { parseConfig, type AppConfig } from '../src/config/config.js';
import type { LivenessDeps } from '../src/core/deps.js';
import { sweepSessions } from '../src/core/sweep.js';
import { median, round, runPool } from './lib/stats.js';

// ---------------------------------------------------------------------------------------------------------------
// Wire-level call recorder: every http.request this process makes while recording is on.

export interface WireCall {
  service: string; method: string; target: string; filter?: string;
  /** performance.now() when the request was made and when its answer had arrived (or it failed). */
  startMs?: number; endMs?: number;
}
let recorder: ((call: WireCall) => void) | undefined;
let portNames: Record<string, string> = {};
let installed = false;

/** Patches http.request once (later calls only update which port is which service). */
export function installRecorder(ports: Record<string, number>): void {
  portNames = Object.fromEntries(Object.entries(ports).map(([name, port]) => [String(port), name]));
  if (installed) return;
  installed = true;
  const original = http.request;
  const patched = function (this: unknown, ...args: unknown[]) {
    let call: WireCall | undefined;
    if (recorder) {
      try { call = { ...describe(args), startMs: performance.now() }; recorder(call); } catch { /* never break a request */ }
    }
    const req = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    if (call) {
      const done = () => { call.endMs ??= performance.now(); };
      req.once('response', (res: http.IncomingMessage) => { res.once('end', done); res.once('close', done); });
      req.once('error', done);
      req.once('close', done);
    }
    return req;
  };
  (http as unknown as { request: unknown }).request = patched;
  syncBuiltinESMExports();
}

function describe(args: unknown[]): WireCall {
  const first = args[0];
  let port = ''; let method = 'GET'; let path = '/';
  if (typeof first === 'string' || first instanceof URL) {
    const u = new URL(String(first));
    port = u.port; path = `${u.pathname}${u.search}`;
    const opts = args[1] as http.RequestOptions | undefined;
    if (opts && typeof opts === 'object' && opts.method) method = opts.method;
  } else {
    const o = first as http.RequestOptions;
    port = String(o.port ?? ''); method = o.method ?? 'GET'; path = o.path ?? '/';
  }
  const service = portNames[port] ?? `port ${port}`;
  const [pathname, query = ''] = path.split('?');
  const segments = decodeURIComponent(pathname!).split('/').filter(Boolean);
  let target: string;
  if (service === 'table') target = (segments[1] ?? '').replace(/\(.*$/, '');
  else if (service === 'blob') target = segments.length > 2 ? 'blob' : /restype=container/.test(query) ? 'container' : 'service';
  else if (service === 'queue') target = segments[1] ?? '';
  else target = segments.slice(0, 3).join('/');
  const filter = new URLSearchParams(query).get('$filter') ?? undefined;
  return { service, method: method.toUpperCase(), target, ...(filter ? { filter } : {}) };
}

export async function recording<T>(work: () => Promise<T>): Promise<{ value: T; calls: WireCall[] }> {
  const calls: WireCall[] = [];
  recorder = (c) => calls.push(c);
  try {
    return { value: await work(), calls };
  } finally {
    recorder = undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Seeding

/** `expired` sessions per group; group g's tokens expired 93–110 min ago minus g × 30 min (one sweep each). */
export interface SeedPlan { prefix: string; live: number; expired: number; now: number; expiredGroups?: number }

interface SeedRow { id: string; created: string; ttl: number; expires: string }

function plan(p: SeedPlan): { live: SeedRow[]; expired: SeedRow[] } {
  const live: SeedRow[] = [];
  // Live: created over the last 1,000 s (100 per second: the created index partitions per second), tokens expiring
  // from now+1 h to now+21 h (~83 per minute bucket of the sweep index); TTL within Face's 60..86,400 s.
  for (let i = 0; i < p.live; i++) {
    const created = p.now - 1_000_000 + Math.floor((i / Math.max(1, p.live)) * 1_000_000);
    const due = p.now + 3_600_000 + Math.floor((i / Math.max(1, p.live)) * 20 * 3_600_000);
    live.push(row(created, Math.round((due - created) / 1000)));
  }
  // Expired, per group g: created 2 h - g x 30 min ago over 1,000 s, 10-minute tokens: due 110..93 min ago for
  // group 0, 80..63 min ago for group 1 (~60 per minute bucket).
  const expired: SeedRow[] = [];
  for (let g = 0; g < (p.expiredGroups ?? 1); g++) {
    for (let j = 0; j < p.expired; j++) {
      const created = p.now - 2 * 3_600_000 + g * 1_800_000 + Math.floor((j / Math.max(1, p.expired)) * 1_000_000);
      expired.push(row(created, 600));
    }
  }
  return { live, expired };
}

function row(createdMs: number, ttl: number): SeedRow {
  return {
    id: uuidv7({ msecs: createdMs }), // as the app mints them: the row's keys follow from the creation time
    created: new Date(createdMs).toISOString(),
    ttl,
    expires: new Date(createdMs + ttl * 1000).toISOString(),
  };
}

/** The entity the repository writes for a NotStarted session (see toEntity in table-session-repository.ts). */
function sessionEntity(r: SeedRow, n: number) {
  return {
    ...sessionKey(r.id)!,
    createdDateTime: r.created,
    authTokenTimeToLiveInSeconds: r.ttl,
    authTokenExpiresDateTime: r.expires,
    livenessOperationMode: 'Passive',
    deviceCorrelationId: `bench-device-${n % 1000}`,
    faceSessionId: r.id, // no such session at the emulator: its 404 on delete is fine for the app
    subject: `bench-subject-${n % 1000}`,
    enableSessionImage: false,
    modelVersion: '2024-11-15',
    status: 'NotStarted',
    verifyImageJson: JSON.stringify({ faceRectangle: { top: 120, left: 160, width: 200, height: 230 }, qualityForRecognition: 'high' }),
    storedVerifyImageJson: JSON.stringify({
      blobName: `verify-images/${randomUUID()}.jpg`, contentType: 'image/jpeg', sizeInBytes: 104_419,
      sha256: 'B'.repeat(64),
    }),
    faceSessionDeleted: false,
    imagesDeleted: false,
    sessionImageBlobsJson: '[]',
    deleting: false,
    nextSweepDateTime: r.expires,
  };
}

function sweepEntity(r: SeedRow) {
  return { ...sweepIndexKey(r.expires, r.id), sessionId: r.id, dueDateTime: r.expires };
}

/** Groups by partition, ≤100 per transaction; reports the largest partition. */
function batches<E extends { partitionKey: string }>(entities: E[]): { txns: E[][]; maxPartition: number; partitions: number } {
  const byPk = new Map<string, E[]>();
  for (const e of entities) {
    const list = byPk.get(e.partitionKey);
    if (list) list.push(e); else byPk.set(e.partitionKey, [e]);
  }
  const txns: E[][] = [];
  let maxPartition = 0;
  for (const list of byPk.values()) {
    maxPartition = Math.max(maxPartition, list.length);
    for (let i = 0; i < list.length; i += 100) txns.push(list.slice(i, i + 100));
  }
  return { txns, maxPartition, partitions: byPk.size };
}

export interface SeedReport {
  prefix: string; live: number; expired: number; expiredGroups: number; seconds: number;
  sessionRows: { rows: number; partitions: number; maxPartition: number; transactions: number };
  sweepIndex: { rows: number; partitions: number; maxPartition: number; transactions: number };
}

export async function seed(connectionString: string, p: SeedPlan): Promise<SeedReport & { expiredIds: string[] }> {
  const t0 = performance.now();
  const names = tableNames(p.prefix);
  const client = (name: string) => TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: true });
  const sessions = client(names.sessions);
  const sweep = client(names.sweepSchedule);
  await Promise.all([sessions, sweep, client(names.auditEntries)].map((t) => t.createTable()));
  const { live, expired } = plan(p);
  const all = [...expired, ...live];
  // Session rows: partitioned by creation second (about 100 each), so they go in batch transactions too.
  const created = batches(all.map((r, i) => sessionEntity(r, i)));
  const due = batches(all.map((r) => sweepEntity(r)));
  const submit = (table: TableClient, txns: Array<Array<{ partitionKey: string; rowKey: string }>>) =>
    runPool(txns.length, 4, async (i) => {
      await table.submitTransaction(txns[i]!.map((e): TransactionAction => ['create', e]));
    });
  await submit(sessions, created.txns);
  await submit(sweep, due.txns);
  return {
    expiredIds: expired.map((r) => r.id),
    prefix: p.prefix, live: p.live, expired: p.expired, expiredGroups: p.expiredGroups ?? 1, seconds: round((performance.now() - t0) / 1000, 1),
    sessionRows: { rows: all.length, partitions: created.partitions, maxPartition: created.maxPartition, transactions: created.txns.length },
    sweepIndex: { rows: all.length, partitions: due.partitions, maxPartition: due.maxPartition, transactions: due.txns.length },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// One sweep, instrumented

const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface SweepEnv { connectionString: string; faceEndpoint: string; faceKey: string; extraEnv?: Record<string, string> }

/**
 * The app's own core dependencies, in-process, for a bench section on its own table prefix: built like the app's
 * `composeServices(parseConfig(env))`, with a TableSessionRepository whose `onQuery` records the filters it sends.
 * Also used by erasure.ts.
 */
export function benchDeps(env: SweepEnv, prefix: string, onQuery: (table: string, filter: string) => void, options: { now?: () => Date; settings?: Record<string, string> } = {}): { deps: LivenessDeps; config: AppConfig } {
  const config = parseConfig({
    AzureWebJobsStorage: env.connectionString,
    FACE_ENDPOINT: env.faceEndpoint,
    FACE_API_KEY: env.faceKey,
    LIVENESS_STORAGE_PREFIX: prefix,
    LIVENESS_COMPLETION_QUEUE: `${prefix.toLowerCase()}-completions`,
    LIVENESS_SWEEP_SCHEDULE: '0 0 0 1 1 *',
    ...options.settings,
    ...env.extraEnv,
  });
  const base = composeServices(config).liveness;
  // The same repository class the app uses, on the same kind of clients, with the query observer attached.
  const repository = new TableSessionRepository(createStorageClients(config.storage), config.names.tablePrefix, { onQuery });
  const deps = { ...base, sessions: repository, logger: quietLogger, ...(options.now ? { clock: { now: options.now } } : {}) } as LivenessDeps;
  return { deps, config };
}

const depsFor = (env: SweepEnv, prefix: string, onQuery: (table: string, filter: string) => void, now?: () => Date): LivenessDeps =>
  benchDeps(env, prefix, onQuery, { now }).deps;

export interface SweepRun {
  prefix: string;
  live: number;
  expired: number;
  ms: number;
  report: Record<string, unknown>;
  calls: { total: number; byService: Record<string, number>; byOperation: Record<string, number>; perDueSession: number };
  filters: Array<{ table: string; filter: string; count: number }>;
  wireFilters: Array<{ table: string; filter: string; count: number }>;
  dueQueryMs: number;
}

const normalize = (s: string, prefix: string) => s.split(prefix).join('<prefix>');

/** Paginates the due query alone (read-only), to separate Azurite's scan cost from the sweep's work. */
async function timeDueQuery(deps: LivenessDeps, pageSize: number): Promise<number> {
  const runs: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    let token: string | undefined;
    const now = deps.clock.now();
    do {
      const page = await deps.sessions.listDue(now, pageSize, token);
      token = page.continuationToken;
    } while (token);
    runs.push(performance.now() - t0);
  }
  return round(median(runs), 1);
}

export async function warmSweep(env: SweepEnv, prefix: string, seededAt: number): Promise<void> {
  // A sweep with the clock before every due time: nothing is due; warms connections, table creation and code paths.
  const deps = depsFor(env, prefix, () => undefined, () => new Date(seededAt - 3 * 3_600_000));
  await sweepSessions(deps);
}

export async function measureSweep(env: SweepEnv, prefix: string, live: number, expired: number, now?: () => Date): Promise<SweepRun> {
  const queries: Array<{ table: string; filter: string }> = [];
  const deps = depsFor(env, prefix, (table, filter) => queries.push({ table, filter }), now);
  const dueQueryMs = await timeDueQuery(deps, deps.settings.sweepPageSize);
  queries.length = 0;
  const t0 = performance.now();
  const { value: report, calls } = await recording(() => sweepSessions(deps));
  const ms = performance.now() - t0;
  const count = (keys: string[]) => keys.reduce<Record<string, number>>((acc, k) => { acc[k] = (acc[k] ?? 0) + 1; return acc; }, {});
  const storage = calls.filter((c) => c.service === 'blob' || c.service === 'table' || c.service === 'queue');
  const group = (list: Array<{ table: string; filter: string }>) => Object.entries(count(list.map((q) => JSON.stringify([normalize(q.table, prefix), normalize(q.filter, prefix)]))))
    .map(([k, n]) => { const [table, filter] = JSON.parse(k) as [string, string]; return { table, filter, count: n }; });
  const due = Number((report as unknown as { due?: number }).due ?? 0);
  return {
    prefix, live, expired, ms: round(ms, 1),
    report: report as unknown as Record<string, unknown>,
    calls: {
      total: storage.length,
      byService: count(calls.map((c) => c.service)),
      byOperation: count(calls.map((c) => `${c.service} ${c.method} ${normalize(c.target, prefix)}`)),
      perDueSession: due ? round(storage.length / due, 2) : Number.NaN,
    },
    filters: group(queries),
    wireFilters: group(calls.filter((c) => c.service === 'table' && c.filter).map((c) => ({ table: c.target, filter: c.filter! }))),
    dueQueryMs,
  };
}

/**
 * Azurite's cost per keyed operation on tables of a given size, sequential: getEntity + Merge of existing session
 * rows, and upsert + delete of a row in the sweep index (what the sweep does per session). On Azure Table these are
 * keyed operations whose cost does not depend on the table's size; Azurite's in-memory store is another matter.
 */
export async function pointOpCost(connectionString: string, prefix: string, ids: string[]): Promise<{ sessionGetMerge: { p50: number; p95: number }; sweepIndexUpsertDelete: { p50: number; p95: number }; n: number }> {
  const names = tableNames(prefix);
  const sessions = TableClient.fromConnectionString(connectionString, names.sessions, { allowInsecureConnection: true });
  const sweep = TableClient.fromConnectionString(connectionString, names.sweepSchedule, { allowInsecureConnection: true });
  const a: number[] = [];
  const b: number[] = [];
  for (const id of ids) {
    let t0 = performance.now();
    const key = sessionKey(id)!;
    await sessions.getEntity(key.partitionKey, key.rowKey);
    await sessions.updateEntity({ ...key, benchTouched: true }, 'Merge');
    a.push(performance.now() - t0);
    const k = sweepIndexKey(new Date(Date.now() + 40 * 86_400_000).toISOString(), id);
    t0 = performance.now();
    await sweep.upsertEntity({ ...k, sessionId: id, dueDateTime: 'x' }, 'Replace');
    await sweep.deleteEntity(k.partitionKey, k.rowKey);
    b.push(performance.now() - t0);
  }
  const q = (v: number[]) => { const x = [...v].sort((m, n) => m - n); return { p50: round(x[Math.floor(x.length / 2)]!, 2), p95: round(x[Math.floor(x.length * 0.95)]!, 2) }; };
  return { n: ids.length, sessionGetMerge: q(a), sweepIndexUpsertDelete: q(b) };
}
