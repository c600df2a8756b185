// Unit tests of the dev host's building blocks (dev/host/*.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandBraces, expandGlob, resolveEntryPoints } from '../../dev/host/glob.js';
import { authorized, httpFunctions, keyConfigFromEnv } from '../../dev/host/http.js';
import { decodeMessageText, parseMessageValue, poisonQueueName, resolveConnectionString, toCamelCaseValue, validateQueueName } from '../../dev/host/queues.js';
import { compileRoute, matchRoute, RouteTable } from '../../dev/host/routes.js';
import { nextOccurrence, nextOccurrences, parseSchedule, timerTimeZone } from '../../dev/host/schedule.js';
import { isTimeSpan, loadLocalSettings, parseHostJson, parseTimeSpan, resolveSettingRefs } from '../../dev/host/settings.js';

const iso = (d: Date | null): string | undefined => d?.toISOString();

describe('routes', () => {
  it('matches literals case-insensitively and extracts params', () => {
    const r = compileRoute('api/liveness-sessions/{id}');
    expect(matchRoute(r, '/api/Liveness-Sessions/abc')).toEqual({ id: 'abc' });
    expect(matchRoute(r, '/api/liveness-sessions/abc/')).toEqual({ id: 'abc' });
    expect(matchRoute(r, '/api/liveness-sessions')).toBeUndefined();
    expect(matchRoute(r, '/api/liveness-sessions/a/b')).toBeUndefined();
    expect(matchRoute(r, '/api/liveness-sessions/a%20b')).toEqual({ id: 'a b' });
  });

  it('supports optional parameters, catch-all and defaults', () => {
    const opt = compileRoute('api/hello/{name?}');
    expect(matchRoute(opt, '/api/hello')).toEqual({});
    expect(matchRoute(opt, '/api/hello/x')).toEqual({ name: 'x' });
    const all = compileRoute('api/files/{*path}');
    expect(matchRoute(all, '/api/files/a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
    expect(matchRoute(all, '/api/files')).toEqual({});
    expect(matchRoute(compileRoute('api/page/{n:int=1}'), '/api/page')).toEqual({ n: '1' });
  });

  it('applies int, guid, alpha and parameterised constraints', () => {
    const r = compileRoute('x/{id:int}/{g:guid}/{a:alpha:minlength(2)}');
    expect(matchRoute(r, '/x/-5/3f2504e0-4f89-11d3-9a0c-0305e82c3301/ab')).toEqual({ id: '-5', g: '3f2504e0-4f89-11d3-9a0c-0305e82c3301', a: 'ab' });
    expect(matchRoute(r, '/x/5.1/3f2504e0-4f89-11d3-9a0c-0305e82c3301/ab')).toBeUndefined();
    expect(matchRoute(r, '/x/99999999999/3f2504e0-4f89-11d3-9a0c-0305e82c3301/ab')).toBeUndefined(); // > int32
    expect(matchRoute(r, '/x/5/not-a-guid/ab')).toBeUndefined();
    expect(matchRoute(r, '/x/5/3f2504e0-4f89-11d3-9a0c-0305e82c3301/a')).toBeUndefined();
    expect(matchRoute(r, '/x/5/3f2504e0-4f89-11d3-9a0c-0305e82c3301/a1')).toBeUndefined();
    expect(matchRoute(compileRoute('r/{n:range(1,3)}'), '/r/4')).toBeUndefined();
    expect(matchRoute(compileRoute('r/{s:regex(^a.c$)}'), '/r/abc')).toEqual({ s: 'abc' });
  });

  it('supports complex segments', () => {
    expect(matchRoute(compileRoute('img/{name}.{ext}'), '/img/face.v2.png')).toEqual({ name: 'face', ext: 'v2.png' });
  });

  it('rejects invalid templates', () => {
    expect(() => compileRoute('a/{id:nope}')).toThrow(/unsupported route constraint/);
    expect(() => compileRoute('a/{*rest}/b')).toThrow(/catch-all/);
    expect(() => compileRoute('a/{x?}/b')).toThrow(/optional/);
    expect(() => compileRoute('a/{x}/{x}')).toThrow(/duplicate/);
  });

  it('prefers literal over constrained over plain parameter over catch-all, independent of order', () => {
    const t = new RouteTable<string>();
    t.add('api/s/{*rest}', ['GET'], 'catchall');
    t.add('api/s/{id}', ['GET'], 'param');
    t.add('api/s/{id:int}', ['GET'], 'int');
    t.add('api/s/latest', ['GET'], 'literal');
    const pick = (p: string): string | undefined => { const r = t.resolve('GET', p); return r.kind === 'match' ? r.value : undefined; };
    expect(pick('/api/s/latest')).toBe('literal');
    expect(pick('/api/s/12')).toBe('int');
    expect(pick('/api/s/abc')).toBe('param');
    expect(pick('/api/s/a/b')).toBe('catchall');
  });

  it('resolves 405 (with allowed methods) versus 404', () => {
    const t = new RouteTable<string>();
    t.add('api/x/{id}', ['PUT', 'delete'], 'x');
    expect(t.resolve('GET', '/api/x/1')).toEqual({ kind: 'method-not-allowed', allow: ['DELETE', 'PUT'] });
    expect(t.resolve('GET', '/api/y')).toEqual({ kind: 'not-found' });
    expect(t.resolve('delete', '/api/x/1')).toMatchObject({ kind: 'match', params: { id: '1' } });
  });

  it('builds routes from registrations (prefix, default route = name)', () => {
    const reg = (name: string, trigger: Record<string, unknown>) => ({ metadata: { name, bindings: { t: { direction: 'in', ...trigger } as never } }, callback: () => undefined });
    const fns = httpFunctions([reg('health', { type: 'httpTrigger', methods: ['GET'], authLevel: 'anonymous' }), reg('q', { type: 'queueTrigger' })], 'api');
    expect(fns).toEqual([expect.objectContaining({ route: 'api/health', methods: ['GET'], authLevel: 'anonymous' })]);
    expect(httpFunctions([reg('h', { type: 'httpTrigger', route: '/x/{id}' })], '')[0]!.route).toBe('x/{id}');
  });
});

describe('auth keys', () => {
  it('are enforced only when configured', () => {
    expect(keyConfigFromEnv({}).enforce).toBe(false);
    expect(keyConfigFromEnv({ DEVHOST_ENFORCE_KEYS: '1' })).toEqual({ enforce: true, functionKey: 'dev-function-key', masterKey: 'dev-master-key' });
    const keys = keyConfigFromEnv({ DEVHOST_FUNCTION_KEY: 'f', DEVHOST_MASTER_KEY: 'm' });
    expect(authorized('anonymous', undefined, keys)).toBe(true);
    expect(authorized('function', undefined, keys)).toBe(false);
    expect(authorized('function', 'f', keys)).toBe(true);
    expect(authorized('function', 'm', keys)).toBe(true);
    expect(authorized('admin', 'f', keys)).toBe(false);
    expect(authorized('admin', 'm', keys)).toBe(true);
    expect(authorized('admin', undefined, keyConfigFromEnv({}))).toBe(true);
  });
});

describe('NCRONTAB and TimeSpan schedules', () => {
  it('every 5 minutes: 0 */5 * * * *', () => {
    const s = parseSchedule('0 */5 * * * *');
    expect(nextOccurrences(s, new Date('2026-11-25T10:03:20Z'), 3).map(iso)).toEqual(['2026-11-25T10:05:00.000Z', '2026-11-25T10:10:00.000Z', '2026-11-25T10:15:00.000Z']);
    expect(iso(nextOccurrence(s, new Date('2026-11-25T10:05:00Z')))).toBe('2026-11-25T10:10:00.000Z'); // strictly after
  });

  it('seconds field: */1 * * * * * and 30 0 9 * * 1-5', () => {
    expect(iso(nextOccurrence(parseSchedule('*/1 * * * * *'), new Date('2026-11-25T10:00:00.400Z')))).toBe('2026-11-25T10:00:01.000Z');
    // 2026-11-28 is a Saturday → next weekday is Monday 30 Nov
    expect(iso(nextOccurrence(parseSchedule('30 0 9 * * 1-5'), new Date('2026-11-27T10:00:00Z')))).toBe('2026-11-30T09:00:30.000Z');
  });

  it('day-of-month AND day-of-week (NCrontab), not OR (Vixie)', () => {
    // Friday the 13th at midnight: after 2026-01-01 the next ones are 2026-02-13 and 2026-03-13 (both Fridays)
    const s = parseSchedule('0 0 0 13 * 5');
    expect(nextOccurrences(s, new Date('2026-01-01T00:00:00Z'), 3).map(iso)).toEqual(['2026-02-13T00:00:00.000Z', '2026-03-13T00:00:00.000Z', '2026-11-13T00:00:00.000Z']);
  });

  it('time zone from WEBSITE_TIME_ZONE', () => {
    const s = parseSchedule('0 0 9 * * *', 'Europe/Berlin');
    expect(iso(nextOccurrence(s, new Date('2026-11-25T00:00:00Z')))).toBe('2026-11-25T08:00:00.000Z');
    expect(timerTimeZone({ WEBSITE_TIME_ZONE: 'Europe/Berlin' })).toEqual({ timezone: 'Europe/Berlin' });
    expect(timerTimeZone({ WEBSITE_TIME_ZONE: 'W. Europe Standard Time' })).toMatchObject({ timezone: 'UTC', warning: expect.any(String) });
    expect(timerTimeZone({})).toEqual({ timezone: 'UTC' });
  });

  it('TimeSpan schedules and parsing', () => {
    const s = parseSchedule('00:00:10');
    expect(s.kind).toBe('timespan');
    expect(iso(nextOccurrence(s, new Date('2026-11-25T10:00:00Z')))).toBe('2026-11-25T10:00:10.000Z');
    expect(parseTimeSpan('00:05:00')).toBe(300_000);
    expect(parseTimeSpan('1.02:03:04.5')).toBe(((26 * 60 + 3) * 60 + 4) * 1000 + 500);
    expect(parseTimeSpan('00:00:00.500')).toBe(500);
    expect(() => parseTimeSpan('5 minutes')).toThrow();
    expect(() => parseTimeSpan('00:61:00')).toThrow();
    expect(isTimeSpan('0 */5 * * * *')).toBe(false);
    expect(isTimeSpan('01:00:00')).toBe(true);
  });

  it('rejects malformed expressions', () => {
    expect(() => parseSchedule('* * *')).toThrow(/6 fields/);
    expect(() => parseSchedule('0 0 0 32 * *')).toThrow();
  });
});

describe('settings', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devhost-unit-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('copies local.settings.json Values without overriding existing variables', () => {
    fs.writeFileSync(path.join(dir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: { A: 'from-file', B: 'from-file', N: 5 }, Host: { LocalHttpPort: 7072 } }));
    const env: NodeJS.ProcessEnv = { A: 'from-env' };
    const result = loadLocalSettings(dir, env);
    expect(env).toEqual({ A: 'from-env', B: 'from-file', N: '5' });
    expect(result).toMatchObject({ found: true, applied: ['B', 'N'], localHttpPort: 7072 });
    expect(loadLocalSettings(path.join(dir, 'missing'), {})).toEqual({ values: {}, applied: [], found: false });
  });

  it('resolves %SETTING% references and fails on unknown ones', () => {
    expect(resolveSettingRefs('%Q%-poison', { Q: 'work' })).toBe('work-poison');
    expect(resolveSettingRefs('0 */5 * * * *', {})).toBe('0 */5 * * * *');
    expect(() => resolveSettingRefs('%MISSING%', {})).toThrow(/MISSING/);
  });

  it('reads host.json with defaults', () => {
    expect(parseHostJson({})).toEqual({ routePrefix: 'api', queues: { batchSize: 16, maxDequeueCount: 5, visibilityTimeoutMs: 0, maxPollingIntervalMs: 60_000, messageEncoding: 'base64' }, functionTimeoutMs: undefined });
    const repo = JSON.parse(fs.readFileSync(path.resolve('host.json'), 'utf8')) as unknown;
    expect(parseHostJson(repo)).toEqual({ routePrefix: 'api', queues: { batchSize: 16, maxDequeueCount: 5, visibilityTimeoutMs: 5000, maxPollingIntervalMs: 100, messageEncoding: 'base64' }, functionTimeoutMs: 300_000 });
    expect(parseHostJson({ extensions: { http: { routePrefix: '' } }, functionTimeout: '-1' })).toMatchObject({ routePrefix: '', functionTimeoutMs: undefined });
    expect(() => parseHostJson({ extensions: { queues: { batchSize: 64 } } })).toThrow(/batchSize/);
  });
});

