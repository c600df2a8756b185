// The contract of each HTTP operation, keyed by the operation ids of the operation table (src/operations.ts):
// what it is (tag, summary, description), what it takes (path, query and header parameters, the body) and what it
// answers by status, as zod schemas with their documentation. src/openapi/document.ts joins each entry with its row
// of the table (route, method, auth) into the OpenAPI paths, adding what follows from the auth: the security
// scheme, the 401 (and 403) answers, and for the back office its twin under /backoffice and its 500 and 503.
//
// Only the document generator (at build time) and the tests load this module; the handlers load the request
// schemas they parse with from src/contract/index.ts, on the first request that needs them.
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiResponseObject } from 'zod-openapi';
import type { OperationId } from '../operations.js';
import {
  auditEntryListSchema, cacheControlHeaderSchema, completeRequestSchema, completionAcceptedSchema, correlationIdResetSchema,
  deletionReceiptSchema,
  deliveryAttemptListSchema, deviceStatusSchema, enrolReferenceRequestBodySchema, errorResponseSchema,
  eventIdPathSchema, failedDeliveryPageSchema, healthSchema, idempotencyKeyHeaderSchema,
  idempotentReplayedHeaderSchema, listFailedDeliveriesQuerySchema, listSessionsQuerySchema,
  livenessSessionPageSchema, livenessSessionSchema, locationHeaderSchema, nosniffHeaderSchema,
  openApiDocumentBodySchema, privacySchema, promoteReferenceRequestSchema, redeliveryAcceptedSchema,
  requestInProgressRetryAfterHeaderSchema, retryAfterHeaderSchema, reviewQueuePageSchema, reviewQueueQuerySchema,
  sessionIdPathSchema, sessionImagePathSchema, settleReviewRequestSchema, startSessionRequestBodySchema,
  startedSessionSchema, subjectExportSchema, subjectImageQuerySchema, subjectKeyPathSchema, subjectKeyRequestSchema,
  subjectKeySchema, subjectReferenceSchema, wwwAuthenticateHeaderSchema, SESSION_IMAGE_MEDIA_TYPES,
  checkpointWrittenSchema, evidenceExportQuerySchema, evidenceExportSchema, evidenceKeysSchema,
  createVerificationRequestBodySchema, createdVerificationSchema, exchangeLinkRequestSchema, linkExchangeSchema,
  listVerificationsQuerySchema, verificationIdPathSchema, verificationLinkSchema, verificationLocationHeaderSchema,
  verificationPageSchema, verificationSchema,
} from './index.js';
import {
  attestationIdentitySchema, attestationSessionQuerySchema, challengeResponseSchema, registerResponseSchema,
  sealedRequestSchema, sealedResponseSchema, signedPayloadSchema, verifyResponseSchema,
} from './attestation.js';

export interface OperationContract {
  tag: 'device' | 'back office' | 'evidence' | 'operations' | 'device attestation' | 'relying party';
  summary: string;
  description: string;
  requestParams?: ZodOpenApiOperationObject['requestParams'];
  requestBody?: ZodOpenApiOperationObject['requestBody'];
  /**
   * Every answer by status, success and error. Not listed here, because the auth decides them: 401 (and 403 for
   * Entra ID) for device and back-office operations, and 500 and 503 for device and back-office operations.
   */
  responses: Record<string, ZodOpenApiResponseObject | { $ref: string }>;
}

export const BACKOFFICE_ROLE_NOTE = "The app role is set by BACKOFFICE_AUTH_ROLE (default 'LivenessSessions.Manage').";
export const VERIFICATIONS_ROLE_NOTE = "The app role is set by VERIFICATIONS_AUTH_ROLE (default 'Verifications.Create').";

export const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });
export const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
export const noStore = { 'Cache-Control': cacheControlHeaderSchema };

const okJson = (description: string, schema: z.ZodType): ZodOpenApiResponseObject => ({
  description,
  headers: z.object(noStore),
  content: json(schema),
});
const error = (description: string, headers: Record<string, z.ZodType> = {}): ZodOpenApiResponseObject => ({
  description,
  headers: z.object({ ...noStore, ...headers }),
  content: json(errorResponseSchema),
});

