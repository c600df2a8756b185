// Wires the pieces together: seam → settings → app import → appStart hooks → HTTP server, queue listeners, timers.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { installCoreSeam, scalarText, triggerOf, type Registration } from './core.js';
import { resolveEntryPoints } from './glob.js';
import { parseCors } from './cors.js';
import { createHttpServer, DEFAULT_REQUEST_TIMEOUT_MS, keyConfigFromEnv } from './http.js';
import { Invoker, type FunctionsLibrary } from './invoke.js';
import { describeError, enabled, hostLog, type LogLevel } from './log.js';
import { adminQueueInvocation, leaseSecondsFromEnv, QueueListener, resolveConnectionString, validateQueueName } from './queues.js';
import { parseSchedule, timerTimeZone } from './schedule.js';
import { loadLocalSettings, readHostConfig, resolveSettingRefs } from './settings.js';
import { TimerScheduler } from './timers.js';
import { BlobLeaseStore, HOSTS_CONTAINER, hostIdFor, ListenerLock, listenerLockBlobName, parseSingletonOptions } from './singleton.js';

export interface DevHostOptions {
  appRoot: string;
  /** Port to listen on; 0 = any free port. Default: PORT / FUNCTIONS_HTTPWORKER_PORT / Host.LocalHttpPort / 7071. */
  port?: number;
  /** Interface to bind; default DEVHOST_HOST or 127.0.0.1. */
  host?: string;
}

export interface RunningDevHost {
  url: string;
  port: number;
  registrations: Registration[];
  stop(): Promise<void>;
}

function loadFunctionsLibrary(appRoot: string): FunctionsLibrary {
  try {
    return createRequire(path.join(appRoot, 'package.json'))('@azure/functions') as FunctionsLibrary;
  } catch {
    return createRequire(import.meta.url)('@azure/functions') as FunctionsLibrary;
  }
}