describe('package.json main glob', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devhost-glob-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const touch = (p: string): void => { fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true }); fs.writeFileSync(path.join(dir, p), ''); };

  it('expands braces (nested) before globbing', () => {
    expect(expandBraces('dist/src/{index.js,functions/*.js}')).toEqual(['dist/src/index.js', 'dist/src/functions/*.js']);
    expect(expandBraces('a/{b,c/{d,e}}.js')).toEqual(['a/b.js', 'a/c/d.js', 'a/c/e.js']);
    expect(expandBraces('{x}.js')).toEqual(['{x}.js']);
  });

  it('matches files like the worker (the repo main glob)', () => {
    for (const f of ['dist/src/index.js', 'dist/src/functions/a.js', 'dist/src/functions/b.js', 'dist/src/functions/b.js.map', 'dist/src/functions/sub/c.js', 'dist/src/other.js']) touch(f);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ main: 'dist/src/{index.js,functions/*.js}' }));
    const rel = (files: string[]): string[] => files.map((f) => path.relative(dir, f).split(path.sep).join('/'));
    expect(rel(resolveEntryPoints(dir).files)).toEqual(['dist/src/functions/a.js', 'dist/src/functions/b.js', 'dist/src/index.js']);
    expect(rel(expandGlob(dir, 'dist/**/*.js'))).toEqual(['dist/src/functions/a.js', 'dist/src/functions/b.js', 'dist/src/functions/sub/c.js', 'dist/src/index.js', 'dist/src/other.js']);
    expect(rel(expandGlob(dir, 'dist/src/functions/?.js'))).toEqual(['dist/src/functions/a.js', 'dist/src/functions/b.js']);
    expect(expandGlob(dir, 'nothing/*.js')).toEqual([]);
  });
});

