// Timer triggers as a singleton across instances, the way the Functions host runs them. The host wraps each timer's
// listener in a SingletonListener (azure-webjobs-sdk, Singleton/SingletonListener.cs; the extension's TimerListener
// carries [Singleton(Mode = SingletonMode.Listener)]): before the schedule starts, the instance takes a lease on the
// blob `azure-webjobs-hosts/locks/<hostId>/Host.Functions.<name>.Listener` (BlobLeaseDistributedLockManager), renews
// it while it runs, and releases it when it stops. An instance that does not get the lease makes one attempt at
// start-up and then tries again every `listenerLockRecoveryPollingInterval`; its schedule does not run meanwhile. So
// on many instances exactly one runs each timer, and when that instance dies its lease runs out (at most
// `listenerLockPeriod` later) and another instance takes over at its next attempt.
//
// host.json `singleton` (and, like every host.json value, the app setting `AzureFunctionsJobHost__singleton__<name>`)
// sets `listenerLockPeriod` (default 00:01:00) and `listenerLockRecoveryPollingInterval` (default 00:01:00); Azure
// Storage allows lease periods of 15 to 60 s, and the host refuses a recovery interval under 15 s.
//
// The host id: `AzureFunctionsWebHost__hostid` when set; else (as the host does on App Service) the site name; else,
// as the host does locally, the machine name and a stable hash of the app's folder. Lowercase, at most 32 characters,
// without trailing '-'. Instances of one app share it; two apps sharing a storage account must not.
import { createHash } from 'node:crypto';
import os from 'node:os';
import { BlobServiceClient, type BlobClient, type ContainerClient } from '@azure/storage-blob';
import { describeError, hostLog } from './log.js';
import { parseTimeSpan } from './settings.js';

export const HOSTS_CONTAINER = 'azure-webjobs-hosts';
const MIN_LEASE_MS = 15_000;
const MAX_LEASE_MS = 60_000;

export interface SingletonOptions {
  listenerLockPeriodMs: number;
  listenerLockRecoveryPollingIntervalMs: number;
}

export const DEFAULT_SINGLETON_OPTIONS: SingletonOptions = { listenerLockPeriodMs: 60_000, listenerLockRecoveryPollingIntervalMs: 60_000 };

/** host.json `singleton`, each value overridable by `AzureFunctionsJobHost__singleton__<name>` (TimeSpan strings). */
export function parseSingletonOptions(hostJsonSingleton: unknown, env: NodeJS.ProcessEnv = process.env): SingletonOptions {
  const section = (hostJsonSingleton ?? {}) as Record<string, unknown>;
  const value = (name: string, fallback: number): number => {
    const override = Object.entries(env).find(([k]) => k.toLowerCase() === `azurefunctionsjobhost__singleton__${name.toLowerCase()}`)?.[1];
    const raw = override ?? section[name];
    if (raw === undefined || raw === null || raw === '') return fallback;
    return parseTimeSpan(String(raw as string));
  };
  const listenerLockPeriodMs = value('listenerLockPeriod', DEFAULT_SINGLETON_OPTIONS.listenerLockPeriodMs);
  if (listenerLockPeriodMs < MIN_LEASE_MS || listenerLockPeriodMs > MAX_LEASE_MS) throw new Error('singleton.listenerLockPeriod must be between 00:00:15 and 00:01:00 (Azure Storage lease limits)');
  const listenerLockRecoveryPollingIntervalMs = value('listenerLockRecoveryPollingInterval', DEFAULT_SINGLETON_OPTIONS.listenerLockRecoveryPollingIntervalMs);
  if (listenerLockRecoveryPollingIntervalMs < MIN_LEASE_MS) throw new Error('singleton.listenerLockRecoveryPollingInterval must be at least 00:00:15');
  return { listenerLockPeriodMs, listenerLockRecoveryPollingIntervalMs };
}

