// Subjects: everything the app holds about one device-token subject, found by key, never by scanning sessions.
// The subject key is a keyed hash of the token subject (SubjectStore.keyOf); the raw subject id appears in no key.
// Under it hang the subject record (enrolled reference, erasure state), its consents, its sessions (through the
// subject-sessions index the session repository writes), its lockout and quota rows and its Idempotency-Keys.
import { createHash, randomUUID } from 'node:crypto';
import type { LivenessDeps } from './deps.js';
import { appendEvidence, referenceEntry, withCheckpoint, type EvidenceRef } from './evidence.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { sessionView, type LivenessSession } from './session.js';
import { acceptedImage } from './verify-image.js';

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
  /** The erasure's evidence record (and, once one covers it, the checkpoint): a third party can verify the receipt. */
  evidence?: EvidenceRef;
}

export interface SubjectRowsExport {
  lockouts: Array<{ kind: 'subject' | 'device'; recentFailures: number; lockedUntil?: string }>;
  quota?: { openSessions: number; recentCreates: number };
  idempotencyKeys: Array<{ state: string; sessionId?: string; createdDateTime: string }>;
}

export interface ConsentText { version: string; publishedDate: string; text: string }

export interface PrivacySettings {
  /** Whether a create must carry the consent version the person agreed to. */
  consentRequired: boolean;
  currentConsentVersion: string;
  consentVersions: ConsentText[];
  /** Whether a device may bring its own verify image when the subject has no enrolled reference. */
  deviceReferenceAllowed: boolean;
}

const sha256Upper = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').toUpperCase();

export const SUBJECT_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** Subject keys are 64 hex digits; anything else cannot exist, so it is a 404 without touching storage. */
export function checkSubjectKey(subjectKey: string): string {
  if (!SUBJECT_KEY_PATTERN.test(subjectKey)) throw new NotFoundError('The subject does not exist.', { code: 'SubjectNotFound' });
  return subjectKey;
}

const erasingError = () => new ConflictError('SubjectErasing', 'The subject is being erased; nothing new can be stored for it.');

/**
 * Consent comes before anything is read or stored: the version the person saw must be the current one. Called at
 * the HTTP edge as soon as the form field is parsed, and again by startSession (the rule lives here).
 */
export function assertConsent(settings: PrivacySettings, consentVersion: string | undefined): void {
  if (!settings.consentRequired) return;
  if (consentVersion !== settings.currentConsentVersion) {
    throw new ValidationError('ConsentRequired', consentVersion === undefined
      ? `The form must include 'consentVersion': the version of the consent text the person agreed to (current: ${settings.currentConsentVersion}; see GET /api/privacy).`
      : `consentVersion is not the current consent version (${settings.currentConsentVersion}; see GET /api/privacy).`);
  }
}

/** The back office enrols (or replaces) the subject's reference from an uploaded image. */
export async function enrolReference(deps: LivenessDeps, subjectKey: string, bytes: Uint8Array, by: string): Promise<SubjectReference> {
  // Metadata (EXIF, GPS, XMP, text) goes before the image is hashed or stored.
  const { bytes: kept, sniffed } = await acceptedImage(bytes);
  const referenceId = randomUUID();
  return storeReference(deps, subjectKey, kept, {
    referenceId, contentType: sniffed.contentType, blobName: `references/${subjectKey}/${referenceId}.${sniffed.extension}`,
    source: 'upload', by,
  });
}

/**
 * Promotes the verify image of one of the subject's sessions that ended pass (Face already found one good face in
 * it, and the live person matched it) to the subject's reference.
 */
