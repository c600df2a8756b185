// The domain's words, as lists and types with no dependencies: the contract (src/contract) renders its enumerations
// from these, and the core modules re-export them. A leaf module on purpose: the core may import the contract's
// types, so the contract may import from the core only modules like this one that import nothing back.

export const LIVENESS_OPERATION_MODES = ['Passive', 'PassiveActive'] as const;
export type LivenessOperationMode = (typeof LIVENESS_OPERATION_MODES)[number];

/**
 * Creating (internal, never shown): the row is written while Face creates its session; a row still Creating when the
 * sweep reaches it belongs to a create that never finished. NotStarted: created, the device holds the token. Started: the device reported completion, collection is pending.
 * ResultAvailable: a finished attempt was collected. Failed: collection ended without a result (reason given).
 * Expired: the token expired and the last collection found no attempt.
 */
export const SESSION_STATUSES = ['NotStarted', 'Started', 'ResultAvailable', 'Failed', 'Expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number] | 'Creating';

export type QualityForRecognition = 'low' | 'medium' | 'high';

/** Face attempt states that are final: only these become audit entries. */
export const FINISHED_ATTEMPT_STATUSES = ['Succeeded', 'Failed', 'Canceled'] as const;
export const FINISHED_ATTEMPT_STATES: ReadonlySet<string> = new Set(FINISHED_ATTEMPT_STATUSES);

/** The decision policy's outcomes (the device hears only pass, fail, retry or pending). */
export type DecisionOutcome = 'pass' | 'fail' | 'review' | 'retry';
export type DeviceOutcome = 'pending' | 'pass' | 'fail' | 'retry';

/**
 * A verification (a relying party's check for one of its users, started by a link): pending (no session yet),
 * in_progress (a session runs), pass | fail | review (the session's outcome; a settled review gives pass or fail),
 * expired (the link or the session ran out without an outcome), cancelled (the relying party cancelled it).
 */
export const VERIFICATION_STATUSES = ['pending', 'in_progress', 'pass', 'fail', 'review', 'expired', 'cancelled'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/** The link of a verification: sent (issued, not opened), opened (exchanged), used (a session started), expired. */
export const LINK_STATES = ['sent', 'opened', 'used', 'expired'] as const;
export type LinkState = (typeof LINK_STATES)[number];

/** Where a session came from: a device with its identity provider's token, or a verification link. */
export const SESSION_ORIGINS = ['device', 'link'] as const;
export type SessionOrigin = (typeof SESSION_ORIGINS)[number];
