// Scale-out, as Flex Consumption runs the app: three dev hosts (separate processes, one app, one host id) against one
// Azurite, one Face emulator and one webhook receiver. HTTP calls are spread round-robin over the live hosts; queue
// messages go to whichever host polls first; the sweep runs on its (short) schedule on the one host holding the
// timer's singleton lease, and on demand on every host at once; completion messages arrive twice (two completes on
// two hosts; the same message enqueued twice by hand) and early (a complete before the capture ended); and the host
// holding the sweep's lease is killed (SIGKILL) mid-run, while it collects and delivers.
//
// Afterwards: every session decided exactly once (one decision, one audit entry per attempt, one evidence record,
// one event id, delivered at least once), nothing lost, no blob, row or Face session orphaned, no queue message left,
// another host took the timer over, and no host logged an error. Randomness (who does what, which host serves a call)
// comes from the TEST_SEED helper, printed on failure.
import { randomBytes } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { startWebhookReceiver, type RunningWebhookReceiver } from '../../dev/webhook-receiver/receiver.js';
import { tableNames } from '../../src/adapters/storage/table-names.js';
import { createStorageClients } from '../../src/adapters/storage/clients.js';
import type { LivenessSession } from '../../src/core/session.js';
import { seededRandom, useTestSeed } from '../support/seed.js';
import {
  bearer, blobNames, deviceToken, eventually, faceSessionIds, fixture, startForm, startStack, type Stack,
} from '../support/liveness.js';

const seed = useTestSeed(import.meta.url);
const random = seededRandom(seed);
const face = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
const key = `whsec_${randomBytes(32).toString('base64')}`;

/** One instance of the app as the test (the load balancer) sees it. */
interface Instance { name: string; api: string; logs(): string; pid(): number | undefined; alive: boolean }

let stack: Stack;
let receiver: RunningWebhookReceiver;
let instances: Instance[] = [];
let extra: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secrets: [key], print: () => undefined });
  stack = await startStack({
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: key,
    WEBHOOK_RETRY_BASE_SECONDS: '1',
    WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
    WEBHOOK_OUTBOX_RECOVERY_SECONDS: '2',
    WEBHOOK_TIMEOUT_MS: '3000',
    // The sweep every 2 s, on whichever host holds its lease; leases as short as Azure Storage allows.
    LIVENESS_SWEEP_SCHEDULE: '*/2 * * * * *',
    AzureFunctionsJobHost__singleton__listenerLockPeriod: '00:00:15',
    AzureFunctionsJobHost__singleton__listenerLockRecoveryPollingInterval: '00:00:15',
    // A message held by the killed host comes back after 4 s instead of the host's fixed 10 minutes.
    DEVHOST_QUEUE_LEASE_SECONDS: '4',
  });
  // The first host took the sweep's lease before the others started.
  await eventually(() => /Singleton lock acquired \(.*Host\.Functions\.liveness-sweep\.Listener\)/.test(stack.logs()), 'host A to hold the sweep lease');
  const [b, c] = await Promise.all([stack.scaleOut(), stack.scaleOut()]);
  extra = [b!, c!];
  instances = [
    { name: 'A', api: stack.api, logs: () => stack.logs(), pid: () => stack.pid(), alive: true },
    { name: 'B', api: `${b!.url}/api`, logs: () => b!.logs(), pid: () => b!.pid, alive: true },
    { name: 'C', api: `${c!.url}/api`, logs: () => c!.logs(), pid: () => c!.pid, alive: true },
  ];
}, 120_000);

afterAll(async () => {
  await Promise.all(extra.map((h) => h.stop()));
  await stack?.stop();
  await receiver?.close();
});

const live = () => instances.filter((i) => i.alive);
/** A live host chosen by the seeded generator (the load balancer). */
const anyHost = (): Instance => { const l = live(); return l[Math.floor(random() * l.length)]!; };
const admin = (api: string) => api.replace(/\/api$/, '');
const allLogs = () => instances.map((i) => `----- host ${i.name}${i.alive ? '' : ' (killed)'} -----\n${i.logs()}`).join('\n');

