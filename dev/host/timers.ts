// Timer triggers: NCRONTAB / TimeSpan schedules (see schedule.ts), runOnStartup, and no overlapping runs (the next
// occurrence is computed after a run finishes; occurrences missed during a long run are skipped, like the host's
// singleton timer). There is no persisted schedule monitor: `isPastDue` is true only when at least one whole
// occurrence was missed (e.g. the process was suspended), which is what the host's monitor reports after downtime.
import type { Registration } from './core.js';
import type { Invoker } from './invoke.js';
import { describeError, hostLog } from './log.js';
import { nextOccurrence, type Schedule } from './schedule.js';

const MAX_TIMEOUT_MS = 2_147_483_647;

export interface TimerInfo {
  schedule: { adjustForDST: boolean };
  scheduleStatus: { last: string; next: string; lastUpdated: string };
  isPastDue: boolean;
}

export class TimerScheduler {
  private handle: NodeJS.Timeout | undefined;
  private stopped = false;
  private listening = false;
  private chain: Promise<void> = Promise.resolve();
  private last: Date | undefined;
  private lastUpdated = new Date();
  next: Date | null = null;

  constructor(
    private readonly registration: Registration,
    readonly schedule: Schedule,
    private readonly runOnStartup: boolean,
    private readonly invoker: Invoker,
  ) {}

  /**
   * Starts listening: the schedule runs (and runOnStartup fires) from now on. With the singleton lock this happens
   * when this instance takes the timer's lease, which may be long after the host started (as in the real host).
   */
  start(): void {
    if (this.stopped || this.listening) return;
    this.listening = true;
    if (this.runOnStartup) void this.enqueue(false, 'Timer fired at startup (runOnStartup).').then(() => this.arm());
    else this.arm();
  }

  /** Stops listening (the lease went to another instance): no more scheduled runs; a run in progress finishes. */
  pause(): void {
    this.listening = false;
    clearTimeout(this.handle);
  }

  get isListening(): boolean { return this.listening; }

  stop(): Promise<void> {
    this.stopped = true;
    this.pause();
    return this.chain;
  }

  /** Runs the function now (admin API); waits for a run in progress first, so runs never overlap. */
  fireNow(reason = 'This function was programmatically called via the host APIs.'): Promise<void> {
    return this.enqueue(false, reason);
  }

  private enqueue(isPastDue: boolean, reason: string): Promise<void> {
    const run = this.chain.then(async () => {
      const now = new Date();
      const next = nextOccurrence(this.schedule, now);
      const info: TimerInfo = {
        schedule: { adjustForDST: true },
        scheduleStatus: { last: (this.last ?? new Date(0)).toISOString(), next: (next ?? now).toISOString(), lastUpdated: this.lastUpdated.toISOString() },
        isPastDue,
      };
      try {
        await this.invoker.invoke(this.registration, [info], { reason });
      } catch {
        // logged by the invoker; a failed timer run is not retried (no retry policy)
      }
      this.last = now;
      this.lastUpdated = new Date();
    });
    this.chain = run.catch(() => {});
    return this.chain;
  }

  private arm(): void {
    clearTimeout(this.handle);
    if (this.stopped || !this.listening) return;
    let next: Date | null;
    try { next = nextOccurrence(this.schedule, new Date()); } catch (err) { hostLog(`Timer '${this.registration.metadata.name}' cannot be scheduled: ${describeError(err)}`, 'error'); return; }
    this.next = next;
    if (!next) { hostLog(`Timer '${this.registration.metadata.name}' has no future occurrence.`, 'warning'); return; }
    const wait = (): void => {
      const remaining = next.getTime() - Date.now();
      if (remaining > MAX_TIMEOUT_MS) { this.handle = setTimeout(wait, MAX_TIMEOUT_MS); return; }
      this.handle = setTimeout(() => {
        if (this.stopped || !this.listening) return;
        const firedAt = new Date();
        const following = nextOccurrence(this.schedule, next);
        const isPastDue = !!following && firedAt.getTime() >= following.getTime();
        void this.enqueue(isPastDue, `Timer fired at ${firedAt.toISOString()}`).then(() => this.arm());
      }, Math.max(0, remaining));
    };
    wait();
  }
}
