import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json, readJson } from '../shared/http.js';
import { contract } from '../shared/contract.js';

// The use cases load with the first invocation, not while the host indexes the functions (cold start).
const subjectKeysModule = () => import('../core/subject-keys.js');

/**
 * POST /api/subject-keys — back office: the subject key of a device token subject. The raw subject travels in this
 * body only, never in a URL; every /subjects route takes the key.
 */
export const createSubjectKey: OperationHandler<'createSubjectKey'> = async ({ request, deps }) => {
  const { parseJsonBody, subjectKeyRequestSchema } = await contract();
  const { subject } = parseJsonBody(subjectKeyRequestSchema, await readJson(request), { subject: 'InvalidSubject' });
  return json(200, (await subjectKeysModule()).resolveSubjectKey(deps, subject));
};

httpOperation('createSubjectKey', createSubjectKey);
