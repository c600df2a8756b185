// Poll until something holds: the one wait used by the tests, the bench and the stack launcher instead of fixed
// sleeps. A check "holds" when it returns anything but undefined, null or false; a check that throws (an `expect` that does
// not pass yet, a request refused while a server starts) is tried again, and its last error is reported on timeout.
//
// Timing uses node:timers/promises and process.hrtime, which vitest's fake timers leave alone, so a test that fakes
// the clock can still wait for real work.
import { setTimeout as delay } from 'node:timers/promises';

export interface EventuallyOptions {
  /** Give up after this long. Default 15 s. */
  timeoutMs?: number;
  /** Pause between tries. Default 50 ms. */
  intervalMs?: number;
  /** Appended to the timeout message (e.g. a server's log), read only when the wait fails. */
  context?: () => string;
}

/** Thrown from a check to stop polling at once (e.g. the process being waited for has exited). */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

const elapsedMs = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e6;

/**
 * Calls `check` until it returns a value other than undefined, null or false (so a RegExp exec works as a check),
 * and returns that value. `what` names the awaited state for the timeout message; `options` may be a timeout in ms.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  options: EventuallyOptions | number = {},
): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 15_000, intervalMs = 50, context } = typeof options === 'number' ? { timeoutMs: options } as EventuallyOptions : options;
  const started = process.hrtime.bigint();
  let lastError: unknown;
  let tries = 0;
  for (;;) {
    tries++;
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
      lastError = undefined;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      lastError = error;
    }
    if (elapsedMs(started) >= timeoutMs) {
      const last = lastError === undefined ? 'the check never held'
        : `last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
      const more = context ? `\n${context()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms (${tries} tries) waiting for ${what}; ${last}${more}`, { cause: lastError });
    }
    await delay(intervalMs);
  }
}
