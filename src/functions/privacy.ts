import { privacyNotice } from '../core/consent.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';

/** GET /api/privacy — anonymous: the consent texts, the version a device must send, and the retention schedule. */
export const getPrivacy: OperationHandler<'getPrivacy'> = async ({ deps }) => json(200, privacyNotice(deps.settings));

httpOperation('getPrivacy', getPrivacy);