export async function promoteReference(deps: LivenessDeps, subjectKey: string, sessionId: string, by: string): Promise<SubjectReference> {
  const session = await deps.sessions.get(sessionId);
  if (!session || session.deleting || session.status === 'Creating' || subjectKeyOf(deps, session) !== subjectKey) {
    throw new NotFoundError('The subject has no such session.');
  }
  const outcome = session.review?.outcome ?? session.decision?.outcome;
  if (outcome !== 'pass') throw new ConflictError('SessionNotPassed', 'Only the verify image of a session that ended pass can become the reference.');
  const bytes = session.imagesDeleted ? undefined : await deps.images.get(session.storedVerifyImage.blobName);
  if (!bytes || sha256Upper(bytes) !== session.storedVerifyImage.sha256.toUpperCase()) {
    throw new ConflictError('VerifyImageGone', "The session's verify image is no longer kept (image retention); enrol an upload instead.");
  }
  const referenceId = randomUUID();
  const extension = session.storedVerifyImage.blobName.split('.').pop() ?? 'jpg';
  return storeReference(deps, subjectKey, bytes, {
    referenceId, contentType: session.storedVerifyImage.contentType, blobName: `references/${subjectKey}/${referenceId}.${extension}`,
    source: 'session', sourceSessionId: sessionId, by,
  });
}

/**
 * The record names the blob before the blob exists (so no crash can leave a reference blob nobody knows), and a
 * replaced blob is listed as retired until it is deleted (so a crash cannot orphan it either).
 */
async function storeReference(
  deps: LivenessDeps, subjectKey: string, bytes: Uint8Array,
  spec: { referenceId: string; contentType: string; blobName: string; source: SubjectReference['source']; sourceSessionId?: string; by: string },
): Promise<SubjectReference> {
  const now = deps.clock.now();
  const reference: SubjectReference = {
    referenceId: spec.referenceId, blobName: spec.blobName, contentType: spec.contentType, sizeInBytes: bytes.byteLength,
    sha256: sha256Upper(bytes), enrolledDateTime: now.toISOString(), enrolledBy: spec.by, source: spec.source,
    ...(spec.sourceSessionId ? { sourceSessionId: spec.sourceSessionId } : {}),
  };
  // Pending until the blob is written: a create that reads the record meanwhile finds no blob and says so (409).
  const record = await deps.subjects.mutate(subjectKey, (current) => {
    if (current?.erasure) throw erasingError();
    const base = current ?? newSubjectRecord(subjectKey, now);
    return {
      ...base,
      reference,
      retiredBlobs: [...new Set([...base.retiredBlobs, ...(base.reference ? [base.reference.blobName] : [])])],
    };
  });
  await deps.images.put(spec.blobName, bytes, spec.contentType, { sha256: reference.sha256 });
  await retireBlobs(deps, subjectKey, record?.retiredBlobs ?? []);
  await appendEvidence(deps, referenceEntry('reference.enrolled', subjectKey, reference, now));
  // A subject the back office enrolled before any check is idle (BIPA) from its record's creation.
  if (record && !record.lastSeenDateTime) await deps.activity.touch(subjectKey, new Date(record.createdDateTime));
  deps.logger.info('subject reference enrolled', { referenceId: reference.referenceId, source: reference.source });
  return reference;
}

/** Removes the enrolled reference (the device may then bring its own image again, if the setting allows). */
export async function removeReference(deps: LivenessDeps, subjectKey: string): Promise<void> {
  let removed: SubjectReference | undefined;
  const record = await deps.subjects.mutate(subjectKey, (current) => {
    if (!current?.reference) throw new NotFoundError('The subject has no enrolled reference.', { code: 'ReferenceNotFound' });
    if (current.erasure) throw erasingError();
    removed = current.reference;
    return { ...current, reference: undefined, retiredBlobs: [...new Set([...current.retiredBlobs, current.reference.blobName])] };
  });
  await retireBlobs(deps, subjectKey, record?.retiredBlobs ?? []);
  if (removed) await appendEvidence(deps, referenceEntry('reference.removed', subjectKey, removed, deps.clock.now()));
}

async function retireBlobs(deps: LivenessDeps, subjectKey: string, blobs: string[]): Promise<void> {
  if (blobs.length === 0) return;
  await Promise.all(blobs.map((b) => deps.images.delete(b)));
  await deps.subjects.mutate(subjectKey, (current) =>
    current && current.retiredBlobs.some((b) => blobs.includes(b))
      ? { ...current, retiredBlobs: current.retiredBlobs.filter((b) => !blobs.includes(b)) }
      : undefined);
}