describe('queue message handling', () => {
  it('decodes base64 strictly and rejects anything else', () => {
    expect(decodeMessageText(Buffer.from('{"a":1}').toString('base64'), 'base64')).toBe('{"a":1}');
    expect(decodeMessageText('{"a":1}', 'base64')).toBeUndefined();
    expect(decodeMessageText('abc', 'base64')).toBeUndefined();
    expect(decodeMessageText('{"a":1}', 'none')).toBe('{"a":1}');
    expect(parseMessageValue('{"a":1}')).toEqual({ a: 1 });
    expect(parseMessageValue('hello')).toBe('hello');
    expect(toCamelCaseValue({ QueueTrigger: { InnerKey: [{ X: 1 }] } })).toEqual({ queueTrigger: { innerKey: [{ x: 1 }] } });
  });

  it('names poison queues like the host and validates names', () => {
    expect(poisonQueueName('work')).toBe('work-poison');
    expect(poisonQueueName('work-poison')).toBeUndefined();
    expect(poisonQueueName('a'.repeat(60))).toBeUndefined();
    expect(validateQueueName('liveness-completions')).toBe('liveness-completions');
    expect(() => validateQueueName('Bad_Name')).toThrow();
  });

  it('resolves connection settings', () => {
    expect(resolveConnectionString(undefined, { AzureWebJobsStorage: 'UseDevelopmentStorage=true' })).toBe('UseDevelopmentStorage=true');
    expect(resolveConnectionString('MyConn', { MyConn: 'cs' })).toBe('cs');
    expect(resolveConnectionString('MyConn', { AzureWebJobsMyConn: 'cs2' })).toBe('cs2');
    expect(() => resolveConnectionString('MyConn', { MyConn__queueServiceUri: 'https://x' })).toThrow(/identity-based/);
    expect(() => resolveConnectionString('Nope', {})).toThrow(/not set/);
  });
});

