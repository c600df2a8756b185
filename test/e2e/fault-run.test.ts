// Fault runs. A: the Face emulator fails 20 % of its calls (plus dropped sockets) while devices run whole flows:
// every created session must end in a result or an explicit failure state, and once the sessions are past expiry and
// the sweep has run, nothing may be left at Face or in Blob storage. B: storage fails 20 % of its requests (through a
// fault proxy in front of Azurite) and the host is killed in the middle of a batch; after a restart and the sweep,
// again no orphan Face session or blob.
//
// Both runs use a private Face emulator, so the faults never reach the suites that share the global one.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectionStringFor } from '../../dev/azurite.js';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';
import { DEVICE_AUDIENCE, BACKOFFICE_AUDIENCE } from '../../dev/oidc-issuer/issuer.js';
import { createStorageClients } from '../../src/adapters/storage/clients.js';
import { tableNames } from '../../src/adapters/storage/table-names.js';
import { sweepIndexKey, TableSessionRepository } from '../../src/adapters/storage/table-session-repository.js';
import type { LivenessSession } from '../../src/core/session.js';
import { eventually } from '../../dev/eventually.js';
import { spawnDevHost, type RunningDevHost } from '../support/dev-host.js';
import { deviceToken, emulator, fixture, startForm } from '../support/liveness.js';
import { seededRandom, useTestSeed } from '../support/seed.js';
import { azuritePorts, startStorageFaultProxy, type StorageFaultProxy } from '../support/storage-fault-proxy.js';

const face = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
const FACE_KEY = 'fault-run-key';
const FINAL = new Set(['ResultAvailable', 'Failed', 'Expired']);

// Client jitter, the kill point and the storage faults come from TEST_SEED (printed on failure). Which requests overlap
// still depends on scheduling, so a seed replays the same choices, not necessarily the same interleaving.
const SEED = useTestSeed(import.meta.url);
const random = seededRandom(SEED);

let privateFace: RunningFaceEmulator;
const control = () => ({ faceEndpoint: privateFace.url, faceKey: FACE_KEY });

beforeAll(async () => { privateFace = await startFaceEmulator({ port: 0, apiKey: FACE_KEY }); });
afterAll(async () => { await privateFace?.close(); });

// ---------------------------------------------------------------------------------------------------------------
// One app instance (dev host) over a storage prefix; restartable on the same prefix.
interface App {
  prefix: string;
  host: RunningDevHost;
  api: string;
  /** Direct (fault-free) storage access for assertions. */
  repository: TableSessionRepository;
  clients: ReturnType<typeof createStorageClients>;
  logs: string[];
  start(storage: string): Promise<void>;
}

function appEnv(prefix: string, storage: string): Record<string, string> {
  return {
    AzureWebJobsStorage: storage,
    FACE_ENDPOINT: privateFace.url,
    FACE_API_KEY: FACE_KEY,
    LIVENESS_STORAGE_PREFIX: prefix,
    LIVENESS_COMPLETION_QUEUE: `${prefix.toLowerCase()}-completions`,
    LIVENESS_SWEEP_SCHEDULE: '0 0 0 1 1 *', // fired through the admin endpoint only
    LIVENESS_COLLECT_BACKOFF_SECONDS: '0.2',
    LIVENESS_COLLECT_MAX_TRIES: '5',
    FACE_MAX_RETRIES: '2',
    FACE_RETRY_BUDGET_MS: '2000',
    FACE_TIMEOUT_MS: '5000',
    LIVENESS_AUTH_TOKEN_TTL_SECONDS: '60',
    LIVENESS_ABANDONED_CREATE_SECONDS: '60',
    // Fault runs must not lock devices out: a failed liveness check is not what is being tested.
    AUTH_ATTEMPT_LIMITS_ENABLED: 'false',
    // The flows ask for a session image on every other create; with the setting off, either choice is allowed.
    LIVENESS_ENABLE_SESSION_IMAGE: 'false',
    DEVICE_AUTH_ISSUER: inject('issuerUrl'),
    DEVICE_AUTH_AUDIENCE: DEVICE_AUDIENCE,
    BACKOFFICE_AUTH_ISSUER: inject('issuerUrl'),
    BACKOFFICE_AUTH_AUDIENCE: BACKOFFICE_AUDIENCE,
  };
}