export function newSubjectRecord(subjectKey: string, now: Date): SubjectRecord {
  return { subjectKey, createdDateTime: now.toISOString(), retiredBlobs: [] };
}

/** The subject key a session hangs off (sessions from before subject keys carry only the raw subject). */
export function subjectKeyOf(deps: Pick<LivenessDeps, 'subjects'>, session: Pick<LivenessSession, 'subject' | 'subjectKey'>): string | undefined {
  return session.subjectKey ?? (session.subject !== undefined ? deps.subjects.keyOf(session.subject) : undefined);
}

/** Art. 15: everything held about the subject, records as JSON, images as back-office links. */
export async function exportSubject(deps: LivenessDeps, subjectKey: string) {
  const [record, consents, sessions, rows, receipts] = await Promise.all([
    deps.subjects.get(subjectKey),
    deps.subjects.listConsents(subjectKey),
    deps.sessions.listBySubject(subjectKey),
    deps.subjectRows.export(subjectKey),
    deps.subjects.listReceipts(subjectKey),
  ]);
  const visible = sessions.filter((s) => !s.deleting && s.status !== 'Creating');
  if (!record && consents.length === 0 && visible.length === 0 && rows.lockouts.length === 0 && !rows.quota
    && rows.idempotencyKeys.length === 0 && receipts.length === 0) {
    throw new NotFoundError('The app holds nothing about this subject.', { code: 'SubjectNotFound' });
  }
  const now = deps.clock.now();
  const link = (blobName: string) => `/api/subjects/${subjectKey}/images?name=${encodeURIComponent(blobName)}`;
  const sessionExports = await Promise.all(visible.sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime)).map(async (s) => ({
    session: sessionView(s, now),
      auditEntries: await deps.audit.list(s.sessionId),
      images: s.imagesDeleted ? [] : [
        { kind: 'verify' as const, href: link(s.storedVerifyImage.blobName), sha256: s.storedVerifyImage.sha256, contentType: s.storedVerifyImage.contentType },
        ...s.sessionImageBlobs.map((b) => ({ kind: 'session' as const, href: link(b), contentType: 'image/jpeg' })),
      ],
  })));
  return {
    subjectKey,
    exportedDateTime: now.toISOString(),
    ...(record ? {
      subject: {
        createdDateTime: record.createdDateTime,
        ...(record.lastSeenDateTime ? { lastSeenDateTime: record.lastSeenDateTime } : {}),
        ...(record.erasure ? { erasing: true } : {}),
      },
    } : {}),
    ...(record?.reference ? {
      reference: { ...publicReference(record.reference), image: { href: link(record.reference.blobName), contentType: record.reference.contentType } },
    } : {}),
    consents,
    sessions: sessionExports,
    lockouts: rows.lockouts,
    ...(rows.quota ? { quota: rows.quota } : {}),
    idempotencyKeys: rows.idempotencyKeys,
    // Each receipt names its evidence record and, once one covers it, the signed checkpoint (GET /api/evidence/export).
    deletionReceipts: await Promise.all(receipts.map(async (r) => (r.evidence
      ? { ...r, evidence: await withCheckpoint(deps, r.evidence, r.completedDateTime) }
      : r))),
  };
}

/** The reference as the API shows it (the blob name stays inside). */
export function publicReference(reference: SubjectReference) {
  const { blobName: _blobName, ...rest } = reference;
  return rest;
}

/**
 * An image of the subject for the back office: the enrolled reference (or a retired one) or an image of one of the
 * subject's sessions. Anything else is a 404, so a link cannot be bent to another subject's image.
 */
