// `npm run bench` (= tsc, then node dist/bench/run.js): measures the app as its users feel it, side by side with the
// limit in the same run, on the local stack (Azurite, the Face v1.2 emulator, the dev host, the dev OIDC issuer).
// Prints a table and writes bench/results/latest.json. See bench/README.md for what each figure means.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { freePort } from '../dev/azurite.js';
import { resolveEntryPoints } from '../dev/host/glob.js';
import { eventually, GiveUp } from '../dev/eventually.js';
import { performDeviceAttempt } from '../dev/face-emulator/device.js';
import { BACKOFFICE_AUDIENCE, BACKOFFICE_ROLE, DEVICE_AUDIENCE, startDevIssuer, type RunningDevIssuer } from '../dev/oidc-issuer/issuer.js';
import { AzureFaceSessions } from '../src/adapters/face/azure-face-sessions.js';
import { createStorageClients } from '../src/adapters/storage/clients.js';
import { TableSessionRepository } from '../src/adapters/storage/table-session-repository.js';
import { DEFAULT_CONSENT_VERSION } from '../src/config/config.js';
import { closeAgent, json, multipart, request, type Multipart } from './lib/http.js';
import { faceJpegNear, fixture, padJpeg } from './lib/images.js';
import { killAllNow, startAzurite, startDevHost, startFaceEmulatorProcess, stopAll, type RunningAzurite, type RunningService } from '../dev/stack.js';
import { cpuSnapshot, foreignCpu, memory, REPO_ROOT, resetPeak, withCpu } from './lib/procs.js';
import { median, round, runPool, sleep, summarize } from './lib/stats.js';
import { createTimeline, machineFloor, importCosts, queuePickups, timeImports, type CreateTimeline } from './diagnostics.js';
import { installRecorder, measureSweep, pointOpCost, seed, warmSweep, type SweepRun } from './sweep.js';
import { erasureScaling } from './erasure.js';
import { evidenceCost } from './evidence.js';
import { scaleOut } from './scale-out.js';

// ---------------------------------------------------------------------------------------------------------------
// Settings (printed and written to the results)

const SETTINGS = {
  faceKey: 'bench-face-key',
  faceEngine: 'human' as const,
  realisticFaceLatencyMs: 150,
  verifyImageTargetBytes: 100 * 1024,
  createOverhead: { warmup: 5, samples: 40, concurrency: 1, faceLatencyMs: 150, inProcessTimelineSamples: 10 },
  timeToResult: { warmup: 2, samples: 36, faceLatencyMs: 0, captureDelayMs: [1200, 2200], pollEveryMs: 10, cpuCollections: 24 },
  throughput: {
    faceLatencyMs: 0,
    warmup: { creates: 50, ceiling: 50, concurrency: 8 },
    levels: [{ concurrency: 1, count: 200 }, { concurrency: 8, count: 800 }, { concurrency: 32, count: 1000 }],
    order: 'per level: ceiling half, API half, API half, ceiling half (ABBA), on one fresh Azurite',
  },
  sweep: { live: 100_000, expired: 1_000, warmupExpired: 200, faceLatencyMs: 0 },
  memory: { concurrent: 16, imageBytes: 6_200_000, faceLatencyMs: 150, pollEveryMs: 5, freshHosts: 3 },
  coldStart: { runs: 5, discardFirst: 1 },
  faceCalls: { checks: 10, stormCompletes: 30 },
  scaleOut: { checks: 120, concurrency: 8, faceLatencyMs: 0 },
  devHostEnv: {
    LIVENESS_SWEEP_SCHEDULE: '0 0 0 1 1 *',
    AUTH_ATTEMPT_LIMITS_ENABLED: 'false',
    DEVHOST_LOG_LEVEL: 'information',
  },
};

