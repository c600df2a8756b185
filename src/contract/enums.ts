// The enumerations of the HTTP contract, each defined once. Where src/core holds the runtime list (session statuses,
// operation modes), it is imported from there; the lists core has only as a type are spelled here once and checked
// against that type at compile time in both directions, so neither side can gain or lose a value alone.
import { z } from 'zod';
import {
  FINISHED_ATTEMPT_STATES, LINK_STATES, LIVENESS_OPERATION_MODES, SESSION_ORIGINS, SESSION_STATUSES, VERIFICATION_STATUSES,
  type DecisionOutcome, type DeviceOutcome, type QualityForRecognition,
} from '../core/vocabulary.js';

/** Compile-time proof that a literal list holds exactly the members of a union type (no more, no fewer). */
type Exactly<List extends readonly string[], Union extends string> =
  [Exclude<Union, List[number]>, Exclude<List[number], Union>] extends [never, never] ? List : never;
const exactly = <Union extends string>() => <const List extends readonly [Union, ...Union[]]>(list: Exactly<List, Union>): List => list;

export const DEVICE_OUTCOMES = exactly<DeviceOutcome>()(['pending', 'pass', 'fail', 'retry']);
export const DECISION_OUTCOMES = exactly<DecisionOutcome>()(['pass', 'fail', 'review', 'retry']);
export const QUALITIES_FOR_RECOGNITION = exactly<QualityForRecognition>()(['low', 'medium', 'high']);
/** Finished Face attempt states: only these are recorded as audit entries (core keeps them as a Set). */
export const ATTEMPT_STATUSES = ['Succeeded', 'Failed', 'Canceled'] as const;
if (ATTEMPT_STATUSES.length !== FINISHED_ATTEMPT_STATES.size || !ATTEMPT_STATUSES.every((s) => FINISHED_ATTEMPT_STATES.has(s))) {
  throw new Error('ATTEMPT_STATUSES must list exactly the core FINISHED_ATTEMPT_STATES');
}
/** Why a session is Failed or Expired (core's session record is typed with these: src/contract/types.ts). */
export const FAILURE_REASONS = [
  'NoFinishedAttempt', 'FaceSessionNotFound', 'CollectionFailedRepeatedly', 'NoFinishedAttemptBeforeExpiry',
  'VerifyImageHashMismatch', 'VerifyImageHashMissing', 'FaceAnswerInvalid', 'DigestMismatch',
] as const;

export const livenessOperationModeSchema = z.enum(LIVENESS_OPERATION_MODES).meta({
  id: 'LivenessOperationMode',
  description: 'Passive: no user action. PassiveActive: Face may ask the user to move (more robust against spoofs).',
});

export const sessionStatusSchema = z.enum(SESSION_STATUSES).meta({
  id: 'SessionStatus',
  description: 'NotStarted: created, the device holds the token. Started: the device reported completion and the '
    + 'result is being collected from Face. ResultAvailable: a finished attempt was collected (see `decision`). '
    + 'Failed: collection ended without a usable result (see `failureReason`). Expired: the token expired and the '
    + 'last collection found no finished attempt.',
});

export const deviceOutcomeSchema = z.enum(DEVICE_OUTCOMES).meta({
  id: 'DeviceOutcome',
  description: 'What the device may learn: pending (not decided yet, or held for review by a person), pass '
    + '(live and the same person as the verify image), fail (not live, not the same person, or the evidence '
    + 'did not match), retry (the attempt was inconclusive or no result could be collected: start a new session).',
});

export const decisionOutcomeSchema = z.enum(DECISION_OUTCOMES).meta({
  description: 'pass: live and matching above DECISION_MATCH_THRESHOLD. fail: spoof, mismatch, or evidence that '
    + 'does not bind to the stored verify image. review: match confidence in the review band; a person decides '
    + '(the device sees pending). retry: the attempt failed or liveness was uncertain.',
});

export const qualityForRecognitionSchema = z.enum(QUALITIES_FOR_RECOGNITION).meta({
  description: "Face's estimate of how well the verify image suits face recognition.",
});

export const attemptStatusSchema = z.enum(ATTEMPT_STATUSES).meta({ description: 'Only finished attempts are recorded.' });

export const failureReasonSchema = z.enum(FAILURE_REASONS).meta({
  description: 'Why the session is Failed or Expired: no finished attempt within the collection bound; Face no '
    + 'longer knew the session; collection kept failing (poison queue); the token expired without an attempt; '
    + 'the attempt was about another verify image, or its hash was missing; the digest the device reported is not '
    + "Face's digest of the attempt.",
});

export const verificationStatusSchema = z.enum(VERIFICATION_STATUSES).meta({
  id: 'VerificationStatus',
  description: 'pending: the link was issued, no check started yet. in_progress: the person started the check. pass, '
    + 'fail, review: the outcome (a settled review turns into pass or fail). expired: the link, or the check, ran out '
    + 'without an outcome. cancelled: the relying party cancelled it.',
});

export const linkStateSchema = z.enum(LINK_STATES).meta({
  id: 'LinkState',
  description: 'sent: issued, not opened yet. opened: the page exchanged the link token. used: a check was started '
    + 'from it. expired: its lifetime (VERIFICATION_LINK_TTL_MINUTES) ended before it was used.',
});

export const sessionOriginSchema = z.enum(SESSION_ORIGINS).meta({
  id: 'SessionOrigin',
  description: "device: started by a device with its identity provider's token. link: started from a verification link.",
});