export async function subjectImage(deps: LivenessDeps, subjectKey: string, blobName: string): Promise<{ bytes: Uint8Array; contentType: string }> {
  const notFound = () => new NotFoundError('The subject has no such image.', { code: 'ImageNotFound' });
  let contentType: string | undefined;
  if (blobName.startsWith(`references/${subjectKey}/`)) {
    const record = await deps.subjects.get(subjectKey);
    if (record?.reference?.blobName === blobName) contentType = record.reference.contentType;
  } else {
    const sessionId = /^(?:verify-images\/|session-images\/)([0-9a-f-]{36})[./]/.exec(blobName)?.[1];
    const session = sessionId ? await deps.sessions.get(sessionId) : undefined;
    if (session && !session.deleting && subjectKeyOf(deps, session) === subjectKey) {
      if (session.storedVerifyImage.blobName === blobName) contentType = session.storedVerifyImage.contentType;
      else if (session.sessionImageBlobs.includes(blobName)) contentType = 'image/jpeg';
    }
  }
  if (!contentType) throw notFound();
  const bytes = await deps.images.get(blobName);
  if (!bytes) throw notFound();
  return { bytes, contentType };
}

/** The subject key of a raw token subject, for the back office (which then uses only the key). */
export function resolveSubjectKey(deps: Pick<LivenessDeps, 'subjects'>, subject: string): { subjectKey: string } {
  return { subjectKey: deps.subjects.keyOf(subject) };
}

/** GET /api/privacy: the consent texts, the version a device must send, and how long each kind of data is kept. */
export function privacyNotice(settings: LivenessDeps['settings']) {
  const p = settings.privacy;
  return {
    consent: {
      required: p.consentRequired,
      currentVersion: p.currentConsentVersion,
      versions: p.consentVersions,
    },
    deviceReferenceAllowed: p.deviceReferenceAllowed,
    retention: [
      {
        data: 'faceSession', description: 'The liveness session at Azure AI Face (its token, captured attempts).',
        kept: settings.deleteFaceSessionAfterCollect
          ? 'Until the result is collected, at most until the session token expires.'
          : 'Until the session token expires.',
        maxSeconds: settings.authTokenTtlSeconds,
      },
      {
        data: 'verifyAndSessionImages', description: 'The verify image sent to Face and the captured session image.',
        kept: `${settings.imageRetentionHours} hours after the session token expires.`,
        hoursAfterTokenExpiry: settings.imageRetentionHours,
      },
      {
        data: 'sessionRecords', description: 'Session records, decisions, reviews and audit entries (no images).',
        kept: `${settings.recordRetentionDays} days after the session token expires.`,
        daysAfterTokenExpiry: settings.recordRetentionDays,
      },
      {
        data: 'enrolledReference', description: 'A reference image the operator enrolled for the person.',
        kept: 'Until the operator removes or replaces it, or the person is erased.',
      },
      {
        data: 'consentRecords', description: 'Which consent text version the person agreed to, and when.',
        kept: 'Until the person is erased.',
      },
      ...(settings.subjectIdleErasureDays !== undefined ? [{
        data: 'subject', description: 'Everything of a person (record, enrolled reference, consents, sessions, limits): '
          + 'erased as on request, with a deletion receipt, when the person has not interacted for this long (BIPA).',
        kept: `${settings.subjectIdleErasureDays} days after the person's last interaction, at most.`,
        daysAfterLastInteraction: settings.subjectIdleErasureDays,
      }] : []),
      ...(settings.deliveryAttemptRetentionDays !== undefined ? [{
        data: 'webhookDeliveryLog', description: 'Each try to deliver an event to the relying party (event and session ids, '
          + 'status code; no payload) and events whose delivery gave up (without the person\'s id).',
        kept: `Attempts ${settings.deliveryAttemptRetentionDays} days after the event; dead letters until redelivered; both deleted with the person.`,
        daysAfterEvent: settings.deliveryAttemptRetentionDays,
      }] : []),
      {
        data: 'evidenceLog', description: 'Tamper-evident records of decisions, reviews, deletions, erasures, references and '
          + 'consents: keyed hashes and digests only (no images, no raw ids), and signed checkpoints.',
        kept: 'Kept, as evidence (the subject key and session hashes in them cannot be reversed without the deployment\'s secret).',
      },
      {
        data: 'idempotencyKeys', description: 'Remembered create requests (no images).',
        kept: `${settings.idempotencyTtlSeconds} seconds, then overwritten; deleted with the person.`,
      },
      {
        data: 'deletionReceipts', description: 'What an erasure deleted, when and by whom (the keyed hash only).',
        kept: 'Kept as evidence of the erasure.',
      },
    ],
  };
}
