// The one polling helper (dev/eventually.ts) that the tests, the bench and the stack launcher wait with.
import { describe, expect, it } from 'vitest';
import { eventually, GiveUp } from '../../dev/eventually.js';

describe('eventually', () => {
  it('returns the first value that is not undefined, null or false', async () => {
    const answers: unknown[] = [undefined, null, false, 0, 'late'];
    let calls = 0;
    expect(await eventually(() => answers[calls++], 'a value', { intervalMs: 1 })).toBe(0);
    expect(calls).toBe(4);
  });

  it('tries again while the check throws, and times out with the last error and the context', async () => {
    let calls = 0;
    const wait = eventually(() => { calls++; throw new Error(`not yet (${calls})`); }, 'the impossible', {
      timeoutMs: 60, intervalMs: 5, context: () => 'server log: nothing happened',
    });
    await expect(wait).rejects.toThrow(/timed out after 60 ms .* waiting for the impossible; last error: not yet \(\d+\)\nserver log: nothing happened/);
    expect(calls).toBeGreaterThan(1);
  });

  it('stops at once on GiveUp', async () => {
    let calls = 0;
    await expect(eventually(() => { calls++; throw new GiveUp('the process exited'); }, 'a process', 10_000)).rejects.toThrow('the process exited');
    expect(calls).toBe(1);
  });

  it('waits for async checks', async () => {
    let ready = false;
    setTimeout(() => { ready = true; }, 20);
    expect(await eventually(async () => ready && 'ready', 'the flag', { intervalMs: 5 })).toBe('ready');
  });
});