/** Responses shared by several operations: components of the document, referenced with ref(name). */
export const RESPONSE_COMPONENTS = {
  BadRequest: error('The request is invalid: a malformed form or field, an image that is too small or not an image, an '
    + "image Face refused (Face's code, e.g. InvalidImage), or a bad query parameter (BadArgument, InvalidContinuationToken)."),
  DeviceUnauthorized: error('No bearer token, or one that is expired, not from the device identity provider, or not for '
    + 'this API.', { 'WWW-Authenticate': wwwAuthenticateHeaderSchema }),
  BackOfficeUnauthorized: error(`No bearer token, an invalid one, or back-office sign-in is not configured for this app. `
    + BACKOFFICE_ROLE_NOTE, { 'WWW-Authenticate': wwwAuthenticateHeaderSchema }),
  BackOfficeForbidden: error(`Forbidden: a valid token without the back-office app role. ${BACKOFFICE_ROLE_NOTE}`),
  RelyingPartyUnauthorized: error('No bearer token, an invalid one, or relying-party sign-in is not configured for this '
    + `app (it uses the back office's Entra ID issuer and audience). ${VERIFICATIONS_ROLE_NOTE}`, { 'WWW-Authenticate': wwwAuthenticateHeaderSchema }),
  RelyingPartyForbidden: error('Forbidden: a valid token that is not a relying party\'s: without the app role, or a '
    + `device's token (or a verification link's access token). ${VERIFICATIONS_ROLE_NOTE}`),
  FunctionsKeyUnauthorized: {
    description: 'No valid Functions admin (master) key. Answered by the Functions host before the app runs; the body is '
      + 'not part of this API.',
    'x-host-generated': true,
  },
  NotFound: error('SessionNotFound: no such session (or it is being deleted). For device routes, also a session that '
    + 'belongs to another device subject; any id that is not a GUID is a 404 too.'),
  Conflict: error('ConcurrentUpdate: the session kept changing under the request; try again.'),
  InternalError: error('InternalError, or ConfigurationError when the app settings are invalid.'),
  ServiceUnavailable: error('FaceUnavailable (Face is rate limiting, failing or unreachable) or StorageUnavailable. '
    + 'Retry after Retry-After seconds.', { 'Retry-After': retryAfterHeaderSchema }),
} satisfies Record<string, ZodOpenApiResponseObject>;
const list: OperationContract = {
  tag: 'back office',
  summary: 'List sessions',
  description: 'Sessions newest first, a page at a time, optionally filtered by status or device. Unknown query '
    + 'parameters are refused.',
  requestParams: { query: listSessionsQuerySchema },
  responses: { 200: okJson('A page of sessions.', livenessSessionPageSchema), 400: ref('BadRequest') },
};

const get: OperationContract = {
  tag: 'back office',
  summary: 'Read a session',
  description: 'The session, its latest result (audit entry) and the decision with its evidence.',
  requestParams: { path: sessionIdPathSchema },
  responses: { 200: okJson('The session.', livenessSessionSchema), 404: ref('NotFound') },
};

const del: OperationContract = {
  tag: 'back office',
  summary: 'Delete a session',
  description: 'Deletes the Face session, the verify and session images, the audit entries and the record. An '
    + 'interrupted delete can be repeated; once done, the session is 404.',
  requestParams: { path: sessionIdPathSchema },
  responses: { 204: { description: 'Deleted.' }, 404: ref('NotFound'), 409: ref('Conflict') },
};

const audit: OperationContract = {
  tag: 'back office',
  summary: "List a session's attempts",
  description: 'Every finished attempt collected from Face, oldest first.',
  requestParams: { path: sessionIdPathSchema },
  responses: { 200: okJson('The audit entries.', auditEntryListSchema), 404: ref('NotFound') },
};

const jsonBody = (schema: z.ZodType, example: unknown): ZodOpenApiOperationObject['requestBody'] => ({
  required: true,
  content: { 'application/json': { schema, examples: { example: { value: example } } } },
});
const subjectNotFound = error('SubjectNotFound: the app holds nothing about this subject key (or it is not 64 hex digits).');
const subjectErasing = error('SubjectErasing: the subject is being erased; nothing new can be stored for it.');

const subjectKey: OperationContract = {
  tag: 'back office',
  summary: 'Get the key of a subject',
  description: "The subject key of a device token subject (the token's `sub`): HMAC-SHA256 under the deployment's "
    + 'SUBJECT_KEY_SECRET. The raw subject travels only in this body; every /subjects route takes the key, so no raw '
    + 'subject id ends up in URLs or logs.',
  requestBody: jsonBody(subjectKeyRequestSchema, { subject: 'user-8c1f42' }),
  responses: { 200: okJson('The subject key.', subjectKeySchema), 400: ref('BadRequest'), 415: error('UnsupportedMediaType: the body is not application/json.') },
};

