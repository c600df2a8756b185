// Trust signals from the device edge, as pure rules: digest binding (the device's client SDK reports the result
// digest; Face records its own for the attempt) and Face v1.3 abuse monitoring (the same face under different
// correlation ids). Both apply after the decision policy, and both can only make an outcome stricter.
import type { AbuseFinding, AuditEntry, Decision } from './session.js';
import { ValidationError } from './errors.js';

/**
 * off: a reported digest is ignored. optional (default): compared when the device reports one. required: a
 * complete without one is refused (400), and so a result is never accepted unbound.
 */
export const DIGEST_BINDINGS = ['off', 'optional', 'required'] as const;
export type DigestBinding = (typeof DIGEST_BINDINGS)[number];

/** A flagged attempt goes to a person (review, the default) or fails the session outright. */
export const ABUSE_POLICIES = ['review', 'fail'] as const;
export type AbusePolicy = (typeof ABUSE_POLICIES)[number];

export interface TrustSettings { digestBinding: DigestBinding; abusePolicy: AbusePolicy }

/** What the SDK reports: Face's digests are upper-case hex; accept either case, nothing else (at most 128 digits). */
export const CLIENT_DIGEST_PATTERN = /^[0-9A-Fa-f]{16,128}$/;

/**
 * The digest a complete carries, as the binding setting allows: undefined when there is none (or binding is off),
 * the upper-cased digest otherwise. @throws ValidationError (DigestRequired) when binding is required and none came
 */
export function acceptedDigest(binding: DigestBinding, digest: string | undefined): string | undefined {
  if (binding === 'off') return undefined;
  if (digest === undefined) {
    if (binding === 'required') {
      throw new ValidationError('DigestRequired', "The request body must include 'digest': the result digest the liveness client SDK reported.");
    }
    return undefined;
  }
  return digest.toUpperCase();
}

/**
 * Digest binding on a decision: when the device reported a digest (or binding is required), it must equal Face's
 * digest of the decided attempt, else the session fails with DigestMismatch, whatever the decision was.
 */
export function bindDigest(decision: Decision, entry: AuditEntry, clientDigest: string | undefined, binding: DigestBinding): Decision {
  if (binding === 'off') return decision;
  if (clientDigest === undefined && binding === 'optional') return decision;
  const matches = clientDigest !== undefined && entry.digest !== undefined && entry.digest.toUpperCase() === clientDigest.toUpperCase();
  if (matches) return { ...decision, digestMatches: true };
  return { ...decision, outcome: 'fail', reasons: ['DigestMismatch', ...decision.reasons.filter((r) => r !== 'DigestMismatch')], digestMatches: false };
}

/** The abuse verdicts Face gave on a session's attempts (undefined when none was flagged). */
export function abuseFinding(entries: readonly AuditEntry[]): Omit<AbuseFinding, 'otherFlaggedSessions'> & { faceSessions: Array<{ faceSessionId: string; attemptId: number }> } | undefined {
  const flagged = entries.filter((e) => e.abuseMonitoringResult?.isAbuseDetected === true);
  if (flagged.length === 0) return undefined;
  const seen = new Set<string>();
  const faceSessions: Array<{ faceSessionId: string; attemptId: number }> = [];
  for (const entry of flagged) {
    for (const other of entry.abuseMonitoringResult!.otherFlaggedSessions) {
      const key = `${other.sessionId.toLowerCase()}/${other.attemptId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      faceSessions.push({ faceSessionId: other.sessionId, attemptId: other.attemptId });
    }
  }
  return { attemptIds: flagged.map((e) => e.id).sort((a, b) => a - b), faceSessions };
}

/**
 * A flagged session never passes silently: a pass (or a review) becomes review or fail by the policy, with the
 * reason AbuseDetected; a fail stays a fail, with the reason added. A retry stays a retry (nothing was decided),
 * but the flag is kept with it.
 */
export function applyAbusePolicy(decision: Decision, finding: AbuseFinding | undefined, policy: AbusePolicy): Decision {
  if (!finding) return decision;
  const reasons = ['AbuseDetected', ...decision.reasons.filter((r) => r !== 'AbuseDetected')];
  const outcome = decision.outcome === 'pass' || decision.outcome === 'review'
    ? (policy === 'fail' ? 'fail' : 'review')
    : decision.outcome;
  return { ...decision, outcome, reasons, abuse: finding };
}
