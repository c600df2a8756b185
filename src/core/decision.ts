// The decision policy: what a collected attempt means for the person in front of the device. The device learns
// only the outcome (pass / fail / retry, or pending while undecided or under review); the back office sees why.
import { createHash } from 'node:crypto';
import type { AuditEntry, LivenessSession } from './session.js';

export interface DecisionPolicy {
  /** Minimum matchConfidence for a pass. */
  matchThreshold: number;
  /** Confidence in [reviewLowerBound, matchThreshold) is flagged for a person to review; undefined = no band. */
  reviewLowerBound?: number;
  /** Explicit version label; default: derived from the settings, so a change of policy changes the version. */
  version?: string;
}

export type DecisionOutcome = 'pass' | 'fail' | 'review' | 'retry';

export interface Decision {
  outcome: DecisionOutcome;
  reasons: string[];
  livenessDecision?: string;
  matchConfidence?: number;
  isIdentical?: boolean;
  attemptId: number;
  digest?: string;
  modelVersion?: string;
  verifyImageHashMatches: boolean;
  policyVersion: string;
  decidedDateTime: string;
}

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

export type DeviceOutcome = 'pending' | 'pass' | 'fail' | 'retry';

/** What the device may learn about its own session: no scores, no reasons. */
export function deviceOutcome(session: LivenessSession): DeviceOutcome {
  if (session.decision) {
    if (session.decision.outcome === 'review') return 'pending';
    return session.decision.outcome;
  }
  if (session.status === 'Failed' || session.status === 'Expired') return 'retry';
  return 'pending';
}