function newApp(): App {
  const prefix = `F${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const clients = createStorageClients({ kind: 'connectionString', connectionString: inject('storageConnectionString') });
  const app: App = {
    prefix,
    host: undefined as unknown as RunningDevHost,
    api: '',
    repository: new TableSessionRepository(clients, prefix),
    clients,
    logs: [],
    async start(storage: string) {
      app.host = await spawnDevHost({ env: appEnv(prefix, storage) });
      app.api = `${app.host.url}/api`;
    },
  };
  return app;
}

/** A device's pause between retries (its own behaviour, not a wait for the app). */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// A device's flow, retrying like a phone app would.
interface Flow {
  device: string;
  enableSessionImage: boolean;
  createAttempts: number;
  createOutcome?: 'created' | 'gave-up' | 'in-flight-at-kill';
  sessionId?: string;
  authToken?: string;
  token?: string;
  attemptStatus?: number;
  deviceAttempts: number;
  completeStatus?: number;
  completeAttempts: number;
  statuses: number[];
  /** Status and error code of every create answer, e.g. "503 StorageUnavailable". */
  answers: string[];
}

async function runFlow(app: App, flow: Flow, opts: { maxCreateTries: number; killed?: () => boolean }): Promise<void> {
  flow.token = await deviceToken();
  const key = randomUUID();
  for (let i = 0; i < opts.maxCreateTries && !flow.sessionId; i++) {
    flow.createAttempts++;
    flow.createOutcome = 'in-flight-at-kill';
    let status: number;
    let body: Record<string, unknown> = {};
    try {
      const res = await fetch(`${app.api}/liveness-sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${flow.token}`, 'idempotency-key': key },
        body: startForm(face, { deviceCorrelationId: flow.device, enableSessionImage: String(flow.enableSessionImage) }),
      });
      status = res.status;
      body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    } catch {
      if (opts.killed?.()) return; // the host died under this request: its outcome is unknown to the device
      status = 0;
    }
    flow.statuses.push(status);
    flow.answers.push(`${status} ${(body.error as { code?: string } | undefined)?.code ?? ''}`.trim());
    if (status === 201) {
      flow.sessionId = body.sessionId as string;
      flow.authToken = body.authToken as string;
      flow.createOutcome = 'created';
    } else if (status === 503 || status === 409 || status === 0) {
      flow.createOutcome = 'gave-up';
      await sleep(200 + random() * 300);
    } else {
      flow.createOutcome = 'gave-up';
      throw new Error(`create answered ${status} ${JSON.stringify(body)}`);
    }
  }
  if (!flow.sessionId) return;

  for (let i = 0; i < 5; i++) {
    flow.deviceAttempts++;
    try {
      const attempt = await performDeviceAttempt(privateFace.url, flow.authToken!, capture);
      flow.attemptStatus = attempt.status;
      if (attempt.status < 300 || attempt.status === 403 || attempt.status === 401) break;
    } catch {
      flow.attemptStatus = 0; // dropped socket
    }
    await sleep(100);
  }

  for (let i = 0; i < 5; i++) {
    flow.completeAttempts++;
    try {
      const res = await fetch(`${app.api}/liveness-sessions/${flow.sessionId}/complete`, { method: 'POST', headers: { authorization: `Bearer ${flow.token}` } });
      flow.completeStatus = res.status;
      await res.arrayBuffer();
      if (res.status === 202) break;
    } catch {
      if (opts.killed?.()) return;
      flow.completeStatus = 0;
    }
    await sleep(300);
  }
}

function newFlow(run: string, i: number): Flow {
  return { device: `${run}-${i}-${randomUUID().slice(0, 8)}`, enableSessionImage: i % 2 === 0, createAttempts: 0, deviceAttempts: 0, completeAttempts: 0, statuses: [], answers: [] };
}

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

// ---------------------------------------------------------------------------------------------------------------
// Storage inspection (direct, never through the proxy).
async function allSessions(app: App): Promise<LivenessSession[]> {
  const table = app.clients.table(tableNames(app.prefix).sessions);
  const out: LivenessSession[] = [];
  try {
    for await (const e of table.listEntities<{ rowKey: string }>()) {
      // Row keys are "<inverted ms>|<sessionId>" (see sessionKey in the repository).
      const s = await app.repository.get(e.rowKey!.split('|')[1]!);
      if (s) out.push(s);
    }
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  return out;
}

async function blobNames(app: App): Promise<string[]> {
  const container = app.clients.blobService.getContainerClient(`${app.prefix.toLowerCase()}liveness-images`);
  if (!(await container.exists())) return [];
  const names: string[] = [];
  for await (const b of container.listBlobsFlat()) names.push(b.name);
  return names;
}


async function sweepRowExists(app: App, sessionId: string, due: string | undefined): Promise<boolean> {
  if (!due) return false;
  const k = sweepIndexKey(due, sessionId);
  try {
    await app.clients.table(tableNames(app.prefix).sweepSchedule).getEntity(k.partitionKey, k.rowKey);
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

/**
 * Moves every session `ms` into the past, as time passing would: token expiry and the sweep index row move; an index
 * row that does not exist is *not* created (time passing would not create one). Returns the sessions without one.
 */
async function agePast(app: App, ms: number): Promise<{ sessions: number; withoutSweepRow: string[] }> {
  const shift = (iso: string) => new Date(Date.parse(iso) - ms).toISOString();
  const withoutSweepRow: string[] = [];
  const sessions = await allSessions(app);
  for (const listed of sessions) {
    if (!(await sweepRowExists(app, listed.sessionId, listed.nextSweepDateTime))) withoutSweepRow.push(listed.sessionId);
    // The restarted host may still be collecting: mutate re-reads and re-applies on an ETag conflict, and moves the
    // sweep index row along with nextSweepDateTime.
    await app.repository.mutate(listed.sessionId, (s) => ({
      ...s,
      authTokenExpiresDateTime: shift(s.authTokenExpiresDateTime),
      nextSweepDateTime: s.nextSweepDateTime ? shift(s.nextSweepDateTime) : undefined,
    }));
  }
  return { sessions: sessions.length, withoutSweepRow };
}

async function sweep(app: App): Promise<void> {
  const before = app.host.logs().length;
  const res = await fetch(`${app.host.url}/admin/functions/liveness-sweep`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":""}',
  });
  expect(res.status).toBe(202);
  const finished = await eventually(() => /sweep finished.*/.exec(app.host.logs().slice(before)), 'the sweep to finish', 60_000);
  app.logs.push(finished[0]);
}

interface Orphans {
  faceSessions: string[];
  blobs: string[];
  blobsLeft: number;
  rowsWithLiveFace: number;
  rowsWithImages: number;
}

/** What is left at Face and in Blob storage that no session row accounts for. */
async function orphans(app: App): Promise<Orphans> {
  const sessions = await allSessions(app);
  const needFace = new Set(sessions.filter((s) => !s.faceSessionDeleted && s.faceSessionId).map((s) => s.faceSessionId!));
  const referenced = new Set(sessions.flatMap((s) => [s.storedVerifyImage.blobName, ...s.sessionImageBlobs]));
  const atFace = (await emulator(control(), 'GET', '/emulator/sessions')).body.sessions as Array<{ sessionId: string; deviceCorrelationId?: string }>;
  const mine = atFace.filter((f) => f.deviceCorrelationId?.startsWith(app.prefix));
  const blobs = await blobNames(app);
  return {
    faceSessions: mine.filter((f) => !needFace.has(f.sessionId)).map((f) => `${f.sessionId} (${f.deviceCorrelationId})`),
    blobs: blobs.filter((b) => !referenced.has(b)),
    blobsLeft: blobs.length,
    rowsWithLiveFace: needFace.size,
    rowsWithImages: sessions.filter((s) => !s.imagesDeleted).length,
  };
}

/** Where a row stands: what it still holds, whether it lists (not Creating), and what its device was told. */
async function describeRows(app: App, rows: LivenessSession[], flows: Flow[]) {
  const atFace = await (async () => new Set(((await emulator(control(), 'GET', '/emulator/sessions')).body.sessions as Array<{ sessionId: string }>).map((f) => f.sessionId)))();
  const blobs = new Set(await blobNames(app));
  return rows.map((s) => {
    const flow = flows.find((f) => f.device === s.deviceCorrelationId);
    return {
      sessionId: s.sessionId, status: s.status, faceSessionDeleted: s.faceSessionDeleted, faceSessionAtFace: !!s.faceSessionId && atFace.has(s.faceSessionId),
      verifyBlobExists: blobs.has(s.storedVerifyImage.blobName), listed: s.status !== 'Creating',
      deviceWasTold: flow?.sessionId === s.sessionId, deviceAnswers: flow?.answers, deviceOutcome: flow?.createOutcome,
    };
  });
}

/** Each session's status once all are final, or as they stand after `timeoutMs` (the soft assertion reports which). */
async function waitForFinal(app: App, ids: string[], timeoutMs: number): Promise<Map<string, string>> {
  const status = new Map<string, string>();
  await eventually(async () => {
    await Promise.all(ids.filter((id) => !FINAL.has(status.get(id) ?? '')).map(async (id) => {
      status.set(id, (await app.repository.get(id))?.status ?? 'missing');
    }));
    return ids.every((id) => FINAL.has(status.get(id)!));
  }, 'every created session to reach a final state', { timeoutMs, intervalMs: 500 }).catch(() => undefined);
  return status;
}

const tally = (values: Iterable<string>) => {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
};

async function setFaceFaults(body: unknown) {
  const res = await emulator(control(), body ? 'PUT' : 'DELETE', '/emulator/faults', body);
  expect(res.status).toBeLessThan(300);
}

// ---------------------------------------------------------------------------------------------------------------
describe('fault runs', () => {
  it('A: with Face failing 20 % of calls, every session ends in a result or a failure, and the sweep leaves no orphan', async () => {
    const app = newApp();
    await app.start(inject('storageConnectionString'));
    try {
      await setFaceFaults({ errorRate: 0.2, errorStatus: 503, dropRate: 0.05, paths: ['^/face/'] });
      const flows = Array.from({ length: 48 }, (_, i) => newFlow(app.prefix, i));
      const t0 = Date.now();
      await inBatches(flows, 8, (f) => runFlow(app, f, { maxCreateTries: 4 }));
      const faceFaults = (await emulator(control(), 'GET', '/emulator/faults')).body.injected as number;
      const created = flows.filter((f) => f.sessionId).map((f) => f.sessionId!);

      // Every created session reaches a final state within the collection bound (faults still on).
      const status = await waitForFinal(app, created, 60_000);
      const finalCount = created.filter((id) => FINAL.has(status.get(id)!)).length;
      const sessionsAfterFlows = await allSessions(app);

      await setFaceFaults(undefined);
      const aged = await agePast(app, 2 * 3600_000);
      await sweep(app);
      await sweep(app);
      const left = await orphans(app);

      console.log([
        `fault run A (TEST_SEED=${SEED}; Face 20 % 503 + 5 % drops, ${Date.now() - t0} ms): ${flows.length} device flows, ${flows.reduce((n, f) => n + f.createAttempts, 0)} create requests,`,
        `  ${faceFaults} Face faults injected; create answers ${JSON.stringify(tally(flows.flatMap((f) => f.answers)))};`,
        `  sessions created: ${created.length} (rows in storage: ${sessionsAfterFlows.length}); devices that gave up creating: ${flows.filter((f) => !f.sessionId).length};`,
        `  device attempts ${flows.reduce((n, f) => n + f.deviceAttempts, 0)}, completes ${flows.reduce((n, f) => n + f.completeAttempts, 0)};`,
        `  sessions in a final state: ${finalCount}/${created.length} ${JSON.stringify(tally(status.values()))};`,
        `  aged ${aged.sessions} sessions (${aged.withoutSweepRow.length} had no sweep index row); ${app.logs.join(' | ')}`,
        `  orphans after the sweep: ${left.faceSessions.length} Face sessions, ${left.blobs.length} blobs (blobs left: ${left.blobsLeft})`,
      ].join('\n'));

      expect(created.length).toBeGreaterThan(flows.length / 2);
      expect.soft(finalCount, 'created sessions in a final state (ResultAvailable, Failed or Expired)').toBe(created.length);
      // No session row the devices never heard of (a create that failed must not leave one behind).
      expect.soft(sessionsAfterFlows.map((s) => s.sessionId).sort(), 'session rows = sessions created').toEqual([...created].sort());
      expect.soft(aged.withoutSweepRow, 'session rows without a sweep index row').toEqual([]);
      expect.soft(left.faceSessions, 'Face sessions no live row needs').toEqual([]);
      expect.soft(left.blobs, 'blobs no session row references').toEqual([]);
      expect.soft(left.blobsLeft, 'blobs left after expiry and the sweep (image retention is 0 h)').toBe(0);
      expect.soft(left.rowsWithLiveFace, 'rows still holding a Face session after expiry and the sweep').toBe(0);
    } finally {
      await setFaceFaults(undefined).catch(() => undefined);
      await app.host?.stop();
    }
  }, 150_000);

  describe('B: storage faults and a host restart', () => {
    let proxies: { blob: StorageFaultProxy; queue: StorageFaultProxy; table: StorageFaultProxy } | undefined;
    afterAll(async () => {
      if (proxies) await Promise.all(Object.values(proxies).map((p) => p.close()));
    });

    it('leave no orphan Face session or blob once the sweep has run', async () => {
      const direct = inject('storageConnectionString');
      const ports = azuritePorts(direct);
      proxies = {
        blob: await startStorageFaultProxy(ports.blob, '127.0.0.1', seededRandom(SEED + 1)),
        queue: await startStorageFaultProxy(ports.queue, '127.0.0.1', seededRandom(SEED + 2)),
        table: await startStorageFaultProxy(ports.table, '127.0.0.1', seededRandom(SEED + 3)),
      };
      const proxied = connectionStringFor({ blob: proxies.blob.port, queue: proxies.queue.port, table: proxies.table.port });
      const setStorageFaults = (rate: number) => Object.values(proxies!).forEach((p) => p.setFaults({ errorRate: rate }));

      const app = newApp();
      await app.start(proxied);
      const t0 = Date.now();
      let killed = false;
      try {
        // Batch 1: whole flows with 20 % of storage requests failing.
        setStorageFaults(0.2);
        const batch1 = Array.from({ length: 16 }, (_, i) => newFlow(app.prefix, i));
        await inBatches(batch1, 8, (f) => runFlow(app, f, { maxCreateTries: 4 }));

        // Batch 2: the host is killed (SIGKILL) while creates and completes are in flight.
        const batch2 = Array.from({ length: 12 }, (_, i) => newFlow(app.prefix, 100 + i));
        const running = batch2.map((f) => runFlow(app, f, { maxCreateTries: 4, killed: () => killed }).catch(() => undefined));
        // Kill once some sessions exist and others are still being made.
        await eventually(() => batch2.filter((f) => f.sessionId).length >= 3, 'three sessions of batch 2', { timeoutMs: 20_000, intervalMs: 20 })
          .catch(() => undefined); // kill anyway: a batch where few creates succeed is a valid run too
        await sleep(random() * 150); // where the kill lands, from the seed
        process.kill(app.host.pid!, 'SIGKILL');
        killed = true;
        await app.host.stop();
        await Promise.all(running);
        setStorageFaults(0);
        const storageFaults = Object.fromEntries(Object.entries(proxies).map(([k, p]) => [k, { ...p.stats }]));

        // A fresh host on the same prefix, straight to Azurite.
        await app.start(direct);
        const all = [...batch1, ...batch2];
        const created = all.filter((f) => f.sessionId).map((f) => f.sessionId!);
        const inFlight = batch2.filter((f) => f.createOutcome === 'in-flight-at-kill');
        const rowsBefore = await allSessions(app);
        const faceBefore = ((await emulator(control(), 'GET', '/emulator/sessions')).body.sessions as Array<{ deviceCorrelationId?: string }>)
          .filter((f) => f.deviceCorrelationId?.startsWith(app.prefix)).length;

        const aged = await agePast(app, 2 * 3600_000);
        await sweep(app);
        await sweep(app);
        const left = await orphans(app);
        const rowsAfter = await allSessions(app);

        // By design, one orphan cannot be cleaned: Face made a session, but the host died before the session row
        // recorded its id (the update after Face answers). Nothing in storage knows that id, so no sweep can find it; it
        // lives until Face's own 48 h limit (its token dies with its TTL). Only a create in flight at the kill can
        // leave one. These are measured and reported; every other orphan must be zero.
        const inFlightDevices = [...new Set(inFlight.map((f) => f.device))];
        const rowsKnew = new Set(rowsBefore.map((r) => r.faceSessionId).filter(Boolean));
        const byDesign = left.faceSessions.filter((f) => inFlightDevices.some((d) => f.endsWith(`(${d})`)) && !rowsKnew.has(f.split(' ')[0]));
        const unexplained = left.faceSessions.filter((f) => !byDesign.includes(f));

        console.log([
          `fault run B (TEST_SEED=${SEED}; storage 20 % faults + SIGKILL, ${Date.now() - t0} ms): ${all.length} device flows, ${all.reduce((n, f) => n + f.createAttempts, 0)} create requests;`,
          `  storage faults injected ${JSON.stringify(storageFaults)};`,
          `  create answers ${JSON.stringify(tally(all.flatMap((f) => f.answers)))}; complete statuses ${JSON.stringify(tally(all.filter((f) => f.completeStatus !== undefined).map((f) => String(f.completeStatus))))};`,
          `  sessions created (201 seen by a device): ${created.length}; creates in flight at the kill: ${inFlight.length}; rows after restart: ${rowsBefore.length} (${rowsBefore.filter((r) => r.status === 'Creating').length} still Creating); Face sessions after restart: ${faceBefore};`,
          `  devices that gave up creating: ${JSON.stringify(all.filter((f) => f.createOutcome === 'gave-up').map((f) => f.answers))};`,
          `  statuses before the sweep ${JSON.stringify(tally(rowsBefore.map((s) => s.status)))}, after ${JSON.stringify(tally(rowsAfter.map((s) => s.status)))};`,
          `  aged ${aged.sessions} sessions (${aged.withoutSweepRow.length} had no sweep index row); ${app.logs.join(' | ')}`,
          `  orphans after the sweep: ${left.faceSessions.length} Face sessions (${byDesign.length} from creates cut by the kill before the row knew the Face id, ${unexplained.length} unexplained), ${left.blobs.length} blobs (blobs left: ${left.blobsLeft}, rows still holding a Face session: ${left.rowsWithLiveFace})`,
        ].join('\n'));
        // A row the sweep can no longer reach: not finished, or without the sweep index row its record deletion needs
        const reachable = new Map(await Promise.all(rowsAfter.map(async (s) => [s.sessionId, await sweepRowExists(app, s.sessionId, s.nextSweepDateTime)] as const)));
        const stuck = rowsAfter.filter((s) => !FINAL.has(s.status) || !s.faceSessionDeleted || !s.imagesDeleted || !reachable.get(s.sessionId));
        if (stuck.length) console.log(`  rows the sweep cannot reach: ${JSON.stringify(await describeRows(app, stuck, all))}`);
        if (left.faceSessions.length || left.blobs.length) console.log(`  orphan details: ${JSON.stringify({ face: left.faceSessions, blobs: left.blobs })}`);

        // Soft assertions: a failing run reports every broken promise at once, not just the first.
        // Failure modes this run exposed (and that are fixed): a lost answer on the session-row insert turned into a
        // 409 and a row without a sweep index row; a kill between the session-row and sweep-index inserts left a row
        // the sweep never visited. A session row is now written together with its sweep index row, before Face is called.
        expect(created.length).toBeGreaterThan(0);
        const rowIds = new Set(rowsAfter.map((s) => s.sessionId));
        expect.soft(created.filter((id) => !rowIds.has(id)), 'sessions a device was told about must still exist').toEqual([]);
        expect.soft(rowsAfter.filter((s) => !reachable.get(s.sessionId)).map((s) => s.sessionId), 'session rows without a sweep index row after the sweep (it can never reach them)').toEqual([]);
        expect.soft(rowsAfter.filter((s) => !FINAL.has(s.status)).map((s) => `${s.sessionId} ${s.status}`), 'rows not in a final state after the sweep').toEqual([]);
        expect.soft(unexplained, 'Face sessions left after the sweep (beyond the by-design window)').toEqual([]);
        expect.soft(left.rowsWithLiveFace, 'rows still holding a Face session after expiry and the sweep').toBe(0);
        expect.soft(left.blobs, 'blobs no session row references').toEqual([]);
        expect.soft(left.blobsLeft, 'blobs left after expiry and the sweep (image retention is 0 h)').toBe(0);
        } finally {
        setStorageFaults(0);
        await app.host?.stop();
      }
    }, 170_000);
  });
});
