import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';

// The use cases load with the first invocation, not while the host indexes the functions (cold start).
const consentModule = () => import('../core/consent.js');

/** GET /api/privacy — anonymous: the consent texts, the version a device must send, and the retention schedule. */
export const getPrivacy: OperationHandler<'getPrivacy'> = async ({ deps }) => json(200, (await consentModule()).privacyNotice(deps.settings));

httpOperation('getPrivacy', getPrivacy);
