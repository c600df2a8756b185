// End-to-end tests of the dev host (dist/dev/host/main.js) against the fixture app in test/fixtures/devhost-app and
// the Azurite started by the global setup.
import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../../dev/eventually.js';
import { REPO_ROOT, spawnDevHost, type RunningDevHost } from '../support/dev-host.js';

const APP = path.join(REPO_ROOT, 'test/fixtures/devhost-app');
const FUNCTION_KEY = 'fixture-function-key';
const MASTER_KEY = 'fixture-master-key';
const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
const QUEUE = `devhost-${suffix}`;
const TABLE = `devhost${suffix}`;

let host: RunningDevHost;
const hostLogs = (): string => `--- dev host logs ---\n${host.logs()}`;
let connectionString: string;
let table: TableClient;
let queue: QueueClient;

interface Recorded { partitionKey: string; rowKey: string; data: string }
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

async function entities(partition: string): Promise<{ rowKey: string; data: Record<string, unknown> }[]> {
  const out: { rowKey: string; data: Record<string, unknown> }[] = [];
  try {
    for await (const e of table.listEntities<Recorded>({ queryOptions: { filter: `PartitionKey eq '${partition}'` } })) {
      out.push({ rowKey: e.rowKey!, data: JSON.parse(e.data) as Record<string, unknown> });
    }
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err; // table not created yet
  }
  return out;
}


beforeAll(async () => {
  connectionString = inject('storageConnectionString');
  table = TableClient.fromConnectionString(connectionString, TABLE, { allowInsecureConnection: true });
  queue = new QueueClient(connectionString, QUEUE);
  const started = Date.now();
  host = await spawnDevHost({
    appRoot: APP,
    env: {
      AzureWebJobsStorage: connectionString,
      FIXTURE_QUEUE: QUEUE,
      FIXTURE_TABLE: TABLE,
      FIXTURE_TICK_SCHEDULE: '*/1 * * * * *',
      DEVHOST_FUNCTION_KEY: FUNCTION_KEY,
      DEVHOST_MASTER_KEY: MASTER_KEY,
    },
  });
  console.log(`[dev-host.test] dev host ready in ${Date.now() - started} ms (spawn → listening line)`);
  await queue.createIfNotExists();
});

afterAll(async () => {
  await host?.stop();
});

describe('registration through the @azure/functions-core seam', () => {
  it('receives the metadata @azure/functions 4.16.5 produces for each trigger type', async () => {
    const res = await fetch(`${host.url}/admin/functions`, { headers: { 'x-functions-key': MASTER_KEY } });
    expect(res.status).toBe(200);
    const list = (await res.json()) as { name: string; bindings: Record<string, Record<string, unknown>> }[];
    const byName = new Map(list.map((f) => [f.name, f]));
    expect([...byName.keys()]).toEqual(expect.arrayContaining(['getItem', 'hello', 'ping', 'adminStats', 'sessionById', 'sessionLatest', 'boom', 'nothing', 'recordQueue', 'recordPoison', 'tick', 'manualSweep']));
    const trigger = (name: string): [string, Record<string, unknown>] => {
      const entry = Object.entries(byName.get(name)!.bindings).find(([, b]) => /Trigger$/.test(String(b.type)));
      expect(entry, `trigger binding of ${name}`).toBeDefined();
      return entry!;
    };

    const [httpName, httpBinding] = trigger('getItem');
    expect(httpName).toMatch(/^httpTrigger[0-9a-f]{10}$/); // generated binding names: type + hash
    expect(httpBinding).toMatchObject({ type: 'httpTrigger', direction: 'in', route: 'items/{category:alpha}/{id:int}', methods: ['GET'], authLevel: 'function' });
    expect(byName.get('getItem')!.bindings.$return).toMatchObject({ type: 'http', direction: 'out' });
    // library defaults when omitted
    expect(trigger('ping')[1]).toMatchObject({ type: 'httpTrigger', authLevel: 'anonymous', methods: ['GET', 'POST'] });
    expect(trigger('ping')[1].route).toBeUndefined();
    expect(trigger('adminStats')[1]).toMatchObject({ authLevel: 'admin', route: 'stats/admin' });

    expect(trigger('recordQueue')[1]).toMatchObject({ type: 'queueTrigger', direction: 'in', queueName: '%FIXTURE_QUEUE%', connection: 'AzureWebJobsStorage' });
    expect(trigger('recordPoison')[1]).toMatchObject({ type: 'queueTrigger', queueName: '%FIXTURE_QUEUE%-poison' });
    expect(trigger('tick')[1]).toMatchObject({ type: 'timerTrigger', direction: 'in', schedule: '%FIXTURE_TICK_SCHEDULE%' });
    expect(trigger('manualSweep')[1]).toMatchObject({ type: 'timerTrigger', schedule: '0 0 0 1 1 *' });

    // no "test mode": the library found the core module
    expect(host.logs()).not.toContain('test mode');
    expect(host.logs()).toContain('fixture appStart hook ran');
  });

  it('prints one line per function with resolved queue names and schedules', () => {
    const logs = host.logs();
    expect(logs).toMatch(/getItem: \[GET\] http:\/\/127\.0\.0\.1:\d+\/api\/items\/\{category:alpha\}\/\{id:int\} \(authLevel=function\)/);
    expect(logs).toContain(`recordQueue: queueTrigger '${QUEUE}' (poison: '${QUEUE}-poison')`);
    expect(logs).toContain(`recordPoison: queueTrigger '${QUEUE}-poison' (no poison queue)`);
    expect(logs).toContain(`tick: timerTrigger '*/1 * * * * *'`);
  });
});