/** The host id (see the header): shared by every instance of one app. */
export function hostIdFor(appRoot: string, env: NodeJS.ProcessEnv = process.env, machineName = os.hostname()): string {
  const configured = env.AzureFunctionsWebHost__hostid?.trim() ?? env['AzureFunctionsWebHost:hostid']?.trim();
  let id = configured || env.WEBSITE_SITE_NAME?.trim() || '';
  if (!id) {
    const machine = machineName.replace(/[^A-Za-z0-9]/g, '');
    const hash = createHash('sha256').update(appRoot).digest().readUInt32BE(0) & 0x7fffffff;
    id = `${machine}-${hash}`;
  }
  id = id.slice(0, 32).toLowerCase().replace(/-+$/, '');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new Error(`host id '${id}' must be lowercase letters, digits and dashes (AzureFunctionsWebHost__hostid)`);
  return id;
}

/** The lease blob of a timer function's listener: `locks/<hostId>/Host.Functions.<name>.Listener`. */
export function listenerLockBlobName(hostId: string, functionName: string): string {
  return `locks/${hostId}/Host.Functions.${functionName}.Listener`;
}

/** What the lock needs from storage (a blob lease); the Azure implementation is below, tests use a fake. */
export interface LeaseStore {
  /** The lease id, or undefined when another holder has it (409). */
  acquire(leaseId: string, periodMs: number): Promise<string | undefined>;
  /** True when renewed; false when the lease is lost (another holder, or the blob is gone). Throws on an outage. */
  renew(leaseId: string): Promise<boolean>;
  release(leaseId: string): Promise<void>;
}

export interface ListenerLockEvents {
  /** The lease is ours: start listening (the timer's schedule runs). */
  onAcquired(): void;
  /** The lease was lost: stop listening. */
  onLost(): void;
}

/**
 * One timer's listener lock (SingletonListener): one attempt at start, then one every recovery interval until it is
 * held; renewed every half lease period while held (sooner again after an outage); lost → stop listening and go back
 * to recovery attempts; released on stop.
 */
export class ListenerLock {
  private leaseId: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    readonly lockId: string,
    private readonly store: LeaseStore,
    private readonly options: SingletonOptions,
    private readonly events: ListenerLockEvents,
    private readonly newLeaseId: () => string,
  ) {}

  get held(): boolean { return this.leaseId !== undefined; }

  /** The first attempt (awaitable); later attempts and renewals run on timers. */
  start(): Promise<void> {
    return this.serial(() => this.tryAcquire());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A step stuck on unreachable storage must not hold the host's shutdown: the lease then simply runs out.
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([this.busy, new Promise<void>((resolve) => { waited = setTimeout(resolve, 5_000); })]);
    clearTimeout(waited);
    const leaseId = this.leaseId;
    this.leaseId = undefined;
    if (leaseId) {
      try { await this.store.release(leaseId); } catch (err) { hostLog(`Singleton lock release failed (${this.lockId}): ${describeError(err)}`, 'warning'); }
      hostLog(`Singleton lock released (${this.lockId})`);
    }
  }

  private serial(step: () => Promise<void>): Promise<void> {
    this.busy = this.busy.then(() => (this.stopped ? undefined : step()));
    return this.busy;
  }

  private schedule(ms: number, step: () => Promise<void>): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { void this.serial(step); }, ms);
    this.timer.unref?.();
  }

  private async tryAcquire(): Promise<void> {
    let leaseId: string | undefined;
    try {
      leaseId = await this.store.acquire(this.newLeaseId(), this.options.listenerLockPeriodMs);
    } catch (err) {
      hostLog(`Singleton lock for ${this.lockId} could not be requested: ${describeError(err)}. Trying again in ${this.options.listenerLockRecoveryPollingIntervalMs / 1000} s.`, 'warning');
    }
    if (this.stopped) { if (leaseId) await this.store.release(leaseId).catch(() => undefined); return; }
    if (!leaseId) {
      hostLog(`Unable to acquire Singleton lock (${this.lockId}): another instance runs this timer; trying again every ${this.options.listenerLockRecoveryPollingIntervalMs / 1000} s.`);
      this.schedule(this.options.listenerLockRecoveryPollingIntervalMs, () => this.tryAcquire());
      return;
    }
    this.leaseId = leaseId;
    hostLog(`Singleton lock acquired (${this.lockId})`);
    this.schedule(this.options.listenerLockPeriodMs / 2, () => this.renew());
    this.events.onAcquired();
  }

  private async renew(): Promise<void> {
    const leaseId = this.leaseId;
    if (!leaseId) return;
    let renewed: boolean;
    try {
      renewed = await this.store.renew(leaseId);
    } catch (err) {
      // An outage: try again soon, while the lease may still be ours (the host speeds up its renewals the same way).
      hostLog(`Singleton lock renewal failed for ${this.lockId}: ${describeError(err)}`, 'warning');
      this.schedule(Math.min(1_000, this.options.listenerLockPeriodMs / 4), () => this.renew());
      return;
    }
    if (renewed) { this.schedule(this.options.listenerLockPeriodMs / 2, () => this.renew()); return; }
    this.leaseId = undefined;
    hostLog(`Singleton lock lost (${this.lockId}): stopping the listener; trying again every ${this.options.listenerLockRecoveryPollingIntervalMs / 1000} s.`, 'warning');
    this.events.onLost();
    this.schedule(this.options.listenerLockRecoveryPollingIntervalMs, () => this.tryAcquire());
  }
}

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