const exportSubject: OperationContract = {
  tag: 'back office',
  summary: 'Export everything of a subject',
  description: 'Everything the app holds about the subject (GDPR Art. 15): the subject record, the enrolled '
    + 'reference, consents, sessions with their decisions, reviews and audit entries, lockout, quota and '
    + 'Idempotency-Key rows, and earlier deletion receipts. Images are links to GET /subjects/{subjectKey}/images. '
    + 'Read by key: one partition per table, never a scan of all sessions.',
  requestParams: { path: subjectKeyPathSchema },
  responses: { 200: okJson('The export.', subjectExportSchema), 404: subjectNotFound },
};

const eraseSubject: OperationContract = {
  tag: 'back office',
  summary: 'Erase everything of a subject',
  description: 'GDPR Art. 17: deletes the subject\'s sessions (the Face sessions still alive, verify and session '
    + 'images, audit entries, rows), the enrolled reference, consents, lockout, quota and Idempotency-Key rows and '
    + 'the subject record, and answers a deletion receipt (kinds and counts, when, by whom; hashes only). '
    + 'Idempotent and resumable: an interrupted erasure is finished by calling again or by the sweep. While it runs, '
    + 'the subject cannot start checks (409 SubjectErasing).',
  requestParams: { path: subjectKeyPathSchema },
  responses: { 200: okJson('Erased; the receipt.', deletionReceiptSchema), 404: subjectNotFound, 409: ref('Conflict') },
};

const enrolReference: OperationContract = {
  tag: 'back office',
  summary: 'Enrol a reference image',
  description: "Enrols (or replaces) the subject's reference: device checks then start without an image and verify "
    + 'against this one; a device image is refused (400 ReferenceEnrolled). Checked like verify images (1 KB to 6 MB, '
    + 'JPEG, PNG, BMP, GIF or WebP by its bytes).',
  requestParams: { path: subjectKeyPathSchema },
  requestBody: {
    required: true,
    content: { 'multipart/form-data': { schema: enrolReferenceRequestBodySchema, encoding: { referenceImage: { contentType: 'image/jpeg, image/png, image/bmp, image/gif, image/webp, application/octet-stream' } } } },
  },
  responses: {
    200: okJson('The enrolled reference.', subjectReferenceSchema),
    400: ref('BadRequest'), 404: subjectNotFound, 409: subjectErasing,
    413: error('InvalidImageSize: the image is larger than 6 MB.'), 415: error('UnsupportedMediaType: the body is not multipart/form-data.'),
  },
};

const promoteReference: OperationContract = {
  tag: 'back office',
  summary: "Promote a passed session's verify image",
  description: "The verify image of one of the subject's sessions whose outcome is pass (automated or settled by a "
    + 'reviewer) becomes the enrolled reference. 409 VerifyImageGone when image retention already deleted it.',
  requestParams: { path: subjectKeyPathSchema },
  requestBody: jsonBody(promoteReferenceRequestSchema, { sessionId: '019ac1f2-7a3b-7c4d-8e5f-0123456789ab' }),
  responses: {
    200: okJson('The enrolled reference.', subjectReferenceSchema),
    400: ref('BadRequest'), 404: error('SessionNotFound: the subject has no such session.'),
    409: error('SessionNotPassed, VerifyImageGone or SubjectErasing.'), 415: error('UnsupportedMediaType: the body is not application/json.'),
  },
};

const resetCorrelationId: OperationContract = {
  tag: 'back office',
  summary: "Reset the subject's abuse-monitoring correlation id",
  description: 'Face v1.3 abuse monitoring flags a correlation id when the same face turns up under another one, and '
    + "Face creates no sessions for a flagged id. After a person has reviewed the flag and cleared it, this issues the "
    + 'subject a new random id (Microsoft\'s abuse-monitoring guidance). The id itself never leaves the app.',
  requestParams: { path: subjectKeyPathSchema },
  responses: { 200: okJson('The new id was issued.', correlationIdResetSchema), 404: subjectNotFound, 409: subjectErasing },
};

