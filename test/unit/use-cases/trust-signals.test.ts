// Digest binding and Face v1.3 abuse monitoring: the pure rules (src/core/trust-signals.ts), and the use cases that
// apply them (complete, collect, start, the correlation-id reset) in-process over the fakes.
import { describe, expect, it } from 'vitest';
import { requestCompletion } from '../../../src/core/complete-session.js';
import type { Decision } from '../../../src/core/decision.js';
import { ValidationError } from '../../../src/core/errors.js';
import type { AuditEntry } from '../../../src/core/session.js';
import { resetCorrelationId } from '../../../src/core/correlation-ids.js';
import { acceptedDigest, abuseFinding, applyAbusePolicy, bindDigest } from '../../../src/core/trust-signals.js';
import { deliverQueued, fakeWorld, sha256Upper, startFor, type FakeWorld } from '../../fakes/index.js';

const DIGEST = 'AB'.repeat(32);
const decision = (outcome: Decision['outcome'], reasons: string[] = []): Decision => ({
  outcome, reasons, attemptId: 1, verifyImageHashMatches: true, policyVersion: 'p', decidedDateTime: '2026-01-01T00:00:00.000Z',
});
const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: 1, sessionId: 's', attemptStatus: 'Succeeded', digest: DIGEST, response: { body: {} }, collectedDateTime: '2026-01-01T00:00:00.000Z', ...over,
});
const flagged = (others: Array<{ sessionId: string; attemptId: number }>, id = 1) =>
  entry({ id, abuseMonitoringResult: { isAbuseDetected: true, otherFlaggedSessions: others } });

describe('digest binding (pure)', () => {
  it('accepts a digest as the setting says, and refuses a missing one only when required', () => {
    expect(acceptedDigest('off', DIGEST.toLowerCase())).toBeUndefined();
    expect(acceptedDigest('optional', undefined)).toBeUndefined();
    expect(acceptedDigest('optional', DIGEST.toLowerCase())).toBe(DIGEST);
    expect(() => acceptedDigest('required', undefined)).toThrow(ValidationError);
    expect(acceptedDigest('required', DIGEST)).toBe(DIGEST);
  });

  it("fails a decision whose reported digest is not Face's, in any outcome; keeps it when equal", () => {
    for (const outcome of ['pass', 'review', 'retry', 'fail'] as const) {
      const bound = bindDigest(decision(outcome, ['X']), entry(), 'CD'.repeat(32), 'optional');
      expect(bound).toMatchObject({ outcome: 'fail', reasons: ['DigestMismatch', 'X'], digestMatches: false });
    }
    expect(bindDigest(decision('pass'), entry(), DIGEST.toLowerCase(), 'optional')).toMatchObject({ outcome: 'pass', reasons: [], digestMatches: true });
  });

  it('compares nothing when off, or optional without a digest; required without one (or without Face\'s) fails', () => {
    expect(bindDigest(decision('pass'), entry(), 'CD'.repeat(32), 'off')).toEqual(decision('pass'));
    expect(bindDigest(decision('pass'), entry(), undefined, 'optional')).toEqual(decision('pass'));
    expect(bindDigest(decision('pass'), entry(), undefined, 'required').outcome).toBe('fail');
    expect(bindDigest(decision('pass'), entry({ digest: undefined }), DIGEST, 'optional').reasons).toEqual(['DigestMismatch']);
  });
});