interface Started { sessionId: string; authToken: string; token: string; faceSessionId: string; kind: Kind }
type Kind = 'once' | 'twice' | 'duplicate-message' | 'early' | 'abandoned' | 'uncollected';

async function create(kind: Kind): Promise<Started> {
  const token = await deviceToken();
  const host = anyHost();
  const res = await fetch(`${host.api}/liveness-sessions`, { method: 'POST', body: startForm(face), headers: bearer(token) });
  const body = (await res.json()) as { sessionId: string; authToken: string };
  if (res.status !== 201) throw new Error(`create on ${host.name}: ${res.status} ${JSON.stringify(body)}`);
  const row = await stack.repository.get(body.sessionId);
  return { sessionId: body.sessionId, authToken: body.authToken, token, faceSessionId: row!.faceSessionId!, kind };
}

async function complete(s: Started, host = anyHost()): Promise<void> {
  const res = await fetch(`${host.api}/liveness-sessions/${s.sessionId}/complete`, { method: 'POST', headers: bearer(s.token) });
  if (res.status !== 202) throw new Error(`complete of ${s.sessionId} on ${host.name}: ${res.status} ${await res.text()}`);
}

/** The same completion message again, straight onto the queue (twice), as an at-least-once queue may deliver it. */
async function enqueueDuplicates(s: Started): Promise<void> {
  const row = await eventually(async () => (await stack.repository.get(s.sessionId))?.collection, `the collection chain of ${s.sessionId}`);
  const text = Buffer.from(JSON.stringify({ sessionId: s.sessionId, try: 1, chainId: row.chainId })).toString('base64');
  await Promise.all([stack.completionQueue.sendMessage(text), stack.completionQueue.sendMessage(text)]);
}

async function flow(s: Started): Promise<void> {
  switch (s.kind) {
    case 'once':
      await performDeviceAttempt(stack.faceEndpoint, s.authToken, capture);
      await complete(s);
      break;
    case 'twice': {
      await performDeviceAttempt(stack.faceEndpoint, s.authToken, capture);
      const [h1, h2] = [...live()].sort(() => random() - 0.5);
      await Promise.all([complete(s, h1), complete(s, h2 ?? h1)]);
      break;
    }
    case 'duplicate-message':
      await performDeviceAttempt(stack.faceEndpoint, s.authToken, capture);
      await complete(s);
      await enqueueDuplicates(s);
      break;
    case 'early': // the device says it is done before its capture reached Face
      await complete(s);
      await performDeviceAttempt(stack.faceEndpoint, s.authToken, capture);
      break;
    case 'uncollected': // captured, never completed: the sweep's last collection decides it at expiry
      await performDeviceAttempt(stack.faceEndpoint, s.authToken, capture);
      break;
    case 'abandoned': // never captured: the sweep expires it
      break;
  }
}

/** Moves a session's token expiry (and its sweep index row) 11 minutes into the past, as time passing would. */
async function expire(s: Started): Promise<void> {
  const shift = (iso: string) => new Date(Date.parse(iso) - 11 * 60_000).toISOString();
  await stack.repository.mutate(s.sessionId, (row) => ({
    ...row, authTokenExpiresDateTime: shift(row.authTokenExpiresDateTime), nextSweepDateTime: row.nextSweepDateTime ? shift(row.nextSweepDateTime) : undefined,
  }));
}

/** POST /admin/functions/liveness-sweep on every live host at the same moment. */
async function sweepEverywhere(): Promise<void> {
  const answers = await Promise.all(live().map((h) => fetch(`${admin(h.api)}/admin/functions/liveness-sweep`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":""}',
  })));
  expect(answers.map((a) => a.status)).toEqual(live().map(() => 202));
}