const removeReference: OperationContract = {
  tag: 'back office',
  summary: 'Remove the enrolled reference',
  description: 'Deletes the enrolled reference and its image. Devices may then bring their own image again, if '
    + 'SUBJECT_DEVICE_REFERENCE_ALLOWED is on.',
  requestParams: { path: subjectKeyPathSchema },
  responses: { 204: { description: 'Removed.' }, 404: error('ReferenceNotFound: the subject has no enrolled reference (SubjectNotFound: the key is not 64 hex digits).'), 409: subjectErasing },
};

const subjectImage: OperationContract = {
  tag: 'back office',
  summary: 'Read an image of a subject',
  description: 'The bytes of an image linked from the export: the enrolled reference, or a verify or session image '
    + "of one of the subject's sessions. Any other name is a 404.",
  requestParams: { path: subjectKeyPathSchema, query: subjectImageQuerySchema },
  responses: { 200: {
    description: 'The image.',
    headers: z.object(noStore),
    content: { 'image/jpeg': { schema: z.string().meta({ format: 'binary' }) }, 'image/png': { schema: z.string().meta({ format: 'binary' }) } },
  }, 400: ref('BadRequest'), 404: error('ImageNotFound: no such image of this subject (SubjectNotFound: the key is not 64 hex digits).') },
};

const reviewQueue: OperationContract = {
  tag: 'back office',
  summary: 'List sessions awaiting review',
  description: 'Sessions the decision policy sent to review (match confidence in the review band) that no reviewer '
    + 'has settled, oldest first, a page at a time; read from the review index by key, not by scanning sessions.',
  requestParams: { query: reviewQueueQuerySchema },
  responses: { 200: okJson('A page of sessions awaiting review.', reviewQueuePageSchema), 400: ref('BadRequest') },
};

const settleReview: OperationContract = {
  tag: 'back office',
  summary: 'Settle a review',
  description: 'A person decides a session awaiting review: pass or fail, with a reason. The reviewer (Entra object '
    + 'id, or admin-key) and the time are recorded next to the automated decision, which stays as it was; the '
    + "device's status then shows the reviewer's outcome.",
  requestParams: { path: sessionIdPathSchema },
  requestBody: jsonBody(settleReviewRequestSchema, { outcome: 'pass', reason: 'Same person: glasses in the reference photo.' }),
  responses: {
    200: okJson('The session, with the review.', livenessSessionSchema),
    400: ref('BadRequest'), 404: ref('NotFound'),
    409: error('NotAwaitingReview: the session is not awaiting review. ReviewAlreadySettled: it was settled before.'),
    415: error('UnsupportedMediaType: the body is not application/json.'),
  },
};

const privacy: OperationContract = {
  tag: 'device',
  summary: 'Consent texts and retention schedule',
  description: 'What a device shows before it collects anything: the consent text versions (`consent.currentVersion` '
    + 'is what a create must send as consentVersion) and how long each kind of data is kept. Anonymous.',
  responses: { 200: okJson('The privacy notice.', privacySchema), 500: ref('InternalError') },};

const evidenceKeys: OperationContract = {
  tag: 'evidence',
  summary: 'Public keys of the evidence log',
  description: 'The JWKS (ES256) of every key that signed evidence checkpoints: the current one and every key rotated '
    + 'out, so old checkpoints stay verifiable. Anonymous: anyone holding a receipt or an export can verify it.',
  responses: { 200: okJson('The keys.', evidenceKeysSchema), 500: ref('InternalError'), 503: ref('ServiceUnavailable') },
};

const evidenceCheckpoint: OperationContract = {
  tag: 'back office',
  summary: 'Sign a checkpoint now',
  description: 'Signs every evidence chain\'s head now (the sweep does it on its schedule). Answers 200 with the latest '
    + 'checkpoint when nothing was appended since it.',
  responses: {
    201: okJson('The new checkpoint (200: the latest one, unchanged).', checkpointWrittenSchema),
    200: okJson('Nothing appended since the latest checkpoint: that one.', checkpointWrittenSchema),
  },
};

const evidenceExport: OperationContract = {
  tag: 'back office',
  summary: 'Export evidence for a time range',
  description: 'The checkpoints written in [from, to] (at most 92 days), the checkpoint before them, every record they '
    + 'cover and the public keys: everything `npm run evidence:verify` needs, offline. Key-range reads only.',
  requestParams: { query: evidenceExportQuerySchema },
  responses: { 200: okJson('The export.', evidenceExportSchema), 400: ref('BadRequest') },
};

const deliveryNotFound = error('DeliveryNotFound: no such event (or, for redelivery, it is not dead-lettered); '
  + 'any id that is not an event id is a 404 too.');