describe('abuse policy (pure)', () => {
  it('collects the flagged attempts and the other sessions Face names, once each', () => {
    const found = abuseFinding([entry({ id: 1 }), flagged([{ sessionId: 'F1', attemptId: 1 }], 2), flagged([{ sessionId: 'f1', attemptId: 1 }, { sessionId: 'F2', attemptId: 3 }], 3)]);
    expect(found).toEqual({ attemptIds: [2, 3], faceSessions: [{ faceSessionId: 'F1', attemptId: 1 }, { faceSessionId: 'F2', attemptId: 3 }] });
    expect(abuseFinding([entry(), entry({ id: 2, abuseMonitoringResult: { isAbuseDetected: false, otherFlaggedSessions: [] } })])).toBeUndefined();
  });

  it('never lets a flagged session pass: review (default) or fail; a fail stays a fail, a retry a retry', () => {
    const finding = { attemptIds: [1], otherFlaggedSessions: [] };
    expect(applyAbusePolicy(decision('pass'), finding, 'review')).toMatchObject({ outcome: 'review', reasons: ['AbuseDetected'], abuse: finding });
    expect(applyAbusePolicy(decision('pass'), finding, 'fail')).toMatchObject({ outcome: 'fail', reasons: ['AbuseDetected'] });
    expect(applyAbusePolicy(decision('review', ['MatchConfidenceInReviewBand']), finding, 'review').reasons).toEqual(['AbuseDetected', 'MatchConfidenceInReviewBand']);
    expect(applyAbusePolicy(decision('fail', ['Liveness:spoofface']), finding, 'review').outcome).toBe('fail');
    expect(applyAbusePolicy(decision('retry', ['LivenessUncertain']), finding, 'review').outcome).toBe('retry');
    expect(applyAbusePolicy(decision('pass'), undefined, 'fail')).toEqual(decision('pass'));
  });
});

/** A world whose Face speaks v1.3 (abuse monitoring across per-user correlation ids), two attempts per token. */
const v13 = (over: Parameters<typeof fakeWorld>[0] = {}) => {
  const world = fakeWorld({ ...over, settings: { clientAttempts: 2, ...over.settings } });
  world.face.correlatesUsers = true;
  return world;
};

async function completeWith(world: FakeWorld, subject: string, digest?: string) {
  const s = await startFor(world, subject);
  return { s, complete: () => requestCompletion(world.deps, s.sessionId, { subject }, digest) };
}

describe('digest binding (use cases)', () => {
  it('a wrong digest ends the session Failed with DigestMismatch; the right one passes', async () => {
    const world = fakeWorld();
    const wrong = await completeWith(world, 'alice', 'CD'.repeat(32));
    world.face.addSucceededAttempt(wrong.s.faceSessionId);
    await wrong.complete();
    const right = await startFor(world, 'bob');
    world.face.addSucceededAttempt(right.faceSessionId);
    const faceDigest = sha256Upper(Buffer.from(`${right.faceSessionId}/1`));
    await requestCompletion(world.deps, right.sessionId, { subject: 'bob' }, faceDigest.toLowerCase());
    await deliverQueued(world);

    expect(world.sessions.peek(wrong.s.sessionId)).toMatchObject({
      status: 'Failed', failureReason: 'DigestMismatch', clientDigest: 'CD'.repeat(32),
      decision: { outcome: 'fail', reasons: ['DigestMismatch'], digestMatches: false },
    });
    expect(world.sessions.peek(right.sessionId)).toMatchObject({ status: 'ResultAvailable', decision: { outcome: 'pass', digestMatches: true } });
  });

  it('required: a complete without a digest is refused before anything changes', async () => {
    const world = fakeWorld({ settings: { trust: { digestBinding: 'required', abusePolicy: 'review' } } });
    const { s, complete } = await completeWith(world, 'alice');
    await expect(complete()).rejects.toMatchObject({ code: 'DigestRequired' });
    expect(world.sessions.peek(s.sessionId)?.status).toBe('NotStarted');
    expect(world.completions.drain()).toEqual([]);
  });

  it('off: a reported digest is neither kept nor compared', async () => {
    const world = fakeWorld({ settings: { trust: { digestBinding: 'off', abusePolicy: 'review' } } });
    const { s, complete } = await completeWith(world, 'alice', 'CD'.repeat(32));
    world.face.addSucceededAttempt(s.faceSessionId);
    await complete();
    await deliverQueued(world);
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'ResultAvailable', decision: { outcome: 'pass' } });
    expect(world.sessions.peek(s.sessionId)).not.toHaveProperty('clientDigest');
  });
});

