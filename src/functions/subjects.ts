// The /subjects routes of the back office: export (Art. 15), erasure (Art. 17) and the enrolled reference.
import { eraseSubject } from '../core/erase-subject.js';
import { ValidationError } from '../core/errors.js';
import { enrolReference, promoteReference, publicReference, removeReference } from '../core/references.js';
import { checkSubjectKey } from '../core/subject.js';
import { exportSubject, subjectImage } from '../core/subject-export.js';
import { actor, backOfficeHttp, type BackOfficeCaller } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json, readJson, readMultipart, SECURITY_HEADERS } from '../shared/http.js';
import { contract } from '../shared/contract.js';

const keyParam = (request: { params: Record<string, string> }) => checkSubjectKey(request.params.subjectKey ?? '');

/** GET /api/subjects/{subjectKey} — everything held about the subject. */
export const exportSubjectData: HttpRoute<BackOfficeCaller> = async ({ request, deps }) =>
  json(200, await exportSubject(deps, keyParam(request)));

/** DELETE /api/subjects/{subjectKey} — erase everything of the subject; answers the deletion receipt. */
export const eraseSubjectData: HttpRoute<BackOfficeCaller> = async ({ request, deps, caller }) =>
  json(200, await eraseSubject(deps, keyParam(request), actor(caller)));

/** PUT /api/subjects/{subjectKey}/reference — enrol (or replace) the reference from an upload. */
export const enrolSubjectReference: HttpRoute<BackOfficeCaller> = async ({ request, deps, caller }) => {
  const subjectKey = keyParam(request);
  const body = await readMultipart(request, [], (await contract()).ENROL_REFERENCE_FORM_FILES);
  const image = body.files.referenceImage;
  if (!image) throw new ValidationError('MissingReferenceImage', "The form must include a 'referenceImage' file part.");
  return json(200, publicReference(await enrolReference(deps, subjectKey, image.bytes, actor(caller))));
};

/** POST /api/subjects/{subjectKey}/reference/promote — the verify image of a passed session becomes the reference. */
export const promoteSubjectReference: HttpRoute<BackOfficeCaller> = async ({ request, deps, caller }) => {
  const subjectKey = keyParam(request);
  const { parseJsonBody, promoteReferenceRequestSchema } = await contract();
  const { sessionId } = parseJsonBody(promoteReferenceRequestSchema, await readJson(request), { sessionId: 'InvalidSessionId' });
  return json(200, publicReference(await promoteReference(deps, subjectKey, sessionId.toLowerCase(), actor(caller))));
};

/** DELETE /api/subjects/{subjectKey}/reference — remove the enrolled reference. */
export const removeSubjectReference: HttpRoute<BackOfficeCaller> = async ({ request, deps }) => {
  await removeReference(deps, keyParam(request));
  return { status: 204 };
};

/** GET /api/subjects/{subjectKey}/images?name= — an image of the subject (the links in the export). */
export const getSubjectImage: HttpRoute<BackOfficeCaller> = async ({ request, deps }) => {
  const subjectKey = keyParam(request);
  const { parseQuery, subjectImageQuerySchema } = await contract();
  const { name } = parseQuery(subjectImageQuerySchema, request.query, { byField: { name: 'BadArgument' }, otherwise: 'BadArgument' });
  const image = await subjectImage(deps, subjectKey, name);
  return { status: 200, body: image.bytes, headers: { ...SECURITY_HEADERS, 'content-type': image.contentType } };
};

backOfficeHttp('subjects-export', { route: 'subjects/{subjectKey}', methods: ['GET'], handler: exportSubjectData });
backOfficeHttp('subjects-erase', { route: 'subjects/{subjectKey}', methods: ['DELETE'], handler: eraseSubjectData });
backOfficeHttp('subjects-reference-enrol', { route: 'subjects/{subjectKey}/reference', methods: ['PUT'], handler: enrolSubjectReference });
backOfficeHttp('subjects-reference-remove', { route: 'subjects/{subjectKey}/reference', methods: ['DELETE'], handler: removeSubjectReference });
backOfficeHttp('subjects-reference-promote', { route: 'subjects/{subjectKey}/reference/promote', methods: ['POST'], handler: promoteSubjectReference });
backOfficeHttp('subjects-images', { route: 'subjects/{subjectKey}/images', methods: ['GET'], handler: getSubjectImage });