const webhookFailures: OperationContract = {
  tag: 'back office',
  summary: 'List failed webhook deliveries',
  description: 'Events whose delivery gave up after the retry window (WEBHOOK_RETRY_WINDOW_SECONDS, 24 h by default), '
    + 'oldest first, a page at a time. Redeliver one with POST /webhook-events/{eventId}/redeliver.',
  requestParams: { query: listFailedDeliveriesQuerySchema },
  responses: { 200: okJson('A page of failed deliveries.', failedDeliveryPageSchema), 400: ref('BadRequest') },
};

const webhookAttempts: OperationContract = {
  tag: 'back office',
  summary: "List an event's delivery attempts",
  description: 'Every try to deliver the event: when, the receiver\'s status code (or why there was none), how long '
    + 'it took and when the next try is due. Never the payload or the receiver\'s answer.',
  requestParams: { path: eventIdPathSchema },
  responses: { 200: okJson('The attempts, oldest first.', deliveryAttemptListSchema), 404: deliveryNotFound },
};

const webhookRedeliver: OperationContract = {
  tag: 'back office',
  summary: 'Redeliver a failed webhook event',
  description: 'Queues a dead-lettered event for delivery again, with the same event id (receivers de-duplicate on it) '
    + 'and a fresh retry window; it leaves the failed list.',
  requestParams: { path: eventIdPathSchema },
  responses: { 202: okJson('Queued.', redeliveryAcceptedSchema), 404: deliveryNotFound },
};

// Images are binary: each media type is listed without a schema (OpenAPI 3.1's way to say "these bytes").
const imageResponse = (description: string): ZodOpenApiResponseObject => ({
  description,
  headers: z.object({ ...noStore, 'X-Content-Type-Options': nosniffHeaderSchema }),
  content: Object.fromEntries(SESSION_IMAGE_MEDIA_TYPES.map((type) => [type, {}])),
});
const imageNotFound = error('SessionNotFound: no such session. ImageNotFound: no such image (none was kept for that '
  + 'attempt, or retention has removed the images).');

const verifyImage: OperationContract = {
  tag: 'back office',
  summary: "Read a session's verify image",
  description: 'The reference photo the session was started with, as stored (its sniffed type). Biometric data: '
    + 'served only to the back office, never cached, never through a public blob URL.',
  requestParams: { path: sessionIdPathSchema },
  responses: { 200: imageResponse('The verify image.'), 404: imageNotFound },
};

const sessionImage: OperationContract = {
  tag: 'back office',
  summary: "Read an attempt's session image",
  description: 'The frame Face kept for one attempt (JPEG from Face), copied into storage when the result was collected; '
    + 'its type is read from its bytes. '
    + 'Biometric data: served only to the back office, never cached, never through a public blob URL.',
  requestParams: { path: sessionImagePathSchema },
  responses: { 200: imageResponse('The session image.'), 404: imageNotFound },
};

const create: OperationContract = {
  tag: 'device',
  summary: 'Start a liveness check',
  description: 'The device starts a liveness-with-verify session with the reference photo of the person (the verify '
    + 'image). The image is checked (1 KB to 6 MB; JPEG, PNG, BMP, GIF or WebP by its bytes) and sent to Face, which '
    + 'must find exactly one face in it. The server owns the policy (liveness mode, session image kept, token lifetime '
    + 'cap): a device may ask only for something at least as strict, anything weaker is a 400 naming the limit. Failed '
    + 'attempts lock the subject (and its device) out for a while, and a subject may hold only a few sessions open and '
    + 'start only so many per window (429). With an Idempotency-Key, a retried request returns the same session instead '
    + 'of starting another.',
  requestParams: { header: idempotencyKeyHeaderSchema },
  requestBody: {
    required: true,
    content: {
      'multipart/form-data': {
        schema: startSessionRequestBodySchema,
        encoding: { verifyImage: { contentType: 'image/jpeg, image/png, image/bmp, image/gif, image/webp, application/octet-stream' } },
      },
    },
  },
  responses: {
    201: {
      description: 'The session was created (or, with a repeated Idempotency-Key, the earlier one is returned).',
      headers: z.object({ ...noStore, Location: locationHeaderSchema, 'Idempotent-Replayed': idempotentReplayedHeaderSchema }),
      content: json(startedSessionSchema),
    },
    400: error('The request is invalid: ConsentRequired (consentVersion missing or not current; nothing was read or '
      + 'stored), ReferenceEnrolled (a verifyImage while a reference is enrolled), MissingVerifyImage, '
      + "DeviceReferenceNotAllowed, ReferenceRequired, a malformed form or field, an image Face refused (Face's code), ..."),
    404: error('SessionNotFound: the session an Idempotency-Key points to no longer exists.'),
    409: error('RequestInProgress: the first request with this Idempotency-Key is still running (Retry-After: 1). '
      + 'SessionNoLongerActive: the session made for this Idempotency-Key has ended; use a new key. SubjectErasing: the '
      + 'user is being erased. ReferenceUnavailable: the enrolled reference is being replaced.', {
      'Retry-After': requestInProgressRetryAfterHeaderSchema,
    }),
    413: error('InvalidImageSize: the verify image (or the whole body) is larger than 6 MB.'),
    415: error('UnsupportedMediaType: the body is not multipart/form-data (or Face refused the image type).'),
    422: error('IdempotencyKeyReused: this Idempotency-Key was used with a different request.'),
    429: error('TooManyAttempts: too many failed attempts for this subject (or its device); locked out. QuotaExceeded: '
      + 'too many sessions open for this subject, or started in the window.', { 'Retry-After': retryAfterHeaderSchema }),
  },};

