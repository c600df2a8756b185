import { resolveSubjectKey } from '../core/subject-keys.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, readJson } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/**
 * POST /api/subject-keys — back office: the subject key of a device token subject. The raw subject travels in this
 * body only, never in a URL; every /subjects route takes the key.
 */
export const createSubjectKey: OperationHandler<'createSubjectKey'> = async ({ request, deps }) => {
  const { parseJsonBody, subjectKeyRequestSchema } = await contract();
  const { subject } = parseJsonBody(subjectKeyRequestSchema, await readJson(request), { subject: 'InvalidSubject' });
  return json(200, resolveSubjectKey(deps, subject));
};

httpOperation('createSubjectKey', createSubjectKey);