export async function startDevHost(options: DevHostOptions): Promise<RunningDevHost> {
  const started = performance.now();
  const appRoot = path.resolve(options.appRoot);
  const registry = installCoreSeam();
  // The library reports app.setup({ enableHttpStream: true }) only through this system log line (its flag is internal);
  // test/e2e/edges-http.test.ts (a 60 MB body answered 401 before 10 MB) fails if a library upgrade changes it.
  let streaming = false;
  registry.onSystemLog = (level, _category, message) => {
    if (message === 'HTTP streaming enabled.') streaming = true;
    if (enabled(level)) hostLog(message, (level as LogLevel) ?? 'information');
  };

  const settings = loadLocalSettings(appRoot);
  if (settings.found) hostLog(`Loaded local.settings.json (${settings.applied.length} of ${Object.keys(settings.values).length} values applied; existing environment variables win).`);
  const hostConfig = readHostConfig(appRoot);
  const lib = loadFunctionsLibrary(appRoot);

  const { main, files } = resolveEntryPoints(appRoot);
  if (files.length === 0) throw new Error(`package.json main '${main}' matches no files under ${appRoot} (did you run the build?)`);
  for (const file of files) await import(pathToFileURL(file).href);

  const invoker = new Invoker(registry, lib, hostConfig.functionTimeoutMs);
  await invoker.runAppHooks('appStart', appRoot);

  const registrations = registry.registrations;
  const queueLeaseSeconds = leaseSecondsFromEnv();
  const listeners: QueueListener[] = [];
  const timers = new Map<string, TimerScheduler>();
  const lines: string[] = [];
  const keys = keyConfigFromEnv();
  const tz = timerTimeZone();
  if (tz.warning) hostLog(tz.warning, 'warning');

  const invokeNonHttp = (registration: Registration, input: unknown): void => {
    const trigger = triggerOf(registration.metadata);
    const type = trigger?.type.toLowerCase();
    const timer = timers.get(registration.metadata.name);
    if (type === 'timertrigger' && timer) { void timer.fireNow(); return; }
    const reason = 'This function was programmatically called via the host APIs.';
    let run: Promise<unknown>;
    if (type === 'queuetrigger') {
      const { value, triggerMetadata } = adminQueueInvocation(input);
      run = invoker.invoke(registration, [value], { reason, triggerMetadata });
    } else if (type === 'timertrigger') {
      const now = new Date().toISOString();
      run = invoker.invoke(registration, [{ schedule: { adjustForDST: true }, scheduleStatus: { last: now, next: now, lastUpdated: now }, isPastDue: false }], { reason });
    } else {
      run = invoker.invoke(registration, [typeof input === 'string' ? safeJson(input) : input], { reason });
    }
    run.catch(() => {}); // logged by the invoker
  };

  // DEVHOST_CORS (npm start and the page tests set it) wins over Host.CORS, like an environment variable over a setting.
  const cors = parseCors(process.env.DEVHOST_CORS ?? settings.cors, settings.corsCredentials);
  const { server, functions } = createHttpServer({
    registrations, routePrefix: hostConfig.routePrefix, invoker, lib, keys, admin: { invokeNonHttp }, streaming: () => streaming, cors,
    ...(process.env.DEVHOST_MAX_BODY_BYTES ? { maxBodyBytes: Number(process.env.DEVHOST_MAX_BODY_BYTES) } : {}),
    requestTimeoutMs: requestTimeoutFromEnv(),
  });
  const bindHost = options.host ?? process.env.DEVHOST_HOST ?? '127.0.0.1';
  const port = options.port ?? firstPort(process.env.PORT, process.env.FUNCTIONS_HTTPWORKER_PORT, settings.localHttpPort, 7071);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bindHost, () => { server.off('error', reject); resolve(); });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const displayHost = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  const url = `http://${displayHost}:${actualPort}`;

  for (const registration of registrations) {
    const name = registration.metadata.name;
    const trigger = triggerOf(registration.metadata);
    const type = trigger?.type.toLowerCase();
    try {
      if (!trigger) throw new Error('no trigger binding');
      if (type === 'httptrigger') {
        const f = functions.find((x) => x.registration === registration)!;
        lines.push(`  ${name}: [${f.methods.join(',')}] ${url}/${f.route} (authLevel=${f.authLevel})`);
      } else if (type === 'queuetrigger') {
        const queueName = validateQueueName(resolveSettingRefs(scalarText(trigger.queueName)).toLowerCase());
        const connectionString = resolveConnectionString(trigger.connection);
        const listener = new QueueListener({ registration, queueName, connectionString, options: hostConfig.queues, invoker, leaseSeconds: queueLeaseSeconds });
        listeners.push(listener);
        lines.push(`  ${name}: queueTrigger '${queueName}'${listener.poison ? ` (poison: '${listener.poison.name}')` : ' (no poison queue)'}`);
      } else if (type === 'timertrigger') {
        const expression = resolveSettingRefs(scalarText(trigger.schedule));
        const scheduler = new TimerScheduler(registration, parseSchedule(expression, tz.timezone), trigger.runOnStartup === true, invoker);
        timers.set(name, scheduler);
        lines.push(`  ${name}: timerTrigger '${expression}' (${tz.timezone}${trigger.runOnStartup ? ', runOnStartup' : ''})`);
      } else {
        lines.push(`  ${name}: ${trigger.type} is not supported by the dev host (run it with POST ${url}/admin/functions/${name})`);
      }
      const unsupported = Object.entries(registration.metadata.bindings).filter(([key, b]) => !/trigger$/i.test(b.type) && !(key === '$return' && b.type === 'http'));
      if (unsupported.length) hostLog(`Function '${name}': bindings ${unsupported.map(([k, b]) => `${k} (${b.type})`).join(', ')} are not implemented by the dev host; use the SDKs directly.`, 'warning');
    } catch (err) {
      lines.push(`  ${name}: ERROR ${err instanceof Error ? err.message : String(err)} (function disabled)`);
      hostLog(`The '${name}' function is in error: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  }

  for (const listener of listeners) listener.start();
  // Timers run as singletons across instances (singleton.ts): each listens only while this instance holds its lease.
  const locks: ListenerLock[] = [];
  if (timers.size > 0) {
    let storage: string | undefined;
    try { storage = resolveConnectionString(undefined); } catch { storage = undefined; }
    if (!storage) {
      hostLog('AzureWebJobsStorage is not set: timers run without the singleton lock (as the host does with in-memory locks); several instances would all run them.', 'warning');
      for (const timer of timers.values()) timer.start();
    } else {
      const hostId = hostIdFor(appRoot);
      const singleton = parseSingletonOptions(hostConfig.singleton);
      hostLog(`Timers are singletons across instances: host id '${hostId}', lease ${singleton.listenerLockPeriodMs / 1000} s, recovery every ${singleton.listenerLockRecoveryPollingIntervalMs / 1000} s.`);
      for (const [name, timer] of timers) {
        const blobName = listenerLockBlobName(hostId, name);
        locks.push(new ListenerLock(`${HOSTS_CONTAINER}/${blobName}`, BlobLeaseStore.fromConnectionString(storage, blobName), singleton,
          { onAcquired: () => timer.start(), onLost: () => timer.pause() }, () => randomUUID()));
      }
    }
  }
  await Promise.all(locks.map((lock) => lock.start()));
  hostLog(`Functions (${registrations.length}) loaded from ${files.length} file(s) matching '${main}':`);
  if (registrations.length === 0) hostLog('  No job functions found.', 'warning');
  for (const line of lines) hostLog(line);
  if (streaming) hostLog('HTTP streaming on (app.setup({ enableHttpStream: true })): functions read request bodies as they arrive.');
  if (cors) hostLog(`CORS: allowed origins ${cors.allowedOrigins.join(', ')}${cors.credentials ? ' (with credentials)' : ''}`);
  hostLog(`Keys ${keys.enforce ? 'enforced (x-functions-key header or code= query)' : 'not enforced (like func start); set DEVHOST_ENFORCE_KEYS=1 to mimic Azure'}`);
  hostLog(`Dev host listening on ${url} (started in ${Math.round(performance.now() - started)} ms)`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= (async () => {
    hostLog('Stopping the dev host...');
    server.close();
    await Promise.all([...listeners.map((l) => l.stop()), ...[...timers.values()].map((t) => t.stop())]);
    await Promise.all(locks.map((lock) => lock.stop()));
    if (!(await invoker.drain(10_000))) hostLog(`${invoker.activeInvocations} invocation(s) still running; not waiting any longer.`, 'warning');
    try { await invoker.runAppHooks('appTerminate', appRoot); } catch (err) { hostLog(`appTerminate hook failed: ${describeError(err)}`, 'error'); }
    server.closeAllConnections();
    hostLog('Dev host stopped.');
  })());

  return { url, port: actualPort, registrations, stop };
}

/** DEVHOST_REQUEST_TIMEOUT_SECONDS (default 230, Azure's limit for any HTTP request; 0 = none) in ms. */
function requestTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DEVHOST_REQUEST_TIMEOUT_SECONDS?.trim();
  if (!raw) return DEFAULT_REQUEST_TIMEOUT_MS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`DEVHOST_REQUEST_TIMEOUT_SECONDS must be a number of seconds >= 0 (got '${raw}')`);
  return Math.round(seconds * 1000);
}

function firstPort(...candidates: (string | number | undefined)[]): number {
  for (const c of candidates) {
    if (c === undefined || c === '') continue;
    const n = Number(c);
    if (Number.isInteger(n) && n >= 0 && n < 65536) return n;
  }
  return 7071;
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text) as unknown; } catch { return text; }
}