const complete: OperationContract = {
  tag: 'device',
  summary: 'Report the capture as done',
  description: 'The device says its capture with the Face client SDK finished; the app then collects the result from '
    + 'Face in the background. Idempotent. The answer never contains the decision or scores: poll the status. The '
    + 'optional JSON body carries the result digest the client SDK reported (digest binding).',
  requestParams: { path: sessionIdPathSchema },
  requestBody: {
    required: false,
    content: { 'application/json': { schema: completeRequestSchema, examples: { example: { value: { digest: '2B39F2E0EFDFDBFB9B079908498A583545EBED38D8ACA800FF0B8E770799F3BF' } } } } },
  },
  responses: {
    202: okJson('Accepted; the result is being collected.', completionAcceptedSchema),
    400: error("InvalidDigest: 'digest' is not 16 to 128 hex digits. DigestRequired: the service requires the digest. "
      + 'InvalidJson, BadArgument: the body is not the JSON object described.'),
    415: error('UnsupportedMediaType: a body that is not application/json.'),
    404: ref('NotFound'),
    409: ref('Conflict'),
    429: error('TooManyAttempts: the subject is locked out after failed attempts; its sessions are not collected until '
      + 'the lockout ends.', { 'Retry-After': retryAfterHeaderSchema }),
  },};

const status: OperationContract = {
  tag: 'device',
  summary: "Poll the device's outcome",
  description: 'What the device may know about its own session: pending, pass, fail or retry. No scores, no reasons.',
  requestParams: { path: sessionIdPathSchema },
  responses: {
    200: okJson('The outcome so far.', deviceStatusSchema),
    404: ref('NotFound'),
  },};

const health: OperationContract = {
  tag: 'operations',
  summary: 'Health',
  description: "Whether storage and Face are reachable with this app's credentials. Anonymous; reveals no secrets. When a setting is still an unresolved Key Vault reference, 503 with `checks.settings` naming it, and nothing probed.",
  responses: {
    200: okJson('Healthy.', healthSchema),
    503: okJson('A dependency is unhealthy (see `checks`).', healthSchema),
    500: ref('InternalError'),
  },};

const openapi: OperationContract = {
  tag: 'operations',
  summary: 'This API description',
  description: 'The OpenAPI 3.1 document you are reading. Anonymous.',
  responses: { 200: okJson('The document.', openApiDocumentBodySchema) },};

// The device-attestation protocol (Microsoft's backend_samples): anonymous in the table (no bearer); the attested
// device key is the credential, so the refusals (401) and failures are listed here.
const attestationOp = (summary: string, description: string, query: z.ZodObject, body: z.ZodType | undefined, ok: ZodOpenApiResponseObject): OperationContract => ({
  tag: 'device attestation', summary, description,
  requestParams: { query },
  ...(body ? { requestBody: { required: true, content: json(body) } } : {}),
  responses: {
    200: ok,
    400: ref('BadRequest'),
    401: error('The attestation or request proof was refused (forged, replayed, cross-session, wrong app); the code names why.'),
    404: ref('NotFound'),
    409: ref('Conflict'),
    413: error('BodyTooLarge.'),
    500: ref('InternalError'),
    503: ref('ServiceUnavailable'),
  },
});
const attestChallenge = attestationOp('Issue the one-time attestation challenge',
  'Once per session created for attestation; binds the session to the client id and platform.', attestationIdentitySchema, undefined,
  okJson('The challenge (its bytes are the App Attest clientDataHash / Key Attestation challenge).', challengeResponseSchema));