interface Row { name: string; figure: string; target: string; verdict: 'pass' | 'miss' | 'error' | 'info' }
const rows: Row[] = [];
const results: Record<string, unknown> = {};
const log = (message: string): void => { process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`); };

// ---------------------------------------------------------------------------------------------------------------
// Stack helpers

interface Stack { azurite: RunningAzurite; host: RunningService; prefix: string; api: string; env: Record<string, string> }

let issuer: RunningDevIssuer = undefined as unknown as RunningDevIssuer;
let emulator: RunningService;
const tokens = new Map<string, string>();
let backofficeToken = '';

async function deviceToken(subject: string): Promise<string> {
  let token = tokens.get(subject);
  if (!token) {
    token = await issuer.issueToken({ sub: subject, aud: DEVICE_AUDIENCE, expiresIn: 4 * 3600 });
    tokens.set(subject, token);
  }
  return token;
}

/** A fresh in-memory Azurite on free ports (dev/stack.ts stops it with the rest if the bench fails). */
const freshAzurite = (): Promise<RunningAzurite> => startAzurite();

async function startStack(azurite: RunningAzurite, label: string): Promise<Stack> {
  const prefix = `Bench${label}${randomUUID().replace(/-/g, '').slice(0, 6)}`;
  const env: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    FACE_ENDPOINT: emulator.url,
    FACE_API_KEY: SETTINGS.faceKey,
    LIVENESS_STORAGE_PREFIX: prefix,
    LIVENESS_COMPLETION_QUEUE: `${prefix.toLowerCase()}-completions`,
    DEVICE_AUTH_ISSUER: issuer.issuer,
    DEVICE_AUTH_AUDIENCE: DEVICE_AUDIENCE,
    ...SETTINGS.devHostEnv,
  };
  const host = await startDevHost({ env, counters: [/\/error\]|\(Failed,/] });
  return { azurite, host, prefix, api: `${host.url}/api`, env };
}

async function setFaceLatency(latencyMs: number): Promise<void> {
  const r = await request('PUT', `${emulator.url}/emulator/faults`,
    { 'ocp-apim-subscription-key': SETTINGS.faceKey, 'content-type': 'application/json' }, JSON.stringify({ latencyMs }));
  if (r.status >= 300) throw new Error(`emulator faults: ${r.status} ${r.body.toString()}`);
}

interface CreateResult { status: number; ms: number; body?: Record<string, unknown> }

async function apiCreate(stack: Stack, form: Multipart, subject: string): Promise<CreateResult> {
  const token = await deviceToken(subject);
  const t0 = performance.now();
  const r = await request('POST', `${stack.api}/liveness-sessions`, {
    'content-type': form.contentType, authorization: `Bearer ${token}`,
  }, form.body);
  const ms = performance.now() - t0;
  return { status: r.status, ms, body: json(r) };
}

function createForm(image: Uint8Array, deviceCorrelationId: string): Multipart {
  return multipart({ deviceCorrelationId, consentVersion: DEFAULT_CONSENT_VERSION }, { name: 'verifyImage', fileName: 'verify.jpg', contentType: 'image/jpeg', bytes: image });
}

const errorSamples: string[] = [];
function noteError(where: string, r: { status: number; body?: unknown }): void {
  if (errorSamples.length < 20) errorSamples.push(`${where}: ${r.status} ${JSON.stringify(r.body ?? '').slice(0, 300)}`);
}

async function expectCreated(stack: Stack, form: Multipart, subject: string, where: string): Promise<CreateResult> {
  const r = await apiCreate(stack, form, subject);
  if (r.status !== 201) {
    noteError(where, r);
    throw new Error(`${where}: create answered ${r.status} ${JSON.stringify(r.body)}`);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// (1) Create overhead

async function createOverhead(stack: Stack, image: Buffer): Promise<void> {
  const s = SETTINGS.createOverhead;
  await setFaceLatency(s.faceLatencyMs);
  const face = new AzureFaceSessions({ endpoint: emulator.url, apiKey: SETTINGS.faceKey, timeoutMs: 10_000, maxRetries: 0, retryBudgetMs: 0 });
  const form = createForm(image, 'bench-overhead-device');
  const direct = async (): Promise<number> => {
    const t0 = performance.now();
    await face.create({
      livenessOperationMode: 'Passive', deviceCorrelationId: 'bench-overhead-device', authTokenTimeToLiveInSeconds: 600,
      enableSessionImage: false, verifyImage: { bytes: image, contentType: 'image/jpeg', fileName: 'verify.jpg' },
    });
    return performance.now() - t0;
  };
  for (let i = 0; i < s.warmup; i++) { await expectCreated(stack, form, 'bench-overhead', 'create-overhead warm-up'); await direct(); }
  const api: number[] = [];
  const dir: number[] = [];
  for (let i = 0; i < s.samples; i++) {
    // alternate which goes first, so neither always follows the other
    if (i % 2 === 0) { api.push((await expectCreated(stack, form, 'bench-overhead', 'create-overhead')).ms); dir.push(await direct()); }
    else { dir.push(await direct()); api.push((await expectCreated(stack, form, 'bench-overhead', 'create-overhead')).ms); }
  }
  const a = summarize(api);
  const d = summarize(dir);
  const ratio = round(a.p50 / d.p50, 3);
  const ratio95 = round(a.p95 / d.p95, 3);
  results.createOverhead = { settings: s, imageBytes: image.length, api: a, direct: d, ratioP50: ratio, ratioP95: ratio95, rawApiMs: api.map((v) => round(v, 2)), rawDirectMs: dir.map((v) => round(v, 2)) };
  rows.push({
    name: '1. create overhead (p50 API / p50 direct)',
    figure: `${ratio}  (API p50 ${a.p50} / p95 ${a.p95} ms; direct p50 ${d.p50} / p95 ${d.p95} ms; p95 ratio ${ratio95})`,
    target: '<= 1.05', verdict: ratio <= 1.05 ? 'pass' : 'miss',
  });
  log(`create overhead: API ${JSON.stringify(a)} direct ${JSON.stringify(d)} ratio ${ratio}`);

  // Evidence: the same create in-process (the app's startSession, no HTTP/host/multipart), every port call timed.
  installRecorder({ blob: stack.azurite.ports.blob, queue: stack.azurite.ports.queue, table: stack.azurite.ports.table, face: Number(new URL(emulator.url).port) });
  const timeline = await createTimeline({ ...stack.env, LIVENESS_STORAGE_PREFIX: `${stack.prefix}T` }, image, s.inProcessTimelineSamples);
  (results.createOverhead as Record<string, unknown>).inProcessTimeline = timeline;
  const serial = timeline.steps.filter((st) => !st.overlapsFace && st.step !== 'face.create').map((st) => `${st.step} ${st.durationMs}`).join(', ');
  rows.push({
    name: '1a. where a create spends its time (in-process)',
    figure: `startSession p50 ${timeline.totalMs.p50} ms = Face ${timeline.faceCreateMs.p50} + ${timeline.outsideFaceMs.p50} outside it; serial steps (ms): ${serial}; HTTP+host+multipart ~${round(a.p50 - timeline.totalMs.p50, 1)} ms`,
    target: '-', verdict: 'info',
  });
  const calls = (t: CreateTimeline) => Object.entries(t.storageCallsPerCreate).map(([k, v]) => `${k} x${v}`).join(', ');
  rows.push({
    name: '1b. storage calls per create: before the answer / after it',
    figure: `${timeline.storageCallsTotalPerCreate} / 0: ${calls(timeline)}; after the answer, through the row's outbox: the consent's evidence record, appended with the decision (row 9)`,
    target: '-', verdict: 'info',
  });
  rows.push({
    name: '1c. storage round trips in series besides the Face call',
    figure: `${timeline.serialRoundTripsBesideFace} (${timeline.serialCallsExample.join(' -> ')})`,
    target: '<= 2', verdict: timeline.serialRoundTripsBesideFace <= 2 ? 'pass' : 'miss',
  });
  log(`create timeline: ${JSON.stringify(timeline)}`);

  // The same with the production defaults (attempt limits and quotas on, which the rest of the bench turns off so one
  // subject can create freely): a new subject per create, as its first check.
  const limited = await createTimeline({ ...stack.env, LIVENESS_STORAGE_PREFIX: `${stack.prefix}L`, AUTH_ATTEMPT_LIMITS_ENABLED: 'true' }, image, s.inProcessTimelineSamples,
    (i) => `bench-timeline-limits-${i}`);
  (results.createOverhead as Record<string, unknown>).inProcessTimelineWithLimits = limited;
  rows.push({
    name: '1d. the same with attempt limits and quotas on (a new subject each)',
    figure: `${limited.storageCallsTotalPerCreate} calls before the answer (${calls(limited)}); ${limited.serialRoundTripsBesideFace} round trips in series besides Face (${limited.serialCallsExample.join(' -> ')}); startSession p50 ${limited.totalMs.p50} ms = Face ${limited.faceCreateMs.p50} + ${limited.outsideFaceMs.p50}`,
    target: '-', verdict: 'info',
  });
  log(`create timeline with limits: ${JSON.stringify(limited)}`);

  // The floor: what this machine charges for the least an API create must add to a direct one, without the app.
  const floor = await machineFloor(stack.env.AzureWebJobsStorage!, `${stack.prefix}Floor`, image);
  (results.createOverhead as Record<string, unknown>).machineFloor = floor;
  const budget = round(d.p50 * 0.05, 1);
  const least = round(floor.hopMs + floor.uploadMs + floor.readMs + floor.replaceMs, 1);
  rows.push({
    name: "1e. this machine's floor for what an API create adds (no app code)",
    figure: `${least} ms of the ${budget} ms a 1.05 ratio allows: one more HTTP hop ${floor.hopMs} ms (after a pause; back to back ${floor.hopBackToBackMs}), `
      + `the image over it once more ${floor.uploadMs} ms, an Azurite point read ${floor.readMs} ms and conditional replace ${floor.replaceMs} ms through the SDK `
      + `(the subject read before Face, the session write after it); the token check, the form, the image check and the rows come on top (row 1a)`,
    target: '-', verdict: 'info',
  });
  log(`machine floor: ${JSON.stringify(floor)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// (7) Face calls per finished check: what one check costs at Face (10 calls/s per resource on S0), in the normal flow
// and when the device sends 30 completes at once. Counted by the emulator (GET /emulator/calls), per operation.

async function faceCallsPerCheck(stack: Stack, image: Buffer): Promise<void> {
  const s = SETTINGS.faceCalls;
  await setFaceLatency(0);
  const capture = fixture('face-astronaut.png');
  const key = { 'ocp-apim-subscription-key': SETTINGS.faceKey };
  const queue = QueueServiceClient.fromConnectionString(stack.azurite.connectionString).getQueueClient(`${stack.prefix.toLowerCase()}-completions`);
  const run = async (label: string, completes: number) => {
    const reset = await request('DELETE', `${emulator.url}/emulator/calls`, key);
    if (reset.status !== 204) throw new Error(`emulator calls reset: ${reset.status}`);
    for (let i = 0; i < s.checks; i++) {
      const subject = `bench-calls-${label}-${i}`;
      const created = await expectCreated(stack, createForm(image, `${subject}-device`), subject, `face calls (${label})`);
      const sessionId = String(created.body?.sessionId);
      const attempt = await performDeviceAttempt(emulator.url, String(created.body?.authToken), capture);
      if (attempt.status >= 300) throw new Error(`device attempt: ${attempt.status}`);
      const token = await deviceToken(subject);
      const answers = await Promise.all(Array.from({ length: completes }, () =>
        request('POST', `${stack.api}/liveness-sessions/${sessionId}/complete`, { authorization: `Bearer ${token}` })));
      if (answers.some((a) => a.status !== 202)) throw new Error(`complete answered ${answers.map((a) => a.status).join(',')}`);
      await eventually(async () => {
        const r = await request('GET', `${stack.api}/liveness-sessions/${sessionId}`, { authorization: `Bearer ${backofficeToken}` });
        return ['ResultAvailable', 'Failed', 'Expired'].includes(String(json<{ status?: string }>(r)?.status)) || undefined;
      }, `a result for ${sessionId}`, { timeoutMs: 60_000, intervalMs: 20 });
    }
    // Every message (the losing completions' too) has been handled before the calls are read.
    await eventually(async () => ((await queue.getProperties()).approximateMessagesCount === 0) || undefined, 'an empty completion queue', { timeoutMs: 60_000 });
    const total = json<{ total: Record<string, number> }>(await request('GET', `${emulator.url}/emulator/calls`, key))!.total;
    const all = Object.values(total).reduce((a, b) => a + b, 0);
    return { perCheck: round(all / s.checks, 2), byOperation: Object.fromEntries(Object.entries(total).map(([k, v]) => [k, round(v / s.checks, 2)])) };
  };
  const normal = await run('normal', 1);
  const storm = await run('storm', s.stormCompletes);
  results.faceCalls = { settings: s, normal, storm };
  const describe = (r: typeof normal) => Object.entries(r.byOperation).map(([k, v]) => `${k} ${v}`).join(', ');
  rows.push({
    name: '7. Face calls per finished check (normal flow)',
    figure: `${normal.perCheck} (${describe(normal)}; n=${s.checks})`,
    target: '<= 4 (create, get, session image, delete)', verdict: normal.perCheck <= 4 ? 'pass' : 'miss',
  });
  rows.push({
    name: `7. Face calls per finished check (${s.stormCompletes} concurrent completes)`,
    figure: `${storm.perCheck} (${describe(storm)}; n=${s.checks})`,
    target: 'same as the normal flow', verdict: storm.perCheck <= normal.perCheck ? 'pass' : 'miss',
  });
}

// ---------------------------------------------------------------------------------------------------------------
// (2) Time to result

async function timeToResult(stack: Stack, image: Buffer): Promise<void> {
  const s = SETTINGS.timeToResult;
  await setFaceLatency(s.faceLatencyMs);
  const capture = fixture('face-astronaut.png');
  const form = createForm(image, 'bench-ttr-device');
  const subject = 'bench-ttr';
  const samples: number[] = [];
  const completeMs: number[] = [];
  const statuses: Record<string, number> = {};
  const windows: Array<{ from: number; to: number }> = [];
  const one = async (record: boolean, delay: boolean): Promise<void> => {
    const created = await expectCreated(stack, form, subject, 'time-to-result');
    const sessionId = String(created.body?.sessionId);
    const authToken = String(created.body?.authToken);
    const attempt = await performDeviceAttempt(emulator.url, authToken, capture);
    if (attempt.status >= 300) throw new Error(`device attempt: ${attempt.status} ${JSON.stringify(attempt.body)}`);
    // a real capture takes seconds, during which the completion queue is idle (its poller backs off)
    if (delay) await sleep(s.captureDelayMs[0]! + Math.random() * (s.captureDelayMs[1]! - s.captureDelayMs[0]!));
    const token = await deviceToken(subject);
    const wall0 = Date.now();
    const t0 = performance.now();
    const complete = await request('POST', `${stack.api}/liveness-sessions/${sessionId}/complete`, { authorization: `Bearer ${token}` });
    const tComplete = performance.now() - t0;
    if (complete.status !== 202) { noteError('complete', { status: complete.status, body: json(complete) }); throw new Error(`complete answered ${complete.status} ${complete.body.toString()}`); }
    const final = await eventually(async () => {
      const r = await request('GET', `${stack.api}/liveness-sessions/${sessionId}`, { authorization: `Bearer ${backofficeToken}` });
      const body = json<{ status?: string }>(r);
      if (r.status !== 200) { noteError('get', { status: r.status, body }); throw new GiveUp(`GET answered ${r.status} ${r.body.toString()}`); }
      if (!body?.status || !['ResultAvailable', 'Failed', 'Expired'].includes(body.status)) throw new Error(`status ${body?.status}`);
      return { status: body.status, ms: performance.now() - t0 };
    }, `a result for ${sessionId}`, { timeoutMs: 60_000, intervalMs: s.pollEveryMs });
    if (record) {
      samples.push(final.ms);
      completeMs.push(tComplete);
      statuses[final.status] = (statuses[final.status] ?? 0) + 1;
      windows.push({ from: wall0, to: Date.now() });
    }
  };
  for (let i = 0; i < s.warmup; i++) await one(false, false);
  for (let i = 0; i < s.samples; i++) await one(true, true);
  const t = summarize(samples);
  const pickups = queuePickups(stack.host.logs(), windows);
  const pickup = summarize(pickups.pickupMs);
  const execution = summarize(pickups.executionMs);
  results.timeToResult = {
    settings: s, ms: t, completeCallMs: summarize(completeMs), finalStatuses: statuses, rawMs: samples.map((v) => round(v, 1)),
    queuePickupMs: pickup, completionFunctionMs: execution, rawPickupMs: pickups.pickupMs,
  };
  rows.push({
    name: '2. time to result (complete -> GET shows result)',
    figure: `p50 ${t.p50} ms, p95 ${t.p95} ms (n=${t.n}; the complete call itself p50 ${summarize(completeMs).p50} ms)`,
    target: 'p50 <= 200 ms', verdict: t.p50 <= 200 ? 'pass' : 'miss',
  });
  rows.push({
    name: '2a. where the time goes (dev host log)',
    figure: `queue pickup after complete p50 ${pickup.p50} / p95 ${pickup.p95} ms (n=${pickup.n}); completion function runs p50 ${execution.p50} / p95 ${execution.p95} ms`,
    target: '-', verdict: 'info',
  });
  log(`time to result: ${JSON.stringify(t)} statuses ${JSON.stringify(statuses)} pickup ${JSON.stringify(pickup)} execution ${JSON.stringify(execution)}`);

  // CPU per collection: checks created and captured beforehand (not measured), then completed four at a time while
  // each process's CPU time is read; the bench waits for the decisions by reading the session rows from Azurite
  // itself (one at a time, every 20 ms), so no status polling lands on the dev host.
  const n = s.cpuCollections;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const created = await expectCreated(stack, form, subject, 'collection CPU');
    const attempt = await performDeviceAttempt(emulator.url, String(created.body?.authToken), capture);
    if (attempt.status >= 300) throw new Error(`device attempt: ${attempt.status} ${JSON.stringify(attempt.body)}`);
    ids.push(String(created.body?.sessionId));
  }
  const rowsOf = new TableSessionRepository(createStorageClients({ kind: 'connectionString', connectionString: stack.azurite.connectionString }), stack.prefix);
  const token = await deviceToken(subject);
  const pids = { azurite: stack.azurite.pid, devhost: stack.host.pid, emulator: emulator.pid };
  const { cpu, ms } = await withCpu(pids, async () => {
    await runPool(n, 4, async (i) => {
      const r = await request('POST', `${stack.api}/liveness-sessions/${ids[i]!}/complete`, { authorization: `Bearer ${token}` });
      if (r.status !== 202) throw new Error(`complete answered ${r.status}`);
    });
    for (const id of ids) {
      await eventually(async () => {
        const row = await rowsOf.get(id);
        if (!row || !['ResultAvailable', 'Failed', 'Expired'].includes(row.status)) throw new Error(`status ${row?.status}`);
        return true;
      }, `a result for ${id}`, { timeoutMs: 60_000, intervalMs: 20 });
    }
  });
  const perCollection = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v / 100) * ms / n, 2)]));
  (results.timeToResult as Record<string, unknown>).cpuMsPerCollection = { n, ms: round(ms, 1), cpuPercent: cpu, perCollection };
  rows.push({
    name: '2b. CPU ms per collection (complete -> decided), each process',
    figure: `dev host ${perCollection.devhost}, Azurite ${perCollection.azurite}, emulator ${perCollection.emulator}, bench ${perCollection.bench} (n=${n}, 4 at a time; the bench reads the rows from Azurite to see the decisions)`,
    target: '-', verdict: 'info',
  });
  log(`CPU per collection: ${JSON.stringify(perCollection)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// (5) Memory

interface PeakReading { baseline: number; peak: number; growth: number; hwmWasReset: boolean; rssAfter: number; ms: number }

/** Peak RSS of `pid` while `work` runs: VmHWM (reset first) and a 5 ms VmRSS poll, whichever is higher. */
async function measurePeak(pid: number | undefined, work: () => Promise<void>): Promise<PeakReading> {
  await sleep(500);
  const hwmWasReset = resetPeak(pid);
  const baseline = memory(pid).rss;
  let polled = baseline;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const m = memory(pid);
      if (m.rss > polled) polled = m.rss;
      await sleep(SETTINGS.memory.pollEveryMs);
    }
  })();
  const t0 = performance.now();
  try {
    await work();
  } finally {
    polling = false;
    await poller;
  }
  const after = memory(pid);
  const peak = Math.max(polled, hwmWasReset ? after.hwm : 0);
  return { baseline, peak, growth: peak - baseline, hwmWasReset, rssAfter: after.rss, ms: round(performance.now() - t0, 0) };
}

async function memoryUnderUploads(azurite: RunningAzurite): Promise<void> {
  const s = SETTINGS.memory;
  await setFaceLatency(s.faceLatencyMs);
  const big = padJpeg((await faceJpegNear(100 * 1024)).bytes, s.imageBytes);
  const form = createForm(big, 'bench-memory-device');
  const inFlight = s.concurrent * big.length;
  const mb = (b: number) => round(b / 1_048_576, 1);
  const statuses: Record<string, number> = {};
  const hostStatuses: Record<string, number> = {};
  // Node never gives freed heap back promptly, so every burst runs on its own fresh dev host (one warm-up create
  // of the same size first, so code paths are loaded): a second burst on the same host would reuse freed memory.
  const onFreshHost = async (label: string, burst: (stack: Stack) => Promise<void>): Promise<PeakReading> => {
    const stack = await startStack(azurite, label);
    try {
      await expectCreated(stack, form, 'bench-memory-0', 'memory warm-up');
      return await measurePeak(stack.host.pid, () => burst(stack));
    } finally {
      await stack.host.stop();
    }
  };
  const creates = async (stack: Stack) => {
    const answers = await Promise.all(Array.from({ length: s.concurrent }, (_, i) => apiCreate(stack, form, `bench-memory-${i}`)));
    for (const a of answers) {
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      if (a.status !== 201) noteError('memory', a);
    }
  };
  const readings: PeakReading[] = [];
  for (let k = 0; k < s.freshHosts; k++) readings.push(await onFreshHost(`M${k}`, creates));
  // Evidence: the host's share. The same 16 bodies to a route whose handler never reads the body (complete, for a
  // session that does not exist): what the dev host itself holds while it buffers the requests.
  const hostOnly = await onFreshHost('H', async (stack) => {
    const token = await deviceToken('bench-memory-0');
    const answers = await Promise.all(Array.from({ length: s.concurrent }, () => request('POST',
      `${stack.api}/liveness-sessions/00000000-0000-4000-8000-000000000000/complete`,
      { 'content-type': form.contentType, authorization: `Bearer ${token}` }, form.body)));
    for (const a of answers) hostStatuses[a.status] = (hostStatuses[a.status] ?? 0) + 1;
  });
  const growths = readings.map((r) => r.growth);
  const growth = median(growths);
  const ok = statuses['201'] === s.freshHosts * s.concurrent;
  results.memory = {
    settings: s, imageBytes: big.length, bytesInFlight: inFlight, statuses, medianGrowthBytes: growth,
    medianGrowthOverInFlight: round(growth / inFlight, 2),
    bursts: readings.map((r) => ({ ...r, growthOverInFlight: round(r.growth / inFlight, 2) })),
    hostOnlyBurst: { ...hostOnly, growthOverInFlight: round(hostOnly.growth / inFlight, 2), statuses: hostStatuses },
  };
  rows.push({
    name: '5. memory: dev host peak RSS growth, 16 x 6 MB creates',
    figure: `${mb(growth)} MB = ${round(growth / inFlight, 2)} x in flight (${mb(inFlight)} MB); median of ${s.freshHosts} fresh hosts: ${readings.map((r) => `${mb(r.baseline)}->${mb(r.peak)} MB`).join(', ')}; ${JSON.stringify(statuses)}`,
    target: '< 1.5 x bytes in flight, all 201', verdict: ok && growth < 1.5 * inFlight ? 'pass' : 'miss',
  });
  rows.push({
    name: '5a. memory: same bodies, handler ignores them',
    figure: `${mb(hostOnly.growth)} MB = ${round(hostOnly.growth / inFlight, 2)} x in flight (${mb(hostOnly.baseline)}->${mb(hostOnly.peak)} MB; ${JSON.stringify(hostStatuses)}): the dev host's own buffering`,
    target: '-', verdict: 'info',
  });
  log(`memory: ${JSON.stringify(results.memory)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// (3) Throughput

interface Segment { n: number; errors: number; ms: number; lat: number[]; cpu: Record<string, number>; statuses: Record<string, number> }

async function throughput(stack: Stack, image: Buffer): Promise<void> {
  const s = SETTINGS.throughput;
  await setFaceLatency(s.faceLatencyMs);
  const blobs = BlobServiceClient.fromConnectionString(stack.azurite.connectionString);
  const container = blobs.getContainerClient('benchceiling');
  await container.createIfNotExists();
  const table = TableClient.fromConnectionString(stack.azurite.connectionString, 'BenchCeiling', { allowInsecureConnection: true });
  await table.createTable();
  const forms = Array.from({ length: 32 }, (_, w) => createForm(image, `bench-tp-device-${w}`));
  for (let w = 0; w < 32; w++) await deviceToken(`bench-tp-${w}`);
  const pids = { azurite: stack.azurite.pid, devhost: stack.host.pid, emulator: emulator.pid };
  let blobsWritten = 0;

  const ceilingOp = async (): Promise<void> => {
    const id = randomUUID();
    await Promise.all([
      container.getBlockBlobClient(`verify-images/${id}.jpg`).uploadData(image, { blobHTTPHeaders: { blobContentType: 'image/jpeg' } }),
      table.createEntity(ceilingEntity(id)),
    ]);
  };
  const segment = async (kind: 'api' | 'ceiling', count: number, concurrency: number): Promise<Segment> => {
    const lat: number[] = [];
    const statuses: Record<string, number> = {};
    let errors = 0;
    const { cpu, ms } = await withCpu(pids, () => runPool(count, concurrency, async (_i, w) => {
      const t0 = performance.now();
      if (kind === 'api') {
        let r: CreateResult;
        try { r = await apiCreate(stack, forms[w]!, `bench-tp-${w}`); } catch (error) { r = { status: 0, ms: 0, body: { error: String(error) } }; }
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status !== 201) { errors++; noteError(`throughput c=${concurrency}`, r); } else blobsWritten++;
      } else {
        try { await ceilingOp(); blobsWritten++; statuses.ok = (statuses.ok ?? 0) + 1; } catch (error) { errors++; statuses.error = (statuses.error ?? 0) + 1; noteError('ceiling', { status: 0, body: String(error) }); }
      }
      lat.push(performance.now() - t0);
    }));
    return { n: count, errors, ms, lat, cpu, statuses };
  };
  const merge = (parts: Segment[]) => {
    const ms = parts.reduce((a, p) => a + p.ms, 0);
    const n = parts.reduce((a, p) => a + p.n, 0);
    const cpu: Record<string, number> = {};
    for (const k of Object.keys(parts[0]!.cpu)) cpu[k] = Math.round(parts.reduce((a, p) => a + p.cpu[k]! * p.ms, 0) / ms);
    const statuses: Record<string, number> = {};
    for (const p of parts) for (const [k, v] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    const lat = parts.flatMap((p) => p.lat);
    const cpuMsPerOp: Record<string, number> = {};
    for (const [k, v] of Object.entries(cpu)) cpuMsPerOp[k] = round((v / 100) * ms / n, 2);
    return { n, errors: parts.reduce((a, p) => a + p.errors, 0), seconds: round(ms / 1000, 2), perSecond: round(n / (ms / 1000), 1), latencyMs: summarize(lat), cpuPercent: cpu, cpuMsPerOp, statuses };
  };

  log('throughput: warm-up');
  await segment('api', s.warmup.creates, s.warmup.concurrency);
  await segment('ceiling', s.warmup.ceiling, s.warmup.concurrency);
  const levels: Array<Record<string, unknown>> = [];
  for (const level of s.levels) {
    const half = Math.floor(level.count / 2);
    const blobsBefore = blobsWritten;
    const c1 = await segment('ceiling', half, level.concurrency);
    const a1 = await segment('api', half, level.concurrency);
    const a2 = await segment('api', level.count - half, level.concurrency);
    const c2 = await segment('ceiling', level.count - half, level.concurrency);
    const api = merge([a1, a2]);
    const ceiling = merge([c1, c2]);
    const ratio = round(api.perSecond / ceiling.perSecond, 3);
    levels.push({ concurrency: level.concurrency, blobsStoredBefore: blobsBefore, blobsStoredAfter: blobsWritten, api, ceiling, ratio });
    rows.push({
      name: `3. throughput c=${level.concurrency} (API creates/s vs blob+insert ceiling/s)`,
      figure: `${api.perSecond}/s vs ${ceiling.perSecond}/s = ${ratio}; errors ${api.errors}+${ceiling.errors}; API p50 ${api.latencyMs.p50} p95 ${api.latencyMs.p95} ms; CPU % azurite/host/emulator/bench ${api.cpuPercent.azurite}/${api.cpuPercent.devhost}/${api.cpuPercent.emulator}/${api.cpuPercent.bench} (ceiling ${ceiling.cpuPercent.azurite}/-/-/${ceiling.cpuPercent.bench}); Azurite CPU ms per op ${api.cpuMsPerOp.azurite} vs ${ceiling.cpuMsPerOp.azurite}`,
      target: '>= 0.5 of ceiling, 0 errors', verdict: ratio >= 0.5 && api.errors === 0 && ceiling.errors === 0 ? 'pass' : 'miss',
    });
    log(`throughput c=${level.concurrency}: API ${JSON.stringify(api)} ceiling ${JSON.stringify(ceiling)} ratio ${ratio}`);
  }
  const single = levels.find((l) => l.concurrency === 1)?.api as { cpuMsPerOp: Record<string, number> } | undefined;
  if (single) {
    const c = single.cpuMsPerOp;
    rows.push({
      name: '3b. CPU ms per create at c=1, each process',
      figure: `dev host ${c.devhost}, Azurite ${c.azurite}, emulator ${c.emulator}, bench ${c.bench} (the ceiling's Azurite: ${(levels[0]!.ceiling as { cpuMsPerOp: Record<string, number> }).cpuMsPerOp.azurite} per blob+insert)`,
      target: 'dev host <= 8 ms', verdict: c.devhost! <= 8 ? 'pass' : 'miss',
    });
  }
  const stored = await countBlobs(blobs);
  results.throughput = { settings: s, imageBytes: image.length, levels, blobsWrittenByBench: blobsWritten, blobsStoredAtEnd: stored };
  rows.push({ name: '3. throughput: blobs stored in Azurite at the end', figure: `${stored.total} (${JSON.stringify(stored.byContainer)})`, target: '<= 5,000 creates', verdict: stored.total <= 5_000 ? 'info' : 'miss' });
}