/** Leases on one blob of `azure-webjobs-hosts` (BlobLeaseDistributedLockManager's calls). */
export class BlobLeaseStore implements LeaseStore {
  private readonly container: ContainerClient;
  private readonly blob: BlobClient;

  constructor(service: BlobServiceClient, blobName: string) {
    this.container = service.getContainerClient(HOSTS_CONTAINER);
    this.blob = this.container.getBlobClient(blobName);
  }

  static fromConnectionString(connectionString: string, blobName: string): BlobLeaseStore {
    return new BlobLeaseStore(BlobServiceClient.fromConnectionString(connectionString), blobName);
  }

  async acquire(leaseId: string, periodMs: number): Promise<string | undefined> {
    const seconds = Math.round(periodMs / 1000);
    try {
      return (await this.blob.getBlobLeaseClient(leaseId).acquireLease(seconds)).leaseId ?? leaseId;
    } catch (err) {
      if (statusOf(err) === 409) return undefined;
      if (statusOf(err) !== 404) throw err;
    }
    // The blob (or its container) does not exist yet: create it empty, then try once more.
    const block = this.blob.getBlockBlobClient();
    try {
      await block.upload('', 0);
    } catch (err) {
      if (statusOf(err) === 409 || statusOf(err) === 412) return undefined; // exists and leased by someone else
      if (statusOf(err) !== 404) throw err;
      await this.container.createIfNotExists();
      try { await block.upload('', 0); } catch (again) { if (statusOf(again) === 409 || statusOf(again) === 412) return undefined; throw again; }
    }
    try {
      return (await this.blob.getBlobLeaseClient(leaseId).acquireLease(seconds)).leaseId ?? leaseId;
    } catch (err) {
      if (statusOf(err) === 409) return undefined;
      throw err;
    }
  }

  async renew(leaseId: string): Promise<boolean> {
    try {
      await this.blob.getBlobLeaseClient(leaseId).renewLease();
      return true;
    } catch (err) {
      const status = statusOf(err);
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) return false; // 409 another lease, 404 gone
      throw err;
    }
  }

  async release(leaseId: string): Promise<void> {
    try {
      await this.blob.getBlobLeaseClient(leaseId).releaseLease();
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 409) return; // gone, or someone else's now: nothing to release
      throw err;
    }
  }
}
