import { privacyNotice } from '../core/consent.js';
import { anonymousHttp } from '../shared/auth.js';
import type { HttpRoute } from '../shared/handler.js';
import { json } from '../shared/http.js';

/** GET /api/privacy — anonymous: the consent texts, the version a device must send, and the retention schedule. */
export const getPrivacy: HttpRoute<undefined> = async ({ deps }) => json(200, privacyNotice(deps.settings));

anonymousHttp('privacy', { route: 'privacy', methods: ['GET'], handler: getPrivacy });