describe('HTTP', () => {
  const key = { 'x-functions-key': FUNCTION_KEY };

  it('routes with constrained params and passes query and context', async () => {
    const res = await fetch(`${host.url}/api/items/books/42?sort=asc`, { headers: key });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ params: { category: 'books', id: '42' }, query: { sort: 'asc' }, functionName: 'getItem', trigger: 'httpTrigger' });
  });

  it('applies constraints (int, alpha, guid) and returns 404 JSON for no route', async () => {
    expect((await fetch(`${host.url}/api/items/books/forty`, { headers: key })).status).toBe(404);
    expect((await fetch(`${host.url}/api/items/b00ks/1`, { headers: key })).status).toBe(404);
    const res = await fetch(`${host.url}/api/does/not/exist`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ error: 'Not Found' });
    expect((await fetch(`${host.url}/items/books/1`, { headers: key })).status).toBe(404); // no route prefix
  });

  it('returns 405 JSON with Allow when the path matches but the method does not', async () => {
    const id = randomUUID();
    const res = await fetch(`${host.url}/api/things/${id}`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('PUT');
    expect(await res.json()).toMatchObject({ error: 'Method Not Allowed', allow: ['PUT'] });
    const put = await fetch(`${host.url}/api/things/${id}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    expect(await put.json()).toEqual({ id });
    expect((await fetch(`${host.url}/api/things/not-a-guid`, { method: 'PUT' })).status).toBe(404);
  });

  it('optional parameter, default route, catch-all, POST body', async () => {
    expect(await (await fetch(`${host.url}/api/hello`)).json()).toEqual({ hello: 'world', method: 'GET', bodyBytes: 0 });
    expect(await (await fetch(`${host.url}/api/HELLO/ada`, { method: 'POST', body: 'abcd' })).json()).toEqual({ hello: 'ada', method: 'POST', bodyBytes: 4 });
    expect(await (await fetch(`${host.url}/api/ping`)).text()).toBe('pong');
    expect(await (await fetch(`${host.url}/api/files/a/b%20c.txt`)).json()).toEqual({ path: 'a/b c.txt' });
    expect(await (await fetch(`${host.url}/api/files`)).json()).toEqual({ path: null });
  });

  it('literal segments win over parameters regardless of registration order', async () => {
    expect(await (await fetch(`${host.url}/api/sessions/latest`)).json()).toEqual({ route: 'latest' });
    expect(await (await fetch(`${host.url}/api/sessions/abc`)).json()).toEqual({ route: 'byId', id: 'abc' });
  });

  it('enforces auth levels with the function and master keys (header or code=)', async () => {
    const url = `${host.url}/api/items/books/1`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { 'x-functions-key': 'wrong' } })).status).toBe(401);
    expect((await fetch(url, { headers: key })).status).toBe(200);
    expect((await fetch(`${url}?code=${FUNCTION_KEY}`)).status).toBe(200);
    expect((await fetch(url, { headers: { 'x-functions-key': MASTER_KEY } })).status).toBe(200);
    // admin level: master key only
    const admin = `${host.url}/api/stats/admin`;
    expect((await fetch(admin)).status).toBe(401);
    expect((await fetch(admin, { headers: key })).status).toBe(401);
    expect((await fetch(`${admin}?code=${MASTER_KEY}`)).status).toBe(200);
    // anonymous stays open
    expect((await fetch(`${host.url}/api/ping`)).status).toBe(200);
    // keys never reach the logs
    expect(host.logs()).not.toContain(FUNCTION_KEY);
    expect(host.logs()).not.toContain(MASTER_KEY);
  });

  it('500 with a generic JSON body and no stack trace when the handler throws', async () => {
    const res = await fetch(`${host.url}/api/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: 'Internal Server Error' });
    expect(text).not.toMatch(/kaboom|at |\.js/);
    await host.waitForLog("Executed 'Functions.boom' (Failed");
    expect(host.logs()).toContain('kaboom'); // logged on the server side
  });

  it('204 when the handler returns nothing', async () => {
    const res = await fetch(`${host.url}/api/nothing`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('passes response headers and cookies through; pre/postInvocation hooks apply', async () => {
    const cookie = await fetch(`${host.url}/api/cookie`);
    expect(cookie.headers.get('x-custom')).toBe('1');
    expect(cookie.headers.get('set-cookie')).toBe('sid=abc; Path=/; HttpOnly');
    const hooked = await fetch(`${host.url}/api/hooked`);
    expect(await hooked.json()).toEqual({ handler: true, pre: true });
    expect(hooked.headers.get('x-post-invocation')).toBe('yes');
  });

  it('413 for a body over 100 MB (declared Content-Length, nothing buffered)', async () => {
    const { hostname, port } = new URL(host.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ hostname, port, method: 'POST', path: '/api/hello', headers: { 'content-length': String(104_857_601) } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err)));
      req.write(Buffer.alloc(64 * 1024));
    });
    expect(status).toBe(413);
  });

  it('414 for a URL over 4 KB', async () => {
    const res = await fetch(`${host.url}/api/hello/${'a'.repeat(4200)}`);
    expect(res.status).toBe(414);
  });
});

