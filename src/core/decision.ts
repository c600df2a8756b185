// The decision policy: what a collected attempt means for the person in front of the device. The device learns
// only the outcome (pass / fail / retry, or pending while undecided or under review); the back office sees why.
import type { LivenessSettings } from '../config/config.js';
import { createHash } from 'node:crypto';
import type { AuditEntry, Decision, DecisionOutcome, LivenessSession } from './session.js';
import type { DeviceOutcome } from './vocabulary.js';

export type { Decision, DecisionOutcome };

/** The decision policy: match threshold, optional review band, optional version label (LivenessSettings.policy). */
export type DecisionPolicy = LivenessSettings['policy'];



export function policyVersion(policy: DecisionPolicy): string {
  if (policy.version) return policy.version;
  const canonical = JSON.stringify({ liveness: 'realface', matchThreshold: policy.matchThreshold, reviewLowerBound: policy.reviewLowerBound ?? null });
  return `auto-${createHash('sha256').update(canonical).digest('hex').slice(0, 12)}`;
}

/**
 * Decides on the latest attempt. Evidence binding comes first: the verify image Face compared against must be the
 * one we stored (same SHA-256), else the result is not about the person we think it is.
 */
export function decide(session: LivenessSession, entry: AuditEntry, policy: DecisionPolicy, now: Date): Decision {
  const body = entry.response.body;
  const base = {
    livenessDecision: body.livenessDecision,
    matchConfidence: body.verifyResult?.matchConfidence,
    isIdentical: body.verifyResult?.isIdentical,
    attemptId: entry.id,
    digest: entry.digest,
    modelVersion: body.modelVersionUsed,
    policyVersion: policyVersion(policy),
    decidedDateTime: now.toISOString(),
  };
  const hashMatches = !!entry.verifyImageHash
    && entry.verifyImageHash.toUpperCase() === session.storedVerifyImage.sha256.toUpperCase();
  const result = (outcome: DecisionOutcome, ...reasons: string[]): Decision => ({ ...base, outcome, reasons, verifyImageHashMatches: hashMatches });

  if (entry.attemptStatus !== 'Succeeded') return result('retry', `AttemptFailed:${body.error?.code ?? entry.attemptStatus}`);
  if (!entry.verifyImageHash) return result('fail', 'VerifyImageHashMissing');
  if (!hashMatches) return result('fail', 'VerifyImageHashMismatch');
  const liveness = body.livenessDecision?.toLowerCase(); // the spec's own example writes "realFace"
  if (liveness === 'uncertain') return result('retry', 'LivenessUncertain');
  if (liveness !== 'realface') return result('fail', `Liveness:${body.livenessDecision ?? 'missing'}`);
  const confidence = body.verifyResult?.matchConfidence;
  if (confidence === undefined) return result('fail', 'MatchConfidenceMissing');
  if (confidence >= policy.matchThreshold) return result('pass');
  if (policy.reviewLowerBound !== undefined && confidence >= policy.reviewLowerBound) return result('review', 'MatchConfidenceInReviewBand');
  return result('fail', 'MatchConfidenceBelowThreshold');
}

const failing = (outcome: DecisionOutcome) => outcome === 'fail' || outcome === 'retry';

export interface SessionJudgement {
  decision: Decision;
  /** How many of the session's attempts failed on their own (each counts toward the subject's lockout). */
  failedAttempts: number;
}

/**
 * Judges every finished attempt of a session, not only the latest: a session with any spoof attempt fails whatever
 * came after it (a spoofer must not get retries until a real face passes), every failing attempt counts toward the
 * lockout, and a subject locked out meanwhile cannot pass.
 */
export function judgeSession(
  session: LivenessSession,
  entries: readonly AuditEntry[],
  policy: DecisionPolicy,
  now: Date,
  options: { lockedOut: boolean },
): SessionJudgement {
  const ordered = [...entries].sort((a, b) => a.id - b.id);
  const latest = ordered[ordered.length - 1];
  if (!latest) throw new Error('judgeSession needs at least one finished attempt');
  const perAttempt = ordered.map((entry) => decide(session, entry, policy, now));
  let decision = perAttempt[perAttempt.length - 1]!;
  const spoof = ordered.find((e) => e.attemptStatus === 'Succeeded' && e.response.body.livenessDecision?.toLowerCase() === 'spoofface');
  if (spoof && spoof !== latest) {
    decision = { ...decision, outcome: 'fail', reasons: [`SpoofAttempt:${spoof.id}`, ...decision.reasons] };
  }
  if (options.lockedOut && (decision.outcome === 'pass' || decision.outcome === 'review')) {
    decision = { ...decision, outcome: 'fail', reasons: ['SubjectLockedOut', ...decision.reasons] };
  }
  return { decision, failedAttempts: perAttempt.filter((d) => failing(d.outcome)).length };
}

export type { DeviceOutcome } from './vocabulary.js';

/** What the device may learn about its own session: no scores, no reasons. */
export function deviceOutcome(session: LivenessSession): DeviceOutcome {
  if (session.review) return session.review.outcome; // a person settled it: their decision is the outcome
  if (session.decision) {
    if (session.decision.outcome === 'review') return 'pending';
    return session.decision.outcome;
  }
  if (session.status === 'Failed' || session.status === 'Expired') return 'retry';
  return 'pending';
}