async function rows(table: string): Promise<Array<Record<string, unknown> & { partitionKey: string; rowKey: string }>> {
  const client = TableClient.fromConnectionString(inject('storageConnectionString'), table, { allowInsecureConnection: true });
  const out: Array<Record<string, unknown> & { partitionKey: string; rowKey: string }> = [];
  try {
    for await (const e of client.listEntities()) out.push(e as Record<string, unknown> & { partitionKey: string; rowKey: string });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  return out;
}

async function queueDepth(name: string): Promise<number> {
  const queue = createStorageClients({ kind: 'connectionString', connectionString: inject('storageConnectionString') }).queueService.getQueueClient(name);
  if (!(await queue.exists())) return 0;
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}

const timerSweeps = (logs: string) => (logs.match(/Executing 'Functions\.liveness-sweep' \(Reason='Timer fired/g) ?? []).length;

describe('three hosts, one app', () => {
  it('decides every session exactly once, loses nothing, orphans nothing, and hands the timer over when its host dies', async () => {
    const kinds: Kind[] = [
      ...Array<Kind>(4).fill('once'), ...Array<Kind>(3).fill('twice'), ...Array<Kind>(3).fill('duplicate-message'),
      ...Array<Kind>(2).fill('early'), ...Array<Kind>(2).fill('uncollected'), ...Array<Kind>(2).fill('abandoned'),
    ].sort(() => random() - 0.5);

    // Creates, four at a time, spread over the three hosts.
    const sessions: Started[] = [];
    for (let i = 0; i < kinds.length; i += 4) sessions.push(...await Promise.all(kinds.slice(i, i + 4).map((k) => create(k))));

    // First half of the flows on all three hosts, with the sweep on every host at once in the middle of them.
    const half = Math.ceil(sessions.length / 2);
    await Promise.all([...sessions.slice(0, half).map((s) => flow(s)), sweepEverywhere()]);

    // The load balancer stops sending A traffic; A dies a moment later, with collections, deliveries and the sweep's
    // lease in hand.
    const a = instances[0]!;
    a.alive = false;
    const killedAt = Date.now();
    process.kill(a.pid()!, 'SIGKILL');

    // The rest on B and C; then the sessions nobody completed expire, and B and C sweep at once, twice.
    await Promise.all(sessions.slice(half).map((s) => flow(s)));
    await Promise.all(sessions.filter((s) => s.kind === 'abandoned' || s.kind === 'uncollected').map((s) => expire(s)));
    await sweepEverywhere();
    await sweepEverywhere();

    // Everything settles: every session decided (or expired), no completion or delivery message left anywhere, every
    // outbox empty.
    const prefix = stack.prefix.toLowerCase();
    const settled = async (): Promise<LivenessSession[] | undefined> => {
      const all = await Promise.all(sessions.map((s) => stack.repository.get(s.sessionId)));
      if (all.some((r) => !r || (r.status !== 'ResultAvailable' && r.status !== 'Expired') || (r.pendingEvents?.length ?? 0) > 0)) return undefined;
      for (const q of [`${prefix}-completions`, `${prefix}-completions-webhooks`]) if ((await queueDepth(q)) > 0) return undefined;
      return all as LivenessSession[];
    };
    const final = await eventually(settled, 'every session decided, every queue and outbox empty', { timeoutMs: 45_000, intervalMs: 250, context: allLogs });

    // The sweep's timer moved to B or C (one of them), within a lease period plus a recovery interval of the kill.
    const takeover = await eventually(() => live().find((h) => /Singleton lock acquired \(.*liveness-sweep\.Listener\)/.test(h.logs()) && timerSweeps(h.logs()) > 0),
      'B or C to take the sweep timer over', { timeoutMs: 40_000, intervalMs: 250, context: allLogs });
    expect(Date.now() - killedAt).toBeLessThan(40_000);
    const other = live().find((h) => h !== takeover)!;
    expect(other.logs(), 'only one instance holds the timer').not.toMatch(/Singleton lock acquired \(.*liveness-sweep/);
    expect(timerSweeps(other.logs())).toBe(0);
    expect(timerSweeps(a.logs())).toBeGreaterThan(0); // A ran it until it died

    const count = (h: Instance, re: RegExp) => (h.logs().match(re) ?? []).length;
    console.log(`[scale-out] seed ${seed}; per host (completion / webhook queue runs / timer sweeps): ${instances.map((h) => `${h.name}${h.alive ? '' : ' (killed)'} ${count(h, /Executing 'Functions\.liveness-completions'/g)}/${count(h, /Executing 'Functions\.liveness-webhooks'/g)}/${timerSweeps(h.logs())}`).join(', ')}; `
      + `${receiver.deliveries.length} deliveries of ${new Set(receiver.deliveries.map((d) => d.webhookId)).size} events; timer taken over by ${takeover.name} ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`);

    // Exactly once, per session.
    const names = tableNames(stack.prefix);
    const evidence = (await rows(names.evidence)).filter((r) => r.rowKey.startsWith('r|')).map((r) => JSON.parse(String(r.recordJson)) as { recordId: string });
    for (const [i, row] of final.entries()) {
      const s = sessions[i]!;
      const what = `${s.kind} session ${s.sessionId}`;
      if (s.kind === 'abandoned') {
        expect(row.status, what).toBe('Expired');
        expect(row.decision, what).toBeUndefined();
      } else {
        expect(row.status, what).toBe('ResultAvailable');
        expect(row.decision, what).toBeDefined();
        expect((await stack.audit.list(s.sessionId)).map((e) => e.id), what).toEqual([1]); // one attempt, one entry
        const decidedRefs = (row.evidence ?? []).filter((e) => e.recordId.startsWith('session.decided|'));
        expect(decidedRefs, what).toHaveLength(1);
        expect(evidence.filter((e) => e.recordId === decidedRefs[0]!.recordId), what).toHaveLength(1);
      }
      const type = s.kind === 'abandoned' ? 'liveness.session.expired' : 'liveness.session.decided';
      const deliveries = receiver.deliveries.filter((d) => d.verified && d.payload?.type === type && d.payload.data.sessionId === s.sessionId);
      expect(deliveries.length, `${what}: delivered at least once`).toBeGreaterThanOrEqual(1);
      expect(new Set(deliveries.map((d) => d.webhookId)).size, `${what}: one event id`).toBe(1);
      expect(deliveries.every((d) => d.webhookId === d.payload!.id), what).toBe(true);
    }
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    const decidedEvents = new Set(receiver.deliveries.filter((d) => d.payload?.type === 'liveness.session.decided').map((d) => d.webhookId));
    expect(decidedEvents.size).toBe(sessions.filter((s) => s.kind !== 'abandoned').length);

    // Nothing orphaned: every blob, index row and audit entry belongs to one of these sessions; no Face session left.
    const ids = new Set(sessions.map((s) => s.sessionId));
    expect((await rows(names.sessions)).length).toBe(sessions.length);
    for (const name of await blobNames(stack)) {
      const id = /^(?:verify-images\/([0-9a-f-]{36})\.|session-images\/([0-9a-f-]{36})\/)/.exec(name);
      expect(id && ids.has(id[1] ?? id[2]!), `blob ${name}`).toBe(true);
    }
    for (const r of await rows(names.subjectSessions)) {
      if (r.partitionKey.startsWith('face-')) expect(sessions.map((s) => `face-${s.faceSessionId}`), `row ${r.partitionKey}`).toContain(r.partitionKey);
      else expect(ids.has(r.rowKey), `subject row ${r.rowKey}`).toBe(true);
    }
    for (const r of await rows(names.sweepSchedule)) expect(ids.has(r.rowKey.split('|').pop()!), `sweep row ${r.rowKey}`).toBe(true);
    for (const r of await rows(names.auditEntries)) expect(ids.has(r.partitionKey), `audit row ${r.partitionKey}`).toBe(true);
    for (const r of await rows(names.webhookAttempts)) expect([...decidedEvents, ...receiver.deliveries.map((d) => d.webhookId)], `attempt row ${r.partitionKey}`).toContain(r.partitionKey);
    const faceLeft = await faceSessionIds(stack);
    expect(sessions.filter((s) => faceLeft.has(s.faceSessionId)).map((s) => s.kind)).toEqual([]);
    for (const q of [`${prefix}-completions-poison`, `${prefix}-completions-webhooks-poison`]) expect(await queueDepth(q), q).toBe(0);

    // No host logged an error (a conflict that was retried is logged as a warning, if at all).
    const errors = instances.flatMap((h) => h.logs().split('\n').filter((l) => /\/error\]|\(Failed,|\berror\b|Unhandled/i.test(l)).map((l) => `${h.name}: ${l}`));
    expect(errors).toEqual([]);
  }, 150_000);
});
