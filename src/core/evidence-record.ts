// The evidence log's records and checkpoints as data (evidence.ts builds, appends and signs them): a model with no
// dependencies, so sessions, receipts and ports can name these types without importing the log's logic.
export const EVIDENCE_TYPES = [
  'session.decided', 'review.settled', 'session.deleted', 'subject.erased', 'reference.enrolled', 'reference.removed',
  'consent.recorded', 'verification.link.issued', 'verification.link.exchanged',
] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

/** What a use case appends: the record less its place in a chain. */
export interface EvidenceEntry {
  /** Deterministic per logical event (type and the ids it is about), so a repeated append finds the first. */
  recordId: string;
  type: EvidenceType;
  time: string;
  subjectKey?: string;
  /** SHA-256 of `session|<sessionId>`: a relying party holding the session id can find the record; nobody else can. */
  sessionRef?: string;
  receiptId?: string;
  referenceId?: string;
  /** SHA-256 (hex) of the canonical JSON of what was decided. */
  digest: string;
}

export interface EvidenceRecord extends EvidenceEntry {
  v: 1;
  chain: number;
  seq: number;
  prev: string;
}

export interface StoredEvidence { record: EvidenceRecord; hash: string }

/** Where a record sits: what an event or a receipt carries, and what a verifier looks for. */
export interface EvidenceRef { recordId: string; recordHash: string; chain: number; seq: number; checkpointId?: string }

export interface ChainHead { chain: number; seq: number; hash: string }

export interface CheckpointPayload {
  v: 1;
  checkpointId: string;
  time: string;
  /** The checkpoint before this one (an export starts from it). */
  previous?: { checkpointId: string; time: string };
  heads: ChainHead[];
}

/** A signed checkpoint: `jws` is the JWS compact serialization (ES256) of the canonical payload. */
export interface SignedCheckpoint { checkpointId: string; time: string; jws: string }