describe('Face v1.3 abuse monitoring (use cases)', () => {
  it('gives each subject its own random correlation id, keeps it across sessions, and sends the attempts setting', async () => {
    const world = v13();
    await startFor(world, 'alice');
    await startFor(world, 'alice');
    await startFor(world, 'bob');
    const [a1, a2, b1] = world.face.createRequests;
    expect(a1!.userCorrelationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a2!.userCorrelationId).toBe(a1!.userCorrelationId);
    expect(b1!.userCorrelationId).not.toBe(a1!.userCorrelationId);
    // Never the subject id or its key.
    expect([a1!.userCorrelationId]).not.toContain(world.subjects.keyOf('alice'));
    expect(a1!.userCorrelationId).not.toContain('alice');
    expect(a1!.numberOfClientAttemptsAllowed).toBe(2);
    // v1.2 (no correlation across users): no correlation id is made or sent, and the subject record has none.
    const v12 = fakeWorld();
    const s = await startFor(v12, 'alice');
    expect(v12.face.createRequests[0]).not.toHaveProperty('userCorrelationId');
    expect((await v12.subjects.get(s.subjectKey))?.userCorrelationId).toBeUndefined();
  });

  it('the reset issues a new id for later sessions, and refuses an unknown subject', async () => {
    const world = v13();
    const first = await startFor(world, 'alice');
    const reset = await resetCorrelationId(world.deps, first.subjectKey, 'reviewer-1');
    expect(reset).toMatchObject({ subjectKey: first.subjectKey, issuedBy: 'reviewer-1' });
    expect(JSON.stringify(reset)).not.toContain(world.face.createRequests[0]!.userCorrelationId!);
    await startFor(world, 'alice');
    expect(world.face.createRequests[1]!.userCorrelationId).not.toBe(world.face.createRequests[0]!.userCorrelationId);
    await expect(resetCorrelationId(world.deps, 'f'.repeat(64), 'reviewer-1')).rejects.toMatchObject({ code: 'SubjectNotFound' });
  });

  it('a flagged attempt sends the session to review with AbuseDetected, linking the other flagged session both ways', async () => {
    const world = v13();
    const earlier = await startFor(world, 'alice');
    world.face.addSucceededAttempt(earlier.faceSessionId, { clientIp: '203.0.113.7' });
    await requestCompletion(world.deps, earlier.sessionId, { subject: 'alice' });
    await deliverQueued(world);
    expect(world.sessions.peek(earlier.sessionId)?.decision?.outcome).toBe('pass');

    const later = await startFor(world, 'mallory');
    world.face.addSucceededAttempt(later.faceSessionId, {
      clientIp: '203.0.113.7',
      abuse: { isAbuseDetected: true, otherFlaggedSessions: [{ sessionId: earlier.faceSessionId, attemptId: 1 }, { sessionId: 'not-ours', attemptId: 2 }] },
    });
    await requestCompletion(world.deps, later.sessionId, { subject: 'mallory' });
    await deliverQueued(world);

    const row = world.sessions.peek(later.sessionId)!;
    expect(row).toMatchObject({
      status: 'ResultAvailable',
      decision: {
        outcome: 'review', reasons: ['AbuseDetected'],
        abuse: { attemptIds: [1], otherFlaggedSessions: [
          { faceSessionId: earlier.faceSessionId, attemptId: 1, sessionId: earlier.sessionId },
          { faceSessionId: 'not-ours', attemptId: 2 },
        ] },
      },
      abuseLinks: [earlier.sessionId],
      result: { clientInformation: [{ ip: '203.0.113.7' }], abuseMonitoringResult: { isAbuseDetected: true } },
    });
    expect(world.audit.peek(later.sessionId)[0]).toMatchObject({ abuseMonitoringResult: { isAbuseDetected: true } });
    expect(world.sessions.peek(earlier.sessionId)?.abuseLinks).toEqual([later.sessionId]);
    expect((await world.sessions.listAwaitingReview(10)).items.map((s) => s.sessionId)).toEqual([later.sessionId]);
  });

  it('with LIVENESS_ABUSE_POLICY=fail a flagged session fails', async () => {
    const world = v13({ settings: { trust: { digestBinding: 'optional', abusePolicy: 'fail' } } });
    const s = await startFor(world, 'alice');
    world.face.addSucceededAttempt(s.faceSessionId, { abuse: { isAbuseDetected: true, otherFlaggedSessions: [] } });
    await requestCompletion(world.deps, s.sessionId, { subject: 'alice' });
    await deliverQueued(world);
    expect(world.sessions.peek(s.sessionId)?.decision).toMatchObject({ outcome: 'fail', reasons: ['AbuseDetected'] });
  });
});
