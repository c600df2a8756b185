// The trust model's core rules in-process: every attempt of a session is judged (a spoof anywhere fails it), every
// failing attempt counts toward the lockout, a locked-out subject cannot pass (stockpiled sessions), the server owns
// the policy, and a Face that keeps answering nonsense fails the session with the reason named.
import { describe, expect, it } from 'vitest';
import { handleCompletionMessage } from '../../../src/core/collect-result.js';
import { judgeSession, type DecisionPolicy } from '../../../src/core/decision.js';
import { FaceAnswerInvalidError, ValidationError } from '../../../src/core/errors.js';
import type { AuditEntry, LivenessSession } from '../../../src/core/session.js';
import { sessionPolicy } from '../../../src/core/start-session.js';
import { fakeWorld, startFor, type FakeWorld } from '../../fakes/index.js';

const HASH = 'AB'.repeat(32);
const policy: DecisionPolicy = { matchThreshold: 0.8 };
const now = new Date('2026-01-01T09:00:00.000Z');
const session = { sessionId: 's', storedVerifyImage: { sha256: HASH } } as unknown as LivenessSession;

function attempt(id: number, livenessDecision: string, matchConfidence = 0.95): AuditEntry {
  return {
    id, sessionId: 's', attemptStatus: 'Succeeded', verifyImageHash: HASH, collectedDateTime: now.toISOString(),
    response: { body: { livenessDecision, verifyResult: { isIdentical: matchConfidence >= 0.5, matchConfidence, verifyImage: {} } } },
  };
}

describe('judging every attempt of a session', () => {
  it('a real face after two spoofs still fails, naming the spoof; the two spoofs count as failures', () => {
    const j = judgeSession(session, [attempt(1, 'spoofface'), attempt(2, 'spoofface'), attempt(3, 'realface')], policy, now, { lockedOut: false });
    expect(j.decision).toMatchObject({ outcome: 'fail', attemptId: 3 });
    expect(j.decision.reasons[0]).toBe('SpoofAttempt:1');
    expect(j.failedAttempts).toBe(2);
  });

  it('a real matching face alone passes, and counts nothing', () => {
    const j = judgeSession(session, [attempt(1, 'realface')], policy, now, { lockedOut: false });
    expect(j).toMatchObject({ decision: { outcome: 'pass', reasons: [] }, failedAttempts: 0 });
  });

  it('judges by attempt id, not by the order Face lists them', () => {
    const j = judgeSession(session, [attempt(3, 'realface'), attempt(1, 'spoofface')], policy, now, { lockedOut: false });
    expect(j.decision).toMatchObject({ outcome: 'fail', attemptId: 3 });
  });

  it('a locked-out subject cannot pass, nor be sent to review: a session stockpiled before the lockout fails', () => {
    expect(judgeSession(session, [attempt(1, 'realface')], policy, now, { lockedOut: true }).decision)
      .toMatchObject({ outcome: 'fail', reasons: ['SubjectLockedOut'] });
    const band = judgeSession(session, [attempt(1, 'realface', 0.7)], { ...policy, reviewLowerBound: 0.6 }, now, { lockedOut: true });
    expect(band.decision.outcome).toBe('fail');
  });
});

describe('the server owns the policy', () => {
  const settings = fakeWorld().settings;

  it('fills in the server defaults and accepts anything at least as strict', () => {
    expect(sessionPolicy({}, settings)).toEqual({ livenessOperationMode: 'Passive', authTokenTimeToLiveInSeconds: 600, enableSessionImage: true });
    expect(sessionPolicy({ livenessOperationMode: 'PassiveActive', authTokenTimeToLiveInSeconds: 60, enableSessionImage: true }, settings))
      .toEqual({ livenessOperationMode: 'PassiveActive', authTokenTimeToLiveInSeconds: 60, enableSessionImage: true });
  });

  it('refuses anything weaker, naming the limit', () => {
    expect(() => sessionPolicy({ authTokenTimeToLiveInSeconds: 601 }, settings)).toThrow(expect.objectContaining({ code: 'TokenLifetimeTooLong' }));
    expect(() => sessionPolicy({ authTokenTimeToLiveInSeconds: 601 }, settings)).toThrow(/600/);
    expect(() => sessionPolicy({ enableSessionImage: false }, settings)).toThrow(expect.objectContaining({ code: 'SessionImageRequired' }));
    expect(() => sessionPolicy({ livenessOperationMode: 'Passive' }, { ...settings, operationMode: 'PassiveActive' }))
      .toThrow(ValidationError);
    // With session images off on the server, the device may still ask for one (stricter), or not.
    expect(sessionPolicy({ enableSessionImage: false }, { ...settings, enableSessionImage: false }).enableSessionImage).toBe(false);
  });
});

describe('a Face that keeps answering nonsense', () => {
  async function started(world: FakeWorld) {
    const s = await startFor(world);
    await world.sessions.mutate(s.sessionId, (c) => ({ ...c, status: 'Started', completionRequestedDateTime: now.toISOString() }));
    return s;
  }

  it('is retried by the host at first (the message throws), then fails the session as FaceAnswerInvalid', async () => {
    const world = fakeWorld();
    const s = await started(world);
    const invalid = () => new FaceAnswerInvalidError('attemptId is not a positive integer');
    world.face.hooks.failNext('get', invalid(), 3);
    await expect(handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 }, 1)).rejects.toBeInstanceOf(FaceAnswerInvalidError);
    await expect(handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 }, 2)).rejects.toBeInstanceOf(FaceAnswerInvalidError);
    expect(world.sessions.peek(s.sessionId)!.status).toBe('Started');
    expect(await handleCompletionMessage(world.deps, { sessionId: s.sessionId, try: 1 }, 3)).toBe('failed-face-answer-invalid');
    expect(world.sessions.peek(s.sessionId)).toMatchObject({ status: 'Failed', failureReason: 'FaceAnswerInvalid' });
    expect(world.sessions.peek(s.sessionId)!.result).toBeUndefined();
  });
});