describe('storage queue trigger', () => {
  it('delivers a base64 JSON message as an object with dequeueCount 1 and deletes it', async () => {
    const sent = Date.now();
    await queue.sendMessage(b64({ key: 'ok-1', n: 7, nested: { A: 1 } }));
    const row = await eventually(async () => (await entities('queue')).find((e) => e.rowKey === 'ok-1-1'), 'queue delivery', { timeoutMs: 20_000, context: hostLogs });
    console.log(`[dev-host.test] queue message → Table entity in ${(row.data.receivedAt as number) - sent} ms (send → handler)`);
    expect(row.data).toMatchObject({ value: { key: 'ok-1', n: 7, nested: { A: 1 } }, type: 'object', dequeueCount: 1 });
    expect(row.data.metadataKeys).toEqual(expect.arrayContaining(['dequeueCount', 'expirationTime', 'id', 'insertionTime', 'nextVisibleTime', 'popReceipt', 'queueTrigger']));
    expect(row.data.trigger).toMatchObject({ type: 'queueTrigger', queueName: '%FIXTURE_QUEUE%' });
    await eventually(async () => ((await queue.getProperties()).approximateMessagesCount === 0 ? true : undefined), 'message deletion', { timeoutMs: 10_000, context: hostLogs });
  });

  it('passes a non-JSON message as a string', async () => {
    await queue.sendMessage(Buffer.from('plain text', 'utf8').toString('base64'));
    const row = await eventually(async () => (await entities('queue')).find((e) => e.data.value === 'plain text'), 'string delivery', { timeoutMs: 20_000, context: hostLogs });
    expect(row.data).toMatchObject({ type: 'string', dequeueCount: 1 });
  });

  it('retries a failing message, then moves it to <queue>-poison where the poison trigger sees it', async () => {
    await queue.sendMessage(b64({ key: 'bad-1', fail: true }));
    const poisoned = await eventually(async () => (await entities('poison')).find((e) => e.rowKey === 'bad-1'), 'poison delivery', { timeoutMs: 30_000, context: hostLogs });
    expect(poisoned.data).toMatchObject({ value: { key: 'bad-1', fail: true }, type: 'object', dequeueCount: 1 });
    const attempts = (await entities('queue')).filter((e) => e.rowKey.startsWith('bad-1-')).map((e) => e.data.dequeueCount).sort();
    expect(attempts).toEqual([1, 2, 3]); // fixture host.json maxDequeueCount = 3
    expect(host.logs()).toContain(`Message has reached MaxDequeueCount of 3. Moving message to queue '${QUEUE}-poison'.`);
  });

  it('sends a message that is not base64 to the poison queue without invoking the function', async () => {
    const raw = JSON.stringify({ key: 'raw-1', note: 'not base64' });
    await queue.sendMessage(raw);
    await host.waitForLog(/is not valid base64.*function 'recordQueue' is not invoked/, 20_000);
    await host.waitForLog(`Moving message to queue '${QUEUE}-poison'`, 20_000);
    // the poison trigger cannot decode it either; with no poison-of-poison it stays in the poison queue, uninvoked
    await host.waitForLog(new RegExp(`on queue '${QUEUE}-poison' is not valid base64.*'recordPoison' is not invoked`), 20_000);
    const poisonCount = (await new QueueClient(connectionString, `${QUEUE}-poison`).getProperties()).approximateMessagesCount;
    expect(poisonCount).toBeGreaterThanOrEqual(1);
    expect((await entities('queue')).some((e) => JSON.stringify(e.data.value).includes('raw-1'))).toBe(false);
    expect((await entities('poison')).some((e) => e.rowKey === 'raw-1')).toBe(false);
  });
});