const attestRegister = attestationOp('Register a device (first run)',
  'App Attest on iOS; hardware Key Attestation plus Play Integrity on Android. Answers the session\'s server key.', attestationIdentitySchema, signedPayloadSchema,
  okJson('Attested; the server key for this session.', registerResponseSchema));
const attestVerify = attestationOp('Verify a returning device',
  'A device registered before (iOS: with a fresh App Attest assertion). `exists: false` means: register.', attestationIdentitySchema, signedPayloadSchema,
  okJson('Whether the device is known, and if so the server key.', verifyResponseSchema));
const sessionToken = attestationOp('Release the Face token to the attested device',
  'Once per session, encrypted to the device\'s per-session key.', attestationSessionQuerySchema, sealedRequestSchema,
  okJson('The token, sealed to the device.', sealedResponseSchema));
const livenessDigest = attestationOp('Report the SDK\'s result digest',
  'Signed and sealed by the attested device; stored with the session (attestedDigest) for the digest binding.', attestationSessionQuerySchema, sealedRequestSchema,
  okJson('Acknowledged, sealed to the device.', sealedResponseSchema));
const wellKnown = (summary: string): OperationContract => ({
  tag: 'device attestation', summary,
  description: 'Generated from the ATTESTATION_* settings; the OS fetches it at /.well-known/ on the app-link host (map that path here).',
  responses: { 200: { description: 'The document, from settings.', content: { 'application/json': { schema: z.unknown() } } } },
});

/** One contract per row of the operation table: a row without one (or one without a row) does not compile. */
const verificationNotFound = error('VerificationNotFound: no such verification of yours (another relying party\'s is '
  + 'a 404 too; so is an id that is not a GUID).');
const linkGone = error('The link cannot be used (a person-readable message): LinkUsed (already opened once), '
  + 'LinkExpired (its lifetime ended), LinkInvalid (unknown, replaced by a newer link, or the verification was cancelled).');

const createVerification: OperationContract = {
  tag: 'relying party',
  summary: 'Create a verification',
  description: "The relying party's back end starts a check for one of its users and gets a single-use link to hand "
    + 'to the person. Everything is checked before anything is stored: the returnUrl against VERIFICATION_RETURN_URLS, '
    + "the person's policy as for a device create (erasure in progress, lockout, quota) and the reference rules (an "
    + 'enrolled reference, or the referenceImage given here). The outcome arrives by webhook (events carry '
    + 'verificationId and clientReferenceId) and by GET /verifications/{verificationId}. With an Idempotency-Key, a '
    + 'retried request returns the same verification (with a new link: the earlier one dies).',
  requestParams: { header: idempotencyKeyHeaderSchema },
  requestBody: {
    required: true,
    content: {
      'multipart/form-data': {
        schema: createVerificationRequestBodySchema,
        encoding: { referenceImage: { contentType: 'image/jpeg, image/png, image/bmp, image/gif, image/webp, application/octet-stream' } },
      },
    },
  },
  responses: {
    201: {
      description: 'The verification was created (or, with a repeated Idempotency-Key, the earlier one is returned).',
      headers: z.object({ ...noStore, Location: verificationLocationHeaderSchema, 'Idempotent-Replayed': idempotentReplayedHeaderSchema }),
      content: json(createdVerificationSchema),
    },
    400: error('ReturnUrlNotAllowed (not in VERIFICATION_RETURN_URLS), InvalidExternalUserId, InvalidClientReferenceId, '
      + 'InvalidLocale, ReferenceEnrolled, ReferenceRequired, DeviceReferenceNotAllowed, an image that is not one, ...'),
    409: error('SubjectErasing: the person is being erased. RequestInProgress: the first request with this '
      + 'Idempotency-Key is still running.', { 'Retry-After': requestInProgressRetryAfterHeaderSchema }),
    413: error('InvalidImageSize: the reference image (or the whole body) is larger than 6 MB.'),
    415: error('UnsupportedMediaType: the body is not multipart/form-data.'),
    422: error('IdempotencyKeyReused: this Idempotency-Key was used with a different request.'),
    429: error('TooManyAttempts: the person is locked out after failed checks. QuotaExceeded: too many checks open or '
      + 'started for the person.', { 'Retry-After': retryAfterHeaderSchema }),
  },
};