function ceilingEntity(id: string) {
  const now = new Date();
  return {
    // Best case for Azurite: one partition per insert (the app's session rows share a partition per second).
    partitionKey: id, rowKey: 'session', createdDateTime: now.toISOString(), authTokenTimeToLiveInSeconds: 600,
    authTokenExpiresDateTime: new Date(now.getTime() + 600_000).toISOString(), livenessOperationMode: 'Passive',
    deviceCorrelationId: 'bench-ceiling', enableSessionImage: false, status: 'NotStarted',
    verifyImageJson: '{"qualityForRecognition":"high"}', storedVerifyImageJson: `{"blobName":"verify-images/${id}.jpg"}`,
    faceSessionDeleted: false, imagesDeleted: false,
  };
}

async function countBlobs(blobs: BlobServiceClient): Promise<{ total: number; byContainer: Record<string, number> }> {
  const byContainer: Record<string, number> = {};
  let total = 0;
  for await (const c of blobs.listContainers()) {
    let n = 0;
    const container: ContainerClient = blobs.getContainerClient(c.name);
    for await (const page of container.listBlobsFlat().byPage({ maxPageSize: 5000 })) n += page.segment.blobItems.length;
    byContainer[c.name] = n;
    total += n;
  }
  return { total, byContainer };
}