describe('Invoker', async () => {
  const { InvocationContext, HttpRequest, HttpResponse } = await import('@azure/functions');
  const { Invoker, FunctionTimeoutError } = await import('../../dev/host/invoke.js');
  const lib = { InvocationContext, HttpRequest, HttpResponse } as never;
  const registry = () => ({ registrations: [], hooks: { appStart: [], appTerminate: [], preInvocation: [], postInvocation: [], log: [] }, programmingModel: undefined, onSystemLog: () => {} }) as never as import('../../dev/host/core.js').CoreRegistry;
  const reg = (callback: (...a: unknown[]) => unknown) => ({ metadata: { name: 'f', bindings: { t: { type: 'queueTrigger', direction: 'in', queueName: 'q' } } }, callback });

  it('runs pre/postInvocation hooks around the handler with a real InvocationContext', async () => {
    const r = registry();
    const seen: string[] = [];
    r.hooks.preInvocation.push((c) => { seen.push('pre'); (c.inputs as unknown[])[0] = 'changed'; });
    r.hooks.postInvocation.push((c) => { seen.push(`post:${String(c.result)}`); c.result = 'post-result'; });
    const invoker = new Invoker(r, lib, undefined);
    const result = await invoker.invoke(reg((input, ctx) => { seen.push(`handler:${String(input)}:${(ctx as InstanceType<typeof InvocationContext>).options.trigger.type}`); return 'r'; }), ['orig'], { reason: 'test', triggerMetadata: { dequeueCount: 1 } });
    expect(result).toBe('post-result');
    expect(seen).toEqual(['pre', 'handler:changed:queueTrigger', 'post:r']);
  });

  it('fails an invocation that exceeds functionTimeout', async () => {
    const invoker = new Invoker(registry(), lib, 50);
    await expect(invoker.invoke(reg(() => new Promise((r) => setTimeout(r, 300))), [], { reason: 'test' })).rejects.toBeInstanceOf(FunctionTimeoutError);
    expect(await invoker.drain(1000)).toBe(true);
  });
});
