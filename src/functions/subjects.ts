// The /subjects routes of the back office: export (Art. 15), erasure (Art. 17) and the enrolled reference.
import type { SubjectExport, SubjectExportBody } from '../contract/types.js';
import { eraseSubject } from '../core/erase-subject.js';
import { ValidationError } from '../core/errors.js';
import { enrolReference, promoteReference, publicReference, removeReference } from '../core/references.js';
import { checkSubjectKey } from '../core/subject.js';
import { exportSubject, subjectImage } from '../core/subject-export.js';
import { resetCorrelationId } from '../core/correlation-ids.js';
import { actor, httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, readJson, readMultipart, SECURITY_HEADERS } from '../shared/http.js';
import { contract } from '../shared/contract.js';

const keyParam = (request: { params: Record<string, string> }) => checkSubjectKey(request.params.subjectKey ?? '');

/**
 * The export with its images as links: the core names each image, the link is this route's images route, on the
 * route the caller used (so a caller signed in through /api/backoffice gets /api/backoffice links, with the same auth).
 */
export function linkedExport(exported: SubjectExport, exportUrl: string): SubjectExportBody {
  const base = new URL(exportUrl).pathname.replace(/\/+$/, '');
  const link = <T extends { name: string }>({ name, ...rest }: T) => ({ ...rest, href: `${base}/images?name=${encodeURIComponent(name)}` });
  const { reference, sessions, verifications, ...rest } = exported;
  return {
    ...rest,
    ...(reference ? { reference: { ...reference, image: link(reference.image) } } : {}),
    sessions: sessions.map((s) => ({ ...s, images: s.images.map(link) })),
    ...(verifications ? {
      verifications: verifications.map(({ referenceImage, ...v }) => ({ ...v, ...(referenceImage ? { referenceImage: link(referenceImage) } : {}) })),
    } : {}),
  };
}

/** GET /api/subjects/{subjectKey} — everything held about the subject. */
export const exportSubjectData: OperationHandler<'exportSubject'> = async ({ request, deps }) =>
  json(200, linkedExport(await exportSubject(deps, keyParam(request)), request.url));

/** DELETE /api/subjects/{subjectKey} — erase everything of the subject; answers the deletion receipt. */
export const eraseSubjectData: OperationHandler<'eraseSubject'> = async ({ request, deps, caller }) =>
  json(200, await eraseSubject(deps, keyParam(request), actor(caller)));

/** PUT /api/subjects/{subjectKey}/reference — enrol (or replace) the reference from an upload. */
export const enrolSubjectReference: OperationHandler<'enrolSubjectReference'> = async ({ request, deps, caller }) => {
  const subjectKey = keyParam(request);
  const body = await readMultipart(request, [], (await contract()).ENROL_REFERENCE_FORM_FILES);
  const image = body.files.referenceImage;
  if (!image) throw new ValidationError('MissingReferenceImage', "The form must include a 'referenceImage' file part.");
  return json(200, publicReference(await enrolReference(deps, subjectKey, image.bytes, actor(caller))));
};

/** POST /api/subjects/{subjectKey}/reference/promote — the verify image of a passed session becomes the reference. */
export const promoteSubjectReference: OperationHandler<'promoteSubjectReference'> = async ({ request, deps, caller }) => {
  const subjectKey = keyParam(request);
  const { parseJsonBody, promoteReferenceRequestSchema } = await contract();
  const { sessionId } = parseJsonBody(promoteReferenceRequestSchema, await readJson(request), { sessionId: 'InvalidSessionId' });
  return json(200, publicReference(await promoteReference(deps, subjectKey, sessionId.toLowerCase(), actor(caller))));
};

/** DELETE /api/subjects/{subjectKey}/reference — remove the enrolled reference. */
export const removeSubjectReference: OperationHandler<'removeSubjectReference'> = async ({ request, deps }) => {
  await removeReference(deps, keyParam(request));
  return { status: 204 };
};

/** POST /api/subjects/{subjectKey}/correlation-id/reset — a new abuse-monitoring correlation id, after a review. */
export const resetSubjectCorrelationId: OperationHandler<'resetSubjectCorrelationId'> = async ({ request, deps, caller }) =>
  json(200, await resetCorrelationId(deps, keyParam(request), actor(caller)));

/** GET /api/subjects/{subjectKey}/images?name= — an image of the subject (the links in the export). */
export const getSubjectImage: OperationHandler<'getSubjectImage'> = async ({ request, deps }) => {
  const subjectKey = keyParam(request);
  const { parseQuery, subjectImageQuerySchema } = await contract();
  const { name } = parseQuery(subjectImageQuerySchema, request.query, { byField: { name: 'BadArgument' }, otherwise: 'BadArgument' });
  const image = await subjectImage(deps, subjectKey, name);
  return { status: 200, body: image.bytes, headers: { ...SECURITY_HEADERS, 'content-type': image.contentType } };
};

httpOperation('exportSubject', exportSubjectData);
httpOperation('eraseSubject', eraseSubjectData);
httpOperation('enrolSubjectReference', enrolSubjectReference);
httpOperation('removeSubjectReference', removeSubjectReference);
httpOperation('promoteSubjectReference', promoteSubjectReference);
httpOperation('resetSubjectCorrelationId', resetSubjectCorrelationId);
httpOperation('getSubjectImage', getSubjectImage);
