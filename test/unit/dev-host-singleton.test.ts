// The dev host's timer singleton (dev/host/singleton.ts): the listener lock's rules over an in-memory blob lease with a
// fake clock (several instances, one lease), and the names and settings it takes from the real host.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_SINGLETON_OPTIONS, hostIdFor, ListenerLock, listenerLockBlobName, parseSingletonOptions, type LeaseStore,
} from '../../dev/host/singleton.js';

/** One blob's lease as Azure Storage keeps it: one holder until its period runs out unless renewed in time. */
class FakeLeaseBlob {
  holder: string | undefined;
  expires = 0;
  outage = false;
  private live(): string | undefined { return this.holder && Date.now() < this.expires ? this.holder : undefined; }
  store(instance: { dead: boolean }): LeaseStore {
    const never = new Promise<never>(() => {});
    return {
      acquire: async (leaseId, periodMs) => {
        if (instance.dead) return never;
        if (this.outage) throw Object.assign(new Error('503'), { statusCode: 503 });
        const live = this.live();
        if (live && live !== leaseId) return undefined;
        this.holder = leaseId;
        this.expires = Date.now() + periodMs;
        this.period = periodMs;
        return leaseId;
      },
      renew: async (leaseId) => {
        if (instance.dead) return never;
        if (this.outage) throw Object.assign(new Error('503'), { statusCode: 503 });
        if (this.live() !== leaseId) return false;
        this.expires = Date.now() + this.period;
        return true;
      },
      release: async (leaseId) => {
        if (this.live() === leaseId) this.holder = undefined;
      },
    };
  }
  private period = 0;
}

const OPTIONS = { listenerLockPeriodMs: 15_000, listenerLockRecoveryPollingIntervalMs: 15_000 };

interface Instance { lock: ListenerLock; listening: boolean; acquired: number; lost: number; dead: boolean }

function instances(blob: FakeLeaseBlob, count: number): Instance[] {
  let ids = 0;
  return Array.from({ length: count }, (_, i) => {
    const instance = { listening: false, acquired: 0, lost: 0, dead: false } as Instance;
    instance.lock = new ListenerLock(`locks/host/Host.Functions.tick.Listener#${i}`, blob.store(instance), OPTIONS, {
      onAcquired: () => { instance.listening = true; instance.acquired++; },
      onLost: () => { instance.listening = false; instance.lost++; },
    }, () => `lease-${i}-${ids++}`);
    return instance;
  });
}

const listening = (all: Instance[]) => all.filter((i) => i.listening && !i.dead);

describe('listener lock (one timer, several instances)', () => {
  beforeEach(() => { vi.useFakeTimers(); vi.spyOn(process.stdout, 'write').mockReturnValue(true); vi.spyOn(process.stderr, 'write').mockReturnValue(true); });
  afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

  it('exactly one of three instances listens, and keeps the lease through renewals', async () => {
    const blob = new FakeLeaseBlob();
    const all = instances(blob, 3);
    await Promise.all(all.map((i) => i.lock.start()));
    expect(listening(all)).toHaveLength(1);
    const holder = listening(all)[0]!;
    await vi.advanceTimersByTimeAsync(5 * 60_000); // many lease periods and recovery attempts
    expect(listening(all)).toEqual([holder]);
    expect(all.map((i) => i.acquired)).toEqual(all.map((i) => (i === holder ? 1 : 0)));
    expect(holder.lost).toBe(0);
  });

  it('when the holder dies, another instance takes over within one lease period plus one recovery interval', async () => {
    const blob = new FakeLeaseBlob();
    const all = instances(blob, 3);
    await Promise.all(all.map((i) => i.lock.start()));
    const first = listening(all)[0]!;
    first.dead = true; // SIGKILL: no renewal, no release
    await vi.advanceTimersByTimeAsync(OPTIONS.listenerLockPeriodMs + OPTIONS.listenerLockRecoveryPollingIntervalMs);
    const now = listening(all);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(listening(all)).toEqual(now);
  });

  it('a stopped instance releases its lease; the next recovery attempt of another takes it', async () => {
    const blob = new FakeLeaseBlob();
    const all = instances(blob, 2);
    await Promise.all(all.map((i) => i.lock.start()));
    const [holder] = listening(all);
    await holder!.lock.stop();
    holder!.listening = false;
    expect(blob.holder).toBeUndefined();
    await vi.advanceTimersByTimeAsync(OPTIONS.listenerLockRecoveryPollingIntervalMs);
    expect(listening(all)).toHaveLength(1);
    expect(listening(all)[0]).not.toBe(holder);
  });

  it('a lost lease stops the listener (onLost) and the instance goes back to recovery attempts', async () => {
    const blob = new FakeLeaseBlob();
    const [a] = instances(blob, 1);
    await a!.lock.start();
    expect(a!.listening).toBe(true);
    blob.holder = 'someone-else'; // another holder took it (e.g. our renewals were too late)
    blob.expires = Date.now() + 20_000;
    await vi.advanceTimersByTimeAsync(OPTIONS.listenerLockPeriodMs / 2);
    expect(a!.lost).toBe(1);
    expect(a!.listening).toBe(false);
    await vi.advanceTimersByTimeAsync(OPTIONS.listenerLockRecoveryPollingIntervalMs + 5_000); // theirs ran out
    expect(a!.listening).toBe(true);
    expect(a!.acquired).toBe(2);
  });

  it('a storage outage during renewal is retried sooner and does not give the lease up while it lasts', async () => {
    const blob = new FakeLeaseBlob();
    const [a] = instances(blob, 1);
    await a!.lock.start();
    blob.outage = true;
    await vi.advanceTimersByTimeAsync(OPTIONS.listenerLockPeriodMs / 2 + 3_000);
    blob.outage = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(a!.lost).toBe(0);
    expect(a!.listening).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(a!.lost).toBe(0);
  });

  it('an instance that cannot reach storage at start keeps trying and listens once it can', async () => {
    const blob = new FakeLeaseBlob();
    blob.outage = true;
    const [a] = instances(blob, 1);
    await a!.lock.start();
    expect(a!.listening).toBe(false);
    blob.outage = false;
    await vi.advanceTimersByTimeAsync(OPTIONS.listenerLockRecoveryPollingIntervalMs);
    expect(a!.listening).toBe(true);
  });
});

