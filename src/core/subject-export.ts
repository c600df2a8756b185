// Art. 15 access: everything the app holds about a subject (records as JSON, images by name: the HTTP edge links them), and the
// one way the back office reads a subject's image (only images that belong to that subject).
import type { SubjectExport } from '../contract/types.js';
import type { LivenessDeps } from './deps.js';
import { NotFoundError } from './errors.js';
import { publicReference } from './references.js';
import { isVisible, sessionView } from './session.js';
import { subjectKeyOf } from './subject-keys.js';

/**
 * Art. 15: everything held about the subject, records as JSON, images by name (the HTTP edge turns each name into a
 * back-office link on the route the caller used; the core knows no URLs).
 */
export async function exportSubject(deps: LivenessDeps, subjectKey: string): Promise<SubjectExport> {
  const [record, consents, sessions, rows, receipts] = await Promise.all([
    deps.subjects.get(subjectKey),
    deps.subjects.listConsents(subjectKey),
    deps.sessions.listBySubject(subjectKey),
    deps.subjectRows.export(subjectKey),
    deps.subjects.listReceipts(subjectKey),
  ]);
  const visible = sessions.filter((s) => isVisible(s));
  if (!record && consents.length === 0 && visible.length === 0 && rows.lockouts.length === 0 && !rows.quota
    && rows.idempotencyKeys.length === 0 && receipts.length === 0) {
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
    deletionReceipts: receipts,
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
