// Settings the dev host reads the way the Functions host / `func start` do:
//  - local.settings.json "Values" are copied into process.env, but variables that are already set win;
//  - host.json supplies the route prefix, the queue options and functionTimeout;
//  - "%NAME%" in binding properties (queue names, schedules) resolves against app settings (= environment).
import fs from 'node:fs';
import path from 'node:path';
import { scalarText } from './core.js';

/** Parses a .NET TimeSpan string `[d.]hh:mm:ss[.fffffff]` into milliseconds. Throws on anything else. */
export function parseTimeSpan(value: string): number {
  const m = /^\s*(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?\s*$/.exec(value);
  if (!m) throw new Error(`'${value}' is not a TimeSpan ([d.]hh:mm:ss[.fff])`);
  const [, neg, days, hh, mm, ss, frac] = m;
  const hours = Number(hh), minutes = Number(mm), seconds = Number(ss);
  if (hours > 23 || minutes > 59 || seconds > 59) throw new Error(`'${value}' is not a valid TimeSpan`);
  const ms = (((Number(days ?? 0) * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000 + (frac ? Number(`0.${frac}`) * 1000 : 0);
  return neg ? -ms : ms;
}

/** True when the string looks like a TimeSpan rather than an NCRONTAB expression (cron never contains ':'). */
export function isTimeSpan(value: string): boolean {
  return /^\s*-?(?:\d+\.)?\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d{1,7})?\s*$/.test(value);
}

export interface LocalSettings {
  /** Values read from the file (strings). */
  values: Record<string, string>;
  /** Names that were copied into the environment (the others were already set). */
  applied: string[];
  /** `Host.LocalHttpPort`, if present. */
  localHttpPort?: number;
  /** `Host.CORS` (comma-separated origins) and `Host.CORSCredentials`, as `func start` reads them. */
  cors?: string;
  corsCredentials?: boolean;
  /** Whether a local.settings.json file existed. */
  found: boolean;
}

/** Reads `<appRoot>/local.settings.json` and copies its Values into `env` without overriding existing variables. */
export function loadLocalSettings(appRoot: string, env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const file = path.join(appRoot, 'local.settings.json');
  if (!fs.existsSync(file)) return { values: {}, applied: [], found: false };
  const raw = JSON.parse(stripBom(fs.readFileSync(file, 'utf8'))) as {
    IsEncrypted?: boolean; Values?: Record<string, unknown>; Host?: { LocalHttpPort?: unknown; CORS?: unknown; CORSCredentials?: unknown };
  };
  if (raw.IsEncrypted === true) throw new Error(`${file} is encrypted; the dev host only reads plain settings`);
  const values: Record<string, string> = {};
  const applied: string[] = [];
  for (const [name, value] of Object.entries(raw.Values ?? {})) {
    if (value === null || value === undefined) continue;
    values[name] = typeof value === 'string' ? value : JSON.stringify(value);
    if (env[name] === undefined) { env[name] = values[name]; applied.push(name); }
  }
  const port = Number(raw.Host?.LocalHttpPort);
  return {
    values, applied, found: true,
    ...(Number.isInteger(port) && port > 0 ? { localHttpPort: port } : {}),
    ...(typeof raw.Host?.CORS === 'string' ? { cors: raw.Host.CORS } : {}),
    ...(raw.Host?.CORSCredentials === true ? { corsCredentials: true } : {}),
  };
}

export interface QueueOptions {
  batchSize: number;
  maxDequeueCount: number;
  visibilityTimeoutMs: number;
  maxPollingIntervalMs: number;
  messageEncoding: 'base64' | 'none';
}

export interface HostConfig {
  /** Route prefix without slashes ('' allowed). */
  routePrefix: string;
  queues: QueueOptions;
  /** host.json functionTimeout in ms; undefined when absent or "-1" (unbounded). */
  functionTimeoutMs: number | undefined;
  /** host.json `singleton` as written (singleton.ts parses it, with its app-setting overrides). */
  singleton: unknown;
}

/** Defaults of the Storage Queues extension 5.x (QueuesOptions) and the HTTP extension. */
export const DEFAULT_QUEUE_OPTIONS: QueueOptions = {
  batchSize: 16,
  maxDequeueCount: 5,
  visibilityTimeoutMs: 0,
  maxPollingIntervalMs: 60_000,
  messageEncoding: 'base64',
};

export function parseHostJson(json: unknown): HostConfig {
  const host = (json ?? {}) as {
    functionTimeout?: unknown;
    singleton?: unknown;
    extensions?: { http?: { routePrefix?: unknown }; queues?: Record<string, unknown> };
  };
  const q = host.extensions?.queues ?? {};
  const ts = (v: unknown, dflt: number): number => (v === undefined || v === null ? dflt : parseTimeSpan(scalarText(v)));
  const batchSize = q.batchSize === undefined ? DEFAULT_QUEUE_OPTIONS.batchSize : Number(q.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 32) throw new Error(`host.json queues.batchSize must be 1..32 (got ${scalarText(q.batchSize, JSON.stringify(q.batchSize))})`);
  const maxDequeueCount = q.maxDequeueCount === undefined ? DEFAULT_QUEUE_OPTIONS.maxDequeueCount : Number(q.maxDequeueCount);
  if (!Number.isInteger(maxDequeueCount) || maxDequeueCount < 1) throw new Error('host.json queues.maxDequeueCount must be >= 1');
  const encoding = scalarText(q.messageEncoding, 'base64').toLowerCase();
  if (encoding !== 'base64' && encoding !== 'none') throw new Error(`host.json queues.messageEncoding must be base64 or none (got ${encoding})`);
  const timeout = host.functionTimeout === undefined || scalarText(host.functionTimeout).trim() === '-1' ? undefined : parseTimeSpan(scalarText(host.functionTimeout));
  return {
    routePrefix: scalarText(host.extensions?.http?.routePrefix, 'api').replace(/^\/+|\/+$/g, ''),
    queues: {
      batchSize,
      maxDequeueCount,
      visibilityTimeoutMs: ts(q.visibilityTimeout, DEFAULT_QUEUE_OPTIONS.visibilityTimeoutMs),
      // the extension enforces a 100 ms minimum
      maxPollingIntervalMs: Math.max(100, ts(q.maxPollingInterval, DEFAULT_QUEUE_OPTIONS.maxPollingIntervalMs)),
      messageEncoding: encoding,
    },
    functionTimeoutMs: timeout !== undefined && timeout > 0 ? timeout : undefined,
    singleton: host.singleton,
  };
}

export function readHostConfig(appRoot: string): HostConfig {
  const file = path.join(appRoot, 'host.json');
  return parseHostJson(fs.existsSync(file) ? JSON.parse(stripBom(fs.readFileSync(file, 'utf8'))) : {});
}

/**
 * Resolves `%NAME%` references against app settings like the host's INameResolver does.
 * An unresolved reference is an error (the real host refuses to index the function).
 */
export function resolveSettingRefs(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const resolved = env[name];
    if (resolved === undefined) throw new Error(`'%${name}%' does not resolve to a value (app setting '${name}' is not set)`);
    return resolved;
  });
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
