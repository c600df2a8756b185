// The per-subject rules as pure functions over a record (core/attempt-limits.ts, quota.ts, idempotency.ts): what the
// stores hand them and what they decide. The stores only store (test/contract holds them to that).
import { describe, expect, it } from 'vitest';
import { lockedForSeconds, withFailures } from '../../src/core/attempt-limits.js';
import { claimExpired, claimKey, completeClaim, IN_PROGRESS_TIMEOUT_MS } from '../../src/core/idempotency.js';
import type { LimitKey } from '../../src/core/ports.js';
import { releaseSlot, reserveSlot } from '../../src/core/quota.js';

const now = new Date('2026-01-01T09:00:00.000Z');
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
const policy = { maxFailures: 3, windowSeconds: 180, lockoutSeconds: 1800 };
const device: LimitKey = { kind: 'device', id: 'phone', subjectKey: 'a' };

describe('the lockout rule', () => {
  it('locks when the window fills, for the lockout time, rounded up to whole seconds', () => {
    const two = withFailures(undefined, device, now, 2, policy);
    expect(two).toEqual({ kind: 'device', failures: [now.getTime(), now.getTime()] });
    expect(lockedForSeconds(two, now)).toBe(0);
    const three = withFailures(two, device, at(10), 1, policy);
    expect(three.lockedUntil).toBe(at(1810).toISOString());
    expect(lockedForSeconds(three, at(10.5))).toBe(1800);
    expect(lockedForSeconds(three, at(1810))).toBe(0);
  });

  it('forgets failures older than the window, keeps at most twice the limit, and keeps a running lockout', () => {
    const old = withFailures(undefined, device, now, 2, policy);
    expect(withFailures(old, device, at(181), 1, policy)).toEqual({ kind: 'device', failures: [at(181).getTime()] });
    expect(withFailures(undefined, device, now, 50, policy).failures).toHaveLength(6);
    const locked = withFailures(undefined, device, now, 3, policy);
    expect(withFailures(locked, device, at(600), 1, policy).lockedUntil).toBe(locked.lockedUntil);
  });
});

describe('the quota rule', () => {
  const quota = { maxOpenSessions: 2, maxCreates: 3, windowSeconds: 3600 };

  it('grants a slot until the open sessions fill, then refuses until the first one expires; a refusal writes nothing', () => {
    const one = reserveSlot(undefined, 's1', at(600), now, quota);
    expect(one).toEqual({ next: { open: [{ id: 's1', expires: at(600).getTime() }], creates: [now.getTime()] }, result: undefined });
    const two = reserveSlot(one.next, 's2', at(900), at(10), quota);
    const refused = reserveSlot(two.next, 's3', at(1000), at(20), quota);
    expect(refused).toEqual({ result: { reason: 'OpenSessions', retryAfterSeconds: 580 } });
    expect(reserveSlot(two.next, 's3', at(1200), at(600), quota).result).toBeUndefined(); // s1's token expired
  });

  it('refuses creates past the window\'s cap until the oldest leaves the window; a release frees the slot', () => {
    let record = reserveSlot(undefined, 's1', at(60), now, quota).next;
    record = reserveSlot(releaseSlot(record, 's1').next, 's2', at(120), at(1), quota).next;
    record = reserveSlot(releaseSlot(record, 's2').next, 's3', at(180), at(2), quota).next;
    expect(releaseSlot(record, 'unknown')).toEqual({ result: undefined });
    expect(reserveSlot(releaseSlot(record, 's3').next, 's4', at(600), at(3), quota).result)
      .toEqual({ reason: 'CreateRate', retryAfterSeconds: 3597 });
  });
});

describe('the Idempotency-Key rule', () => {
  const claim = { requestHash: 'h', state: 'in-progress' as const, createdDateTime: now.toISOString(), claimId: 'mine' };
  const held = { ...claim, claimId: 'theirs' };

  it('claims a free key; a key held by another is answered with the holder (without its claim id), unwritten', () => {
    expect(claimKey(undefined, claim, now, 86_400)).toEqual({ next: claim, result: undefined });
    expect(claimKey(held, claim, at(1), 86_400)).toEqual({ result: { requestHash: 'h', state: 'in-progress', createdDateTime: now.toISOString() } });
  });

  it('our own claim (a write whose answer was lost) is ours: granted, nothing written again', () => {
    expect(claimKey(claim, claim, at(1), 86_400)).toEqual({ result: undefined });
  });

  it('takes over a claim in progress past the timeout, and any claim past the TTL', () => {
    expect(claimExpired(held, new Date(now.getTime() + IN_PROGRESS_TIMEOUT_MS), 86_400)).toBe(false);
    expect(claimKey(held, claim, new Date(now.getTime() + IN_PROGRESS_TIMEOUT_MS + 1), 86_400)).toEqual({ next: claim, result: undefined });
    const done = { ...held, state: 'done' as const, sessionId: 's' };
    expect(claimKey(done, claim, at(3600), 86_400).result).toMatchObject({ state: 'done', sessionId: 's' });
    expect(claimKey(done, claim, at(86_401), 86_400)).toEqual({ next: claim, result: undefined });
  });

  it('completes a claim that is there; a key gone meanwhile writes nothing', () => {
    expect(completeClaim(claim, 's1')).toEqual({ next: { ...claim, state: 'done', sessionId: 's1' }, result: true });
    expect(completeClaim(undefined, 's1')).toEqual({ result: false });
  });
});