const getVerification: OperationContract = {
  tag: 'relying party',
  summary: 'Read a verification',
  description: 'Status, link state, outcome, coarse reasons and times of one of your verifications. Never scores.',
  requestParams: { path: verificationIdPathSchema },
  responses: { 200: okJson('The verification.', verificationSchema), 404: verificationNotFound },
};

const cancelVerification: OperationContract = {
  tag: 'relying party',
  summary: 'Cancel a verification',
  description: 'Kills the link (it then answers 410) and deletes the check as the back office delete does (the Face '
    + 'session, images, audit entries and the session record) and the reference image given at create. The '
    + 'verification then reads as cancelled. Idempotent.',
  requestParams: { path: verificationIdPathSchema },
  responses: { 204: { description: 'Cancelled.' }, 404: verificationNotFound, 409: ref('Conflict') },
};

const exchangeVerificationLink: OperationContract = {
  tag: 'device',
  summary: 'Exchange a verification link',
  description: 'The page opened from a verification link trades the link token (from the URL fragment, sent in this '
    + 'body: never in a URL) for a short-lived access token for the device routes, plus what it needs to show: the '
    + 'consent texts, the returnUrl and locale. Single use: of two concurrent exchanges of one token exactly one wins.',
  requestBody: jsonBody(exchangeLinkRequestSchema, { token: 'vlt_019ac1f2-7a3b-7c4d-8e5f-0123456789ab.<secret>' }),
  responses: {
    200: okJson('The access token and what the page shows.', linkExchangeSchema),
    400: ref('BadRequest'),
    410: linkGone,
    415: error('UnsupportedMediaType: the body is not application/json.'),
  },
};

const listVerifications: OperationContract = {
  tag: 'back office',
  summary: 'List verifications',
  description: 'Verifications newest first, a page at a time: status, link state, the session started from the link.',
  requestParams: { query: listVerificationsQuerySchema },
  responses: { 200: okJson('A page of verifications.', verificationPageSchema), 400: ref('BadRequest') },
};

const reissueVerificationLink: OperationContract = {
  tag: 'back office',
  summary: 'Issue a new link for a verification',
  description: 'A new single-use link (shown by the console as a QR code, so the person can move to a phone); the '
    + 'previous link and any access token from it die. Only while no check was started from the verification.',
  requestParams: { path: verificationIdPathSchema },
  responses: {
    200: okJson('The new link.', verificationLinkSchema),
    404: verificationNotFound,
    409: error('VerificationUsed: a check was already started from this verification (or it is cancelled or decided).'),
  },
};

export const OPERATION_CONTRACTS: { [Id in OperationId]: OperationContract } = {
  createLivenessSession: create,
  completeLivenessSession: complete,
  getLivenessSessionStatus: status,
  getPrivacy: privacy,
  attestationChallenge: attestChallenge,
  attestationRegister: attestRegister,
  attestationVerify: attestVerify,
  sessionToken,
  livenessDigest,
  appleAppSiteAssociation: wellKnown('Apple app-site association (Universal Links)'),
  assetLinks: wellKnown('Android Digital Asset Links'),
  listLivenessSessions: list,
  getLivenessSession: get,
  deleteLivenessSession: del,
  listLivenessAuditEntries: audit,
  getLivenessSessionVerifyImage: verifyImage,
  getLivenessSessionImage: sessionImage,
  listReviewQueue: reviewQueue,
  settleLivenessSessionReview: settleReview,
  createSubjectKey: subjectKey,
  exportSubject,
  eraseSubject,
  enrolSubjectReference: enrolReference,
  removeSubjectReference: removeReference,
  promoteSubjectReference: promoteReference,
  resetSubjectCorrelationId: resetCorrelationId,
  getSubjectImage: subjectImage,
  listWebhookFailures: webhookFailures,
  listWebhookAttempts: webhookAttempts,
  redeliverWebhookEvent: webhookRedeliver,
  getEvidenceKeys: evidenceKeys,
  writeEvidenceCheckpoint: evidenceCheckpoint,
  exportEvidence: evidenceExport,
  getHealth: health,
  getOpenApiDocument: openapi,
  createVerification,
  getVerification,
  cancelVerification,
  exchangeVerificationLink,
  listVerifications,
  reissueVerificationLink,
};