describe('timer trigger', () => {
  it('fires on its NCRONTAB schedule with isPastDue false', async () => {
    const ticks = await eventually(async () => { const t = await entities('tick'); return t.length >= 2 ? t : undefined; }, 'two ticks', { timeoutMs: 15_000, context: hostLogs });
    for (const t of ticks) expect(t.data.isPastDue).toBe(false);
    expect(ticks[0]!.data.trigger).toMatchObject({ type: 'timerTrigger', schedule: '%FIXTURE_TICK_SCHEDULE%' });
    expect(ticks[0]!.data.scheduleStatus).toMatchObject({ next: expect.any(String), last: expect.any(String) });
  });

  it('runs on demand through POST /admin/functions/{name} (master key required)', async () => {
    const url = `${host.url}/admin/functions/manualSweep`;
    expect((await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', body: '{}', headers: { 'x-functions-key': FUNCTION_KEY } })).status).toBe(401);
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ input: '' }), headers: { 'content-type': 'application/json', 'x-functions-key': MASTER_KEY } });
    expect(res.status).toBe(202);
    const runs = await eventually(async () => { const m = await entities('manual'); return m.length ? m : undefined; }, 'manual run', { timeoutMs: 10_000, context: hostLogs });
    expect(runs[0]!.data.isPastDue).toBe(false);
    expect((await fetch(`${host.url}/admin/functions/nope`, { method: 'POST', body: '{}', headers: { 'x-functions-key': MASTER_KEY } })).status).toBe(404);
  });
});

describe('shutdown', () => {
  it('stops on SIGTERM, running appTerminate hooks', async () => {
    await host.stop();
    expect(host.logs()).toContain('fixture appTerminate hook ran');
    expect(host.logs()).toContain('Dev host stopped.');
  });
});

describe('defaults without keys, streamed body limit', () => {
  let plain: RunningDevHost;
  beforeAll(async () => {
    plain = await spawnDevHost({
      appRoot: APP,
      env: { AzureWebJobsStorage: connectionString, FIXTURE_QUEUE: `${QUEUE}-b`, FIXTURE_TABLE: TABLE, FIXTURE_TICK_SCHEDULE: '0 0 0 1 1 *', DEVHOST_MAX_BODY_BYTES: '1024', DEVHOST_FUNCTION_KEY: '', DEVHOST_MASTER_KEY: '', DEVHOST_ENFORCE_KEYS: '' },
    });
  });
  afterAll(async () => { await plain?.stop(); });

  it('does not enforce keys unless configured (like func start)', async () => {
    expect((await fetch(`${plain.url}/api/items/books/1`)).status).toBe(200);
    expect((await fetch(`${plain.url}/api/stats/admin`)).status).toBe(200);
    expect(plain.logs()).toContain('Keys not enforced');
  });

  it('413 when a chunked body grows past the limit, without logging the body', async () => {
    const { hostname, port } = new URL(plain.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ hostname, port, method: 'POST', path: '/api/hello', headers: { 'transfer-encoding': 'chunked' } }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err)));
      req.write('secret-body-'.repeat(100));
      req.end('secret-body-'.repeat(100));
    });
    expect(status).toBe(413);
    expect((await fetch(`${plain.url}/api/hello`, { method: 'POST', body: 'x'.repeat(1000) })).status).toBe(200);
    expect(plain.logs()).not.toContain('secret-body');
  });
});