describe('names and settings as the real host has them', () => {
  it('the lease blob is locks/<hostId>/Host.Functions.<name>.Listener', () => {
    expect(listenerLockBlobName('my-app', 'liveness-sweep')).toBe('locks/my-app/Host.Functions.liveness-sweep.Listener');
  });

  it('host id: AzureFunctionsWebHost__hostid, else the site name, else machine + app folder; lowercase, ≤ 32, no trailing dash', () => {
    expect(hostIdFor('/app', { AzureFunctionsWebHost__hostid: 'Shared-Id' }, 'box')).toBe('shared-id');
    expect(hostIdFor('/app', { WEBSITE_SITE_NAME: 'TEST-FUNCTIONS-XXXXXXXXXXXXXXXX-XXXX' }, 'box')).toBe('test-functions-xxxxxxxxxxxxxxxx');
    const local = hostIdFor('/app/one', {}, 'My_Box.local');
    expect(local).toMatch(/^myboxlocal-\d+$/);
    expect(hostIdFor('/app/one', {}, 'My_Box.local')).toBe(local); // stable: every instance of the app agrees
    expect(hostIdFor('/app/two', {}, 'My_Box.local')).not.toBe(local);
    expect(() => hostIdFor('/app', { AzureFunctionsWebHost__hostid: 'no spaces' })).toThrow(/host id/);
  });

  it('singleton periods: host.json, app-setting overrides, Azure Storage lease bounds', () => {
    expect(parseSingletonOptions(undefined, {})).toEqual(DEFAULT_SINGLETON_OPTIONS);
    expect(parseSingletonOptions({ listenerLockPeriod: '00:00:30' }, {})).toEqual({ listenerLockPeriodMs: 30_000, listenerLockRecoveryPollingIntervalMs: 60_000 });
    expect(parseSingletonOptions({ listenerLockPeriod: '00:00:30' }, {
      AzureFunctionsJobHost__singleton__listenerLockPeriod: '00:00:15', AzureFunctionsJobHost__singleton__listenerLockRecoveryPollingInterval: '00:00:20',
    })).toEqual({ listenerLockPeriodMs: 15_000, listenerLockRecoveryPollingIntervalMs: 20_000 });
    expect(() => parseSingletonOptions({ listenerLockPeriod: '00:00:10' }, {})).toThrow(/between/);
    expect(() => parseSingletonOptions({ listenerLockPeriod: '00:02:00' }, {})).toThrow(/between/);
    expect(() => parseSingletonOptions({ listenerLockRecoveryPollingInterval: '00:00:05' }, {})).toThrow(/at least/);
  });
});
