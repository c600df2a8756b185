// Subjects: everything the app holds about one device-token subject, found by key, never by scanning sessions.
// The subject key is a keyed hash of the token subject (SubjectStore.keyOf); the raw subject id appears in no key.
// Under it hang the subject record (enrolled reference, erasure state), its consents, its sessions (through the
// subject-sessions index the session repository writes), its lockout and quota rows and its Idempotency-Keys.
// This module holds the records and their keys only; the rules about them live beside it, one idea a module:
// consent.ts (consent and the privacy notice), references.ts (enrolled references), subject-keys.ts (which key a
// session or a raw subject has), subject-export.ts (Art. 15 export and images), erase-subject.ts (erasure).
import { ConflictError, NotFoundError } from './errors.js';

/** A reference image the back office enrolled for the subject; device checks then verify against it. */
export interface SubjectReference {
  referenceId: string;
  blobName: string;
  contentType: string;
  sizeInBytes: number;
  /** SHA-256 (upper-case hex) of the image: the hash Face must report back (evidence binding). */
  sha256: string;
  enrolledDateTime: string;
  /** Who enrolled it: an Entra object id, or 'admin-key'. */
  enrolledBy: string;
  source: 'upload' | 'session';
  /** The session whose verify image was promoted (source 'session'). */
  sourceSessionId?: string;
}

export interface ConsentRecord { version: string; givenDateTime: string }

export interface SubjectErasure {
  erasureId: string;
  requestedDateTime: string;
  requestedBy: string;
  /** What has been deleted so far, by kind (kept on the record so an interrupted erasure resumes its counts). */
  counts: Record<string, number>;
}

export interface SubjectRecord {
  subjectKey: string;
  createdDateTime: string;
  /** When the subject last started a check. */
  lastSeenDateTime?: string;
  reference?: SubjectReference;
  /** Blobs of replaced or removed references that may still exist (deleted after the record stopped naming them). */
  retiredBlobs: string[];
  /** Set when erasure starts; the record is deleted when it ends. While set, nothing new is stored for the subject. */
  erasure?: SubjectErasure;
  etag?: string;
}

/** A pure change to a subject record (`undefined` current = no record yet); undefined = nothing to write. */
export type SubjectChange = (current: SubjectRecord | undefined) => SubjectRecord | undefined;

/** What an erasure leaves behind: kinds and counts, when, by whom. Hashes only: no images, no raw subject id. */
export interface DeletionReceipt {
  receiptId: string;
  subjectKey: string;
  requestedDateTime: string;
  completedDateTime: string;
  requestedBy: string;
  deleted: Record<string, number>;
}

export interface SubjectRowsExport {
  lockouts: Array<{ kind: 'subject' | 'device'; recentFailures: number; lockedUntil?: string }>;
  quota?: { openSessions: number; recentCreates: number };
  idempotencyKeys: Array<{ state: string; sessionId?: string; createdDateTime: string }>;
}

export const SUBJECT_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** Subject keys are 64 hex digits; anything else cannot exist, so it is a 404 without touching storage. */
export function checkSubjectKey(subjectKey: string): string {
  if (!SUBJECT_KEY_PATTERN.test(subjectKey)) throw new NotFoundError('The subject does not exist.', { code: 'SubjectNotFound' });
  return subjectKey;
}

/** Refusal while an erasure runs: nothing new is stored for the subject. */
export const erasingError = (): ConflictError => new ConflictError('SubjectErasing', 'The subject is being erased; nothing new can be stored for it.');

export function newSubjectRecord(subjectKey: string, now: Date): SubjectRecord {
  return { subjectKey, createdDateTime: now.toISOString(), retiredBlobs: [] };
}

