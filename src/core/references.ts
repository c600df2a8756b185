// Enrolled references: a reference image the back office enrols for a subject (uploaded, or promoted from a passed
// session's verify image); device checks of that subject then verify against it instead of an image they bring.
import { createHash, randomUUID } from 'node:crypto';
import type { SubjectReferenceBody } from '../contract/types.js';
import type { LivenessDeps } from './deps.js';
import { ConflictError, NotFoundError } from './errors.js';
import { isVisible } from './session.js';
import { erasingError, newSubjectRecord, type SubjectReference } from './subject.js';
import { subjectKeyOf } from './subject-keys.js';
import { checkVerifyImage } from './verify-image.js';

const sha256Upper = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').toUpperCase();

/** The back office enrols (or replaces) the subject's reference from an uploaded image. */
export async function enrolReference(deps: LivenessDeps, subjectKey: string, bytes: Uint8Array, by: string): Promise<SubjectReference> {
  const sniffed = await checkVerifyImage(bytes);
  const referenceId = randomUUID();
  return storeReference(deps, subjectKey, bytes, {
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
  if (!isVisible(session) || subjectKeyOf(deps, session) !== subjectKey) {
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
  deps.logger.info('subject reference enrolled', { referenceId: reference.referenceId, source: reference.source });
  return reference;
}

/** Removes the enrolled reference (the device may then bring its own image again, if the setting allows). */
export async function removeReference(deps: LivenessDeps, subjectKey: string): Promise<void> {
  const record = await deps.subjects.mutate(subjectKey, (current) => {
    if (!current?.reference) throw new NotFoundError('The subject has no enrolled reference.', { code: 'ReferenceNotFound' });
    if (current.erasure) throw erasingError();
    return { ...current, reference: undefined, retiredBlobs: [...new Set([...current.retiredBlobs, current.reference.blobName])] };
  });
  await retireBlobs(deps, subjectKey, record?.retiredBlobs ?? []);
}

async function retireBlobs(deps: LivenessDeps, subjectKey: string, blobs: string[]): Promise<void> {
  if (blobs.length === 0) return;
  await Promise.all(blobs.map((b) => deps.images.delete(b)));
  await deps.subjects.mutate(subjectKey, (current) =>
    current && current.retiredBlobs.some((b) => blobs.includes(b))
      ? { ...current, retiredBlobs: current.retiredBlobs.filter((b) => !blobs.includes(b)) }
      : undefined);
}

/** The reference as the API shows it (the blob name stays inside). */
export function publicReference(reference: SubjectReference): SubjectReferenceBody {
  const { blobName: _blobName, ...rest } = reference;
  return rest;
}