// ---------------------------------------------------------------------------------------------------------------
// (4) Sweep scaling

async function sweepScaling(azurite: RunningAzurite): Promise<void> {
  const s = SETTINGS.sweep;
  await setFaceLatency(s.faceLatencyMs);
  installRecorder({ blob: azurite.ports.blob, queue: azurite.ports.queue, table: azurite.ports.table, face: Number(new URL(emulator.url).port) });
  const env = {
    connectionString: azurite.connectionString, faceEndpoint: emulator.url, faceKey: SETTINGS.faceKey,
    extraEnv: { DEVICE_AUTH_ISSUER: issuer.issuer, DEVICE_AUTH_AUDIENCE: DEVICE_AUDIENCE, AUTH_ATTEMPT_LIMITS_ENABLED: 'false' },
  };
  const tag = randomUUID().replace(/-/g, '').slice(0, 6);
  const zeroPrefix = `SweepZero${tag}`;
  const livePrefix = `SweepLive${tag}`;
  const now = Date.now();
  log('sweep: seeding 0 live + 2 x 1,000 expired');
  const { expiredIds: zeroIds, ...seedZero } = await seed(azurite.connectionString, { prefix: zeroPrefix, live: 0, expired: s.expired, expiredGroups: 2, now });
  log(`sweep: seeded ${JSON.stringify(seedZero)}`);
  log(`sweep: seeding ${s.live.toLocaleString('en')} live + 2 x 1,000 expired`);
  const { expiredIds: liveIds, ...seedLive } = await seed(azurite.connectionString, { prefix: livePrefix, live: s.live, expired: s.expired, expiredGroups: 2, now });
  log(`sweep: seeded ${JSON.stringify(seedLive)}`);
  // Warm-up: a sweep on a third prefix with a few expired sessions (JIT, connections, the Face 404 path), then a
  // no-op sweep on each measured prefix (clock before every due time).
  const warmPrefix = `SweepWarm${tag}`;
  await seed(azurite.connectionString, { prefix: warmPrefix, live: 0, expired: s.warmupExpired, now });
  const warm = await measureSweep(env, warmPrefix, 0, s.warmupExpired);
  log(`sweep warm-up (${s.warmupExpired} expired): ${warm.ms} ms`);
  await warmSweep(env, zeroPrefix, now);
  await warmSweep(env, livePrefix, now);
  // Two sweeps per prefix, ABBA: the first with the clock 85 min back (only group 0 is due), the second at the real
  // time (group 1; group 0 now waits for record retention). Each sweep finds exactly 1,000 due sessions.
  const past = () => new Date(now - 85 * 60_000);
  const cpuPerSession: Record<string, Array<Record<string, number>>> = { zeroLive: [], hundredKLive: [] };
  const timedSweep = async (which: 'zeroLive' | 'hundredKLive', prefix: string, liveCount: number, clock?: () => Date): Promise<SweepRun> => {
    const { value, cpu, ms } = await withCpu({ azurite: azurite.pid, emulator: emulator.pid }, () => measureSweep(env, prefix, liveCount, s.expired, clock));
    // CPU-ms per due session of each process over the whole call (the due-query timing included)
    cpuPerSession[which]!.push(Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v / 100) * ms / Math.max(1, Number(value.report.due ?? 0)), 2)])));
    return value;
  };
  const z1 = await timedSweep('zeroLive', zeroPrefix, 0, past);
  log(`sweep (0 live) #1: ${z1.ms} ms ${JSON.stringify(z1.report)} calls ${z1.calls.total}`);
  const l1 = await timedSweep('hundredKLive', livePrefix, s.live, past);
  log(`sweep (100k live) #1: ${l1.ms} ms ${JSON.stringify(l1.report)} calls ${l1.calls.total}`);
  const l2 = await timedSweep('hundredKLive', livePrefix, s.live);
  log(`sweep (100k live) #2: ${l2.ms} ms ${JSON.stringify(l2.report)} calls ${l2.calls.total}`);
  const z2 = await timedSweep('zeroLive', zeroPrefix, 0);
  log(`sweep (0 live) #2: ${z2.ms} ms ${JSON.stringify(z2.report)} calls ${z2.calls.total}`);
  const zero: SweepRun = z2;
  const live: SweepRun = l2;
  const zeroMs = round((z1.ms + z2.ms) / 2, 1);
  const liveMs = round((l1.ms + l2.ms) / 2, 1);
  // Evidence: Azurite's cost per keyed point operation in each sessions table (1k rows vs 101k rows).
  const pointZero = await pointOpCost(azurite.connectionString, zeroPrefix, zeroIds.slice(0, 300));
  const pointLive = await pointOpCost(azurite.connectionString, livePrefix, liveIds.slice(0, 300));
  log(`point get+merge: ${JSON.stringify(pointZero)} (2k rows) vs ${JSON.stringify(pointLive)} (102k rows)`);
  const ratio = round(liveMs / zeroMs, 3);
  // Key-range check: every table query the sweep sent (on the wire, all tables) names only PartitionKey/RowKey.
  const keyOnly = (f: string) => /PartitionKey/.test(f) && f.replace(/'[^']*'/g, "''").replace(/\b(PartitionKey|RowKey|and|or|lt|le|gt|ge|eq|not)\b/g, '').replace(/[()'\s]/g, '') === '';
  const wire = [...live.wireFilters, ...zero.wireFilters];
  const allKeyRange = wire.length > 0 && wire.every((f) => keyOnly(f.filter));
  const nonKey = wire.filter((f) => !keyOnly(f.filter));
  const dueIndexQueried = live.filters.some((f) => /SweepSchedule/i.test(f.table));
  results.sweep = {
    settings: s, seed: [seedZero, seedLive], sweepsMs: { zeroLive: [z1.ms, z2.ms], hundredKLive: [l1.ms, l2.ms] }, zeroLive: zero, hundredKLive: live,
    zeroLiveFirst: z1, hundredKLiveFirst: l1, ratio, cpuMsPerDueSession: cpuPerSession, pointOpsMs: { zeroLiveTables: pointZero, hundredKLiveTables: pointLive }, wireFiltersKeyRangeOnly: allKeyRange, nonKeyFiltersOnWire: nonKey };
  const processed = (r: SweepRun) => Number(r.report.due ?? 0);
  rows.push({
    name: '4. sweep time, 100k live / 0 live (1,000 expired each)',
    figure: `${ratio} (mean ${liveMs} ms [${l1.ms}, ${l2.ms}] / ${zeroMs} ms [${z1.ms}, ${z2.ms}]; due ${processed(l1)}+${processed(l2)} / ${processed(z1)}+${processed(z2)}; failures ${Number(l1.report.failures) + Number(l2.report.failures)}/${Number(z1.report.failures) + Number(z2.report.failures)})`,
    target: '<= 1.2', verdict: ratio <= 1.2 ? 'pass' : 'miss',
  });
  rows.push({
    name: '4a. Azurite cost that grows with table size',
    figure: `100k vs 0 live: due query alone (10 pages) ${live.dueQueryMs} vs ${zero.dueQueryMs} ms; sequential keyed ops p50: session get+merge ${pointLive.sessionGetMerge.p50} vs ${pointZero.sessionGetMerge.p50} ms, sweep-index upsert+delete ${pointLive.sweepIndexUpsertDelete.p50} vs ${pointZero.sweepIndexUpsertDelete.p50} ms; Azurite CPU per due session ${cpuPerSession.hundredKLive!.map((c) => c.azurite).join('/')} vs ${cpuPerSession.zeroLive!.map((c) => c.azurite).join('/')} ms, bench (app code) ${cpuPerSession.hundredKLive!.map((c) => c.bench).join('/')} vs ${cpuPerSession.zeroLive!.map((c) => c.bench).join('/')} ms`,
    target: '-', verdict: 'info',
  });
  rows.push({
    name: '4. sweep storage calls (100k live / 0 live)',
    figure: `${l1.calls.total}, ${l2.calls.total} / ${z1.calls.total}, ${z2.calls.total} (${live.calls.perDueSession} / ${zero.calls.perDueSession} per due session: ${Object.entries(live.calls.byOperation).filter(([k]) => !k.startsWith('face')).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    target: 'same in both', verdict: [l1, l2].every((l) => Math.abs(l.calls.total - z1.calls.total) <= Math.max(2, z1.calls.total * 0.02)) ? 'pass' : 'miss',
  });
  for (const f of live.wireFilters) {
    rows.push({
      name: `4. sweep query on ${f.table} (x${f.count})`,
      figure: f.filter,
      target: 'key range', verdict: keyOnly(f.filter) ? 'pass' : 'miss',
    });
  }
  if (!dueIndexQueried || !allKeyRange) {
    rows.push({ name: '4. sweep filters', figure: dueIndexQueried ? 'some queries are not key ranges' : 'the sweep index was not queried', target: 'key ranges', verdict: 'miss' });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (7) Erasure scaling (bench/erasure.ts)

async function erasure(azurite: RunningAzurite, image: Uint8Array): Promise<void> {
  await setFaceLatency(0);
  installRecorder({ blob: azurite.ports.blob, queue: azurite.ports.queue, table: azurite.ports.table, face: Number(new URL(emulator.url).port) });
  const tag = randomUUID().replace(/-/g, '').slice(0, 6);
  const env = {
    connectionString: azurite.connectionString, faceEndpoint: emulator.url, faceKey: SETTINGS.faceKey,
    extraEnv: { DEVICE_AUTH_ISSUER: issuer.issuer, DEVICE_AUTH_AUDIENCE: DEVICE_AUDIENCE },
  };
  const { runs, seeded } = await erasureScaling(env, { zero: `EraseZero${tag}`, hundredK: `EraseLive${tag}` }, SETTINGS.sweep.live, image, log);
  results.erasure = { seeded, runs };
  for (const n of [...new Set(runs.map((r) => r.sessions))]) {
    const [zero, live] = [runs.find((r) => r.sessions === n && r.others === 0)!, runs.find((r) => r.sessions === n && r.others > 0)!];
    rows.push({
      name: `8. erasure storage calls, ${n} session(s): 100k others / 0 others`,
      figure: `${live.calls} / ${zero.calls} (${live.ms} / ${zero.ms} ms)`,
      target: 'same in both', verdict: live.calls === zero.calls ? 'pass' : 'miss',
    });
  }
  const per = (n: number) => runs.find((r) => r.sessions === n && r.others === 0)!.calls;
  const perSession = round((per(20) - per(5)) / 15, 2);
  rows.push({
    name: '8. erasure storage calls per extra session (20 vs 5 sessions)',
    figure: `${perSession} (1: ${per(1)}, 5: ${per(5)}, 20: ${per(20)} calls)`,
    target: 'linear in the subject\'s data', verdict: round((per(5) - per(1)) / 4, 2) === perSession ? 'pass' : 'miss',
  });
  const queries = runs.flatMap((r) => r.queries);
  const keyed = queries.every((q) => /^PartitionKey eq '[^']+'( and RowKey (ge|lt) '[^']*')*$/.test(q.filter));
  rows.push({ name: '8. erasure table queries', figure: [...new Set(queries.map((q) => `${q.table}: ${q.filter.replace(/'[0-9a-f]{64}'/g, "'<subjectKey>'").replace(/'[0-9a-f]{8}-[0-9a-f-]{27}'/g, "'<sessionId>'")}`))].join('; ') || 'none recorded', target: 'one partition each', verdict: keyed ? 'pass' : 'miss' });
}

// ---------------------------------------------------------------------------------------------------------------
// (9) The evidence log's cost (bench/evidence.ts)

async function evidence(azurite: RunningAzurite): Promise<void> {
  installRecorder({ blob: azurite.ports.blob, queue: azurite.ports.queue, table: azurite.ports.table, face: Number(new URL(emulator.url).port) });
  const tag = randomUUID().replace(/-/g, '').slice(0, 6);
  const env = {
    connectionString: azurite.connectionString, faceEndpoint: emulator.url, faceKey: SETTINGS.faceKey,
    extraEnv: { DEVICE_AUTH_ISSUER: issuer.issuer, DEVICE_AUTH_AUDIENCE: DEVICE_AUDIENCE, EVIDENCE_LOCAL_KEY_DIR: path.join(os.tmpdir(), `bench-evidence-${tag}`) },
  };
  const r = await evidenceCost(env, { zero: `EvZero${tag}`, hundredK: `EvLive${tag}` }, SETTINGS.sweep.live, log);
  results.evidence = r;
  rows.push({ name: '9. storage calls per evidence record', figure: `${r.appendCalls} (${r.appendOps})`, target: '-', verdict: 'info' });
  rows.push({
    name: '9. storage calls added per decision / per create / per erasure',
    figure: `${r.appendCalls + 1} (record + the session write clearing the evidence outbox), ${r.appendCalls} more for the create's consent record it carries / 0 (the consent record waits in the row's outbox) / ${r.appendCalls + r.erasureExtraCalls} + 2 per delivered event (record; ${r.erasureExtraOps})`,
    target: '-', verdict: 'info',
  });
  const [zero, live] = [r.runs.find((x) => x.records === 0)!, r.runs.find((x) => x.records > 0)!];
  rows.push({
    name: '9. checkpoint: 100k records outside the window / 0',
    figure: `${live.checkpointCalls} / ${zero.checkpointCalls} calls (${live.checkpointMs} / ${zero.checkpointMs} ms; ${zero.checkpointOps})`,
    target: 'same calls in both', verdict: live.checkpointCalls === zero.checkpointCalls ? 'pass' : 'miss',
  });
  rows.push({
    name: '9. export of the window: 100k records outside it / 0',
    figure: `${live.exportCalls} / ${zero.exportCalls} calls (${live.exportRecords} / ${zero.exportRecords} records)`,
    target: 'same calls in both', verdict: live.exportCalls === zero.exportCalls ? 'pass' : 'miss',
  });
}

// ---------------------------------------------------------------------------------------------------------------
// (6) Cold start

async function coldStart(): Promise<void> {
  const s = SETTINGS.coldStart;
  // What the host loads when it indexes the functions: the files package.json "main" names (the bundle that
  // scripts/bundle-app.ts makes of dist/src/index.js and dist/src/functions/*.js).
  const { files } = resolveEntryPoints(REPO_ROOT);
  const urls = files.map((f) => pathToFileURL(f).href);
  // One child process per run, timing the imports one after the other, like the worker. The baseline is a bare
  // `@azure/functions` import (what any v4 app pays), measured in the same run, alternating with the app's, so both
  // see the same machine.
  const runs: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < s.runs + s.discardFirst; i++) {
    const app = await timeImports(urls);
    const lib = await timeImports(['@azure/functions']);
    if (i >= s.discardFirst) { runs.push(app); bare.push(lib); }
  }
  const med = round(median(runs), 1);
  const bareMed = round(median(bare), 1);
  const ratio = round(med / bareMed, 2);
  results.coldStart = {
    settings: s, modules: files.map((f) => path.relative(REPO_ROOT, f)), runsMs: runs.map((r) => round(r, 1)), medianMs: med,
    bareFunctionsImportMs: bare.map((r) => round(r, 1)), bareFunctionsMedianMs: bareMed, ratioToBare: ratio,
  };
  const deps = ['@azure/functions', '@azure/identity', '@azure/storage-blob', '@azure/storage-queue', '@azure/data-tables',
    '@azure-rest/ai-vision-face', 'jose', 'zod', 'file-type', pathToFileURL(path.join(REPO_ROOT, 'dist/src/composition.js')).href];
  const costs = await importCosts(deps, 3);
  (results.coldStart as Record<string, unknown>).isolatedImportMs = costs;
  rows.push({
    name: '6. cold start: import the app as the host indexes it (median of 5)',
    figure: `${med} ms (runs ${runs.map((r) => round(r, 0)).join(', ')}); a bare @azure/functions import ${bareMed} ms: ${ratio}x`,
    target: '<= 200 ms and <= 2x', verdict: med <= 200 && ratio <= 2 ? 'pass' : 'miss',
  });
  rows.push({
    name: '6a. import cost of each dependency alone (median of 3)',
    figure: Object.entries(costs).map(([k, v]) => `${k.startsWith('file:') ? 'dist/src/composition.js (all adapters)' : k} ${Math.round(v)}`).join(', '),
    target: '-', verdict: 'info',
  });
  log(`cold start: ${JSON.stringify(results.coldStart)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// (10) Scale-out (bench/scale-out.ts)

async function scaleOutSection(stack: Stack): Promise<void> {
  const s = SETTINGS.scaleOut;
  await setFaceLatency(s.faceLatencyMs);
  const { bytes: image } = await faceJpegNear(SETTINGS.verifyImageTargetBytes);
  const r = await scaleOut({
    settings: s, emulator, azuritePid: stack.azurite.pid, form: createForm(image, 'bench-scale-out'), capture: fixture('face-astronaut.png'),
    deviceToken, log, startHost: () => startDevHost({ env: stack.env, counters: [/\/error\]|\(Failed,/] }),
  }, stack.host);
  results.scaleOut = { settings: s, ...r, devHostFailedInvocations: stack.host.count(/\/error\]|\(Failed,/) };
  const cpu = (seg: typeof r.one) => Object.entries(seg.cpuMsPerCheck).map(([k, v]) => `${k} ${v}`).join(', ');
  rows.push({
    name: '10. scale-out: whole checks/s, 1 vs 3 dev hosts (c=8, same Azurite)',
    figure: `${r.one.checksPerSecond}/s vs ${r.three.checksPerSecond}/s = ${r.ratio}; errors ${r.one.errors}+${r.three.errors}; time to result p50 ${r.one.timeToResultMs.p50} vs ${r.three.timeToResultMs.p50} ms; CPU ms per check: 1 host (${cpu(r.one)}); 3 hosts (${cpu(r.three)})`,
    target: '0 errors', verdict: r.one.errors + r.three.errors === 0 ? 'info' : 'miss',
  });
}

// ---------------------------------------------------------------------------------------------------------------

/** BENCH_ONLY=1,2 runs only those sections (for working on the bench; a full run is the default). */
const ONLY = process.env.BENCH_ONLY?.split(',').map((x) => x.trim()).filter(Boolean);
const wanted = (...ids: string[]): boolean => !ONLY || ids.some((id) => ONLY.includes(id));

async function section(name: string, work: () => Promise<void>): Promise<void> {
  if (!wanted(name.split('.')[0]!)) return;
  const t0 = Date.now();
  const before = cpuSnapshot();
  log(`== ${name}`);
  try {
    await work();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    rows.push({ name, figure: `ERROR: ${message.split('\n')[0]!.slice(0, 300)}`, target: '-', verdict: 'error' });
    const errors = (results.errors ??= []) as unknown[];
    errors.push({ section: name, message: message.slice(0, 4000) });
    log(`!! ${name} failed: ${message.slice(0, 2000)}`);
  }
  const foreign = foreignCpu(before, Date.now() - t0);
  const sections = (results.sections ??= {}) as Record<string, unknown>;
  sections[name] = { seconds: round((Date.now() - t0) / 1000, 1), loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)), otherProcessesCpuPercent: foreign.percent, otherProcessesTop: foreign.top };
  log(`== ${name} took ${round((Date.now() - t0) / 1000, 1)} s; other processes on the machine used ${foreign.percent}% CPU meanwhile${foreign.top.length ? ` (${foreign.top.map((t) => `${t.name} ${t.percent}%`).join(', ')})` : ''}`);
}

