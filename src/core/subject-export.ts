// Art. 15 access: everything the app holds about a subject (records as JSON, images by name: the HTTP edge links them), and the
// one way the back office reads a subject's image (only images that belong to that subject).
import type { SubjectExport } from '../contract/types.js';
import type { LivenessDeps } from './deps.js';
import { NotFoundError } from './errors.js';
import { withCheckpoint } from './evidence.js';
import { publicReference } from './references.js';
import { isVisible, sessionView } from './session.js';
import { subjectKeyOf } from './subject-keys.js';
import { verificationFacts } from './verification.js';

/**
 * Art. 15: everything held about the subject, records as JSON, images by name (the HTTP edge turns each name into a
 * back-office link on the route the caller used; the core knows no URLs).
 */
export async function exportSubject(deps: LivenessDeps, subjectKey: string): Promise<SubjectExport> {
  const [record, consents, sessions, rows, receipts, verifications] = await Promise.all([
    deps.subjects.get(subjectKey),
    deps.subjects.listConsents(subjectKey),
    deps.sessions.listBySubject(subjectKey),
    deps.subjectRows.export(subjectKey),
    deps.subjects.listReceipts(subjectKey),
    deps.verifications.listBySubject(subjectKey),
  ]);
  const visible = sessions.filter((s) => isVisible(s));
  if (!record && consents.length === 0 && visible.length === 0 && rows.lockouts.length === 0 && !rows.quota
    && rows.idempotencyKeys.length === 0 && receipts.length === 0 && verifications.length === 0) {
    throw new NotFoundError('The app holds nothing about this subject.', { code: 'SubjectNotFound' });
  }
  const now = deps.clock.now();
  const sessionExports = await Promise.all(visible.sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime)).map(async (s) => ({
    session: sessionView(s, now),
      auditEntries: await deps.audit.list(s.sessionId),
      images: s.imagesDeleted ? [] : [
        { kind: 'verify' as const, name: s.storedVerifyImage.blobName, sha256: s.storedVerifyImage.sha256, contentType: s.storedVerifyImage.contentType },
        ...s.sessionImageBlobs.map((b) => ({ kind: 'session' as const, name: b, contentType: 'image/jpeg' })),
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
      reference: { ...publicReference(record.reference), image: { name: record.reference.blobName, contentType: record.reference.contentType } },
    } : {}),
    consents,
    sessions: sessionExports,
    lockouts: rows.lockouts,
    ...(rows.quota ? { quota: rows.quota } : {}),
    idempotencyKeys: rows.idempotencyKeys,
    // Each receipt names its evidence record and, once one covers it, the signed checkpoint (GET /api/evidence/export).
    ...(verifications.length ? {
      verifications: await Promise.all(verifications.sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime)).map(async (v) => {
        const session = v.sessionId ? await deps.sessions.get(v.sessionId) : undefined;
        const facts = verificationFacts(v, session, now);
        return {
          verificationId: v.verificationId, owner: v.owner, status: facts.status, linkState: facts.linkState,
          createdDateTime: v.createdDateTime, expiresDateTime: v.linkExpiresDateTime,
          ...(v.openedDateTime ? { openedDateTime: v.openedDateTime } : {}),
          ...(v.sessionId ? { sessionId: v.sessionId } : {}),
          ...(v.clientReferenceId !== undefined ? { clientReferenceId: v.clientReferenceId } : {}),
          ...(v.returnUrl ? { returnUrl: v.returnUrl } : {}),
          ...(v.locale ? { locale: v.locale } : {}),
          ...(v.referenceImage ? { referenceImage: { name: v.referenceImage.blobName, contentType: v.referenceImage.contentType, sha256: v.referenceImage.sha256 } } : {}),
        };
      })),
    } : {}),
    deletionReceipts: await Promise.all(receipts.map(async (r) => (r.evidence
      ? { ...r, evidence: await withCheckpoint(deps, r.evidence, r.completedDateTime) }
      : r))),
  };
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
  } else if (blobName.startsWith('verification-references/')) {
    const verificationId = /^verification-references\/([0-9a-f-]{36})\./.exec(blobName)?.[1];
    const v = verificationId ? await deps.verifications.get(verificationId) : undefined;
    if (v?.subjectKey === subjectKey && v.referenceImage?.blobName === blobName) contentType = v.referenceImage.contentType;
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