function printTable(): string {
  const widths = [Math.max(4, ...rows.map((r) => r.name.length)), Math.max(6, ...rows.map((r) => r.figure.length)), Math.max(6, ...rows.map((r) => r.target.length)), 7];
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [
    line(['name', 'figure', 'target', 'verdict']),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => line([r.name, r.figure, r.target, r.verdict])),
  ].join('\n');
  process.stdout.write(`\n${out}\n`);
  return out;
}

async function main(): Promise<void> {
  const started = Date.now();
  const cpus = os.cpus();
  const machine = {
    cores: cpus.length, cpuModel: cpus[0]?.model, node: process.version, platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemoryGB: round(os.totalmem() / 1024 ** 3, 1), loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
  };
  results.startedAt = new Date(started).toISOString();
  results.machine = machine;
  results.settings = SETTINGS;
  log(`machine: ${JSON.stringify(machine)}`);
  log(`settings: ${JSON.stringify(SETTINGS)}`);

  const { bytes: image, quality } = await faceJpegNear(SETTINGS.verifyImageTargetBytes);
  results.verifyImage = { source: 'test/fixtures/images/face-grace-hopper.jpg', format: 'jpeg 512x512', quality, bytes: image.length };
  log(`verify image: ${image.length} bytes (JPEG q${quality} of the Grace Hopper fixture)`);

  issuer = await startDevIssuer({ port: await freePort() });
  backofficeToken = await issuer.issueToken({ sub: 'bench-backoffice', aud: BACKOFFICE_AUDIENCE, roles: [BACKOFFICE_ROLE], expiresIn: 4 * 3600 });
  // Scripted decisions: the bench measures the app's costs, not the emulator's face matching (bench:faces does that).
  emulator = await startFaceEmulatorProcess({ apiKey: SETTINGS.faceKey, engine: SETTINGS.faceEngine, env: { FACE_EMULATOR_DECISIONS: 'scripted' } });
  log(`issuer ${issuer.issuer}, Face emulator ${emulator.url} (engine ${SETTINGS.faceEngine})`);

  // Phase A: one Azurite + dev host for (1), (2), (5) and (7).
  let azurite = await freshAzurite();
  results.azuriteArgs = azurite.args;
  log(`Azurite flags: ${azurite.args.join(' ')}`);
  let stack: Stack | undefined;
  if (wanted('1', '2', '5', '7')) try {
    stack = await startStack(azurite, 'A');
    log(`dev host ${stack.host.url} (prefix ${stack.prefix})`);
    await section('1. create overhead', () => createOverhead(stack!, image));
    await section('2. time to result', () => timeToResult(stack!, image));
    await section('5. memory', () => memoryUnderUploads(azurite));
    await section('7. Face calls per check', () => faceCallsPerCheck(stack!, image));
    results.devHostAFailedInvocations = stack.host.count(/\/error\]|\(Failed,/);
  } finally {
    await stack?.host.stop();
  }
  await azurite.stop();

  // Phase B: a fresh Azurite for throughput (blob PUTs slow down as blobs accumulate).
  stack = undefined;
  if (wanted('3')) try {
    azurite = await freshAzurite();
    stack = await startStack(azurite, 'B');
    log(`dev host ${stack.host.url} on a fresh Azurite (prefix ${stack.prefix})`);
    await section('3. throughput', () => throughput(stack!, image));
    results.devHostBFailedInvocations = stack.host.count(/\/error\]|\(Failed,/);
  } finally {
    await stack?.host.stop();
    await azurite.stop();
  }

  // Phase C: a fresh Azurite for the sweep (in-process).
  if (wanted('4')) try {
    azurite = await freshAzurite();
    await section('4. sweep scaling', () => sweepScaling(azurite));
  } finally {
    await azurite.stop();
  }

  // Phase D: a fresh Azurite for erasure scaling (in-process).
  if (wanted('8')) try {
    azurite = await freshAzurite();
    await section('8. erasure scaling', () => erasure(azurite, image));
  } finally {
    await azurite.stop();
  }

  // Phase E: a fresh Azurite for the evidence log (in-process).
  if (wanted('9')) try {
    azurite = await freshAzurite();
    await section('9. evidence log', () => evidence(azurite));
  } finally {
    await azurite.stop();
  }

  // Phase F: a fresh Azurite for scale-out (one dev host, then three, then one).
  stack = undefined;
  if (wanted('10')) try {
    azurite = await freshAzurite();
    stack = await startStack(azurite, 'F');
    await section('10. scale-out', () => scaleOutSection(stack!));
  } finally {
    await stack?.host.stop();
    await azurite.stop();
  }

  await section('6. cold start', () => coldStart());

  results.errorSamples = errorSamples;
  results.durationSeconds = round((Date.now() - started) / 1000, 1);
  results.rows = rows;
  const table = printTable();
  results.table = table;
  const out = path.join(REPO_ROOT, 'bench/results/latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  log(`machine: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}; Azurite: ${(results.azuriteArgs as string[]).join(' ')}`);
  if (errorSamples.length) log(`error samples:\n  ${errorSamples.join('\n  ')}`);
  log(`wrote ${path.relative(REPO_ROOT, out)}; total ${results.durationSeconds as number} s`);
}

let exitCode = 0;
process.on('SIGINT', () => { killAllNow(); process.exit(130); });
process.on('SIGTERM', () => { killAllNow(); process.exit(143); });
try {
  await main();
} catch (error) {
  exitCode = 1;
  log(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
} finally {
  await stopAll();
  await (issuer as RunningDevIssuer | undefined)?.close().catch(() => undefined);
  closeAgent();
}
process.exit(exitCode);
