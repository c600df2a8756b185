// Generates the OpenAPI 3.1 description of the app's HTTP API from the zod schemas in src/contract, with zod-openapi
// (which renders each schema with zod 4's own JSON Schema output and assembles parameters, headers and components).
// Only document-level matter is written here: info, servers, tags, security schemes, and which schemas, statuses
// and headers each operation answers with. `npm run build` writes the result to dist/src/openapi/openapi.json
// (src/openapi/generate.ts), which GET /api/openapi.json serves; nothing here runs in the function app itself.
import {
  attestationIdentitySchema, attestationSessionQuerySchema, challengeResponseSchema, registerResponseSchema, sealedRequestSchema,
  sealedResponseSchema, signedPayloadSchema, verifyResponseSchema,
} from '../contract/attestation.js';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponseObject } from 'zod-openapi';
import {
  auditEntryListSchema, cacheControlHeaderSchema, completionAcceptedSchema, deviceStatusSchema, errorResponseSchema,
  healthSchema, idempotencyKeyHeaderSchema, idempotentReplayedHeaderSchema, listSessionsQuerySchema,
  livenessSessionPageSchema, livenessSessionSchema, locationHeaderSchema, nosniffHeaderSchema, openApiDocumentBodySchema,
  requestInProgressRetryAfterHeaderSchema, retryAfterHeaderSchema, SESSION_IMAGE_MEDIA_TYPES, sessionIdPathSchema,
  sessionImagePathSchema, startedSessionSchema, startSessionRequestBodySchema, wwwAuthenticateHeaderSchema,
  deletionReceiptSchema, enrolReferenceRequestBodySchema, privacySchema, promoteReferenceRequestSchema, reviewQueuePageSchema,
  reviewQueueQuerySchema, settleReviewRequestSchema, subjectExportSchema, subjectImageQuerySchema, subjectKeyPathSchema,
  subjectKeyRequestSchema, subjectKeySchema, subjectReferenceSchema,
  deliveryAttemptListSchema, eventIdPathSchema, failedDeliveryPageSchema, listFailedDeliveriesQuerySchema,
  redeliveryAcceptedSchema, reviewSettledEventSchema, sessionDecidedEventSchema, sessionErasedEventSchema,
  sessionExpiredEventSchema, subjectErasedEventSchema, webhookRequestHeadersSchema,
} from '../contract/index.js';

const BACKOFFICE_ROLE_NOTE = "The app role is set by BACKOFFICE_AUTH_ROLE (default 'LivenessSessions.Manage').";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type OpenApiDocument = { [key: string]: Json };

const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });
const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const noStore = { 'Cache-Control': cacheControlHeaderSchema };

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

const responses = {
  BadRequest: error('The request is invalid: a malformed form or field, an image that is too small or not an image, an '
    + "image Face refused (Face's code, e.g. InvalidImage), or a bad query parameter (BadArgument, InvalidContinuationToken)."),
  DeviceUnauthorized: error('No bearer token, or one that is expired, not from the device identity provider, or not for '
    + 'this API.', { 'WWW-Authenticate': wwwAuthenticateHeaderSchema }),
  BackOfficeUnauthorized: error(`No bearer token, an invalid one, or back-office sign-in is not configured for this app. `
    + BACKOFFICE_ROLE_NOTE, { 'WWW-Authenticate': wwwAuthenticateHeaderSchema }),
  BackOfficeForbidden: error(`Forbidden: a valid token without the back-office app role. ${BACKOFFICE_ROLE_NOTE}`),
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
type ResponseName = keyof typeof responses;

interface BackOfficeOperation {
  operationId: string;
  summary: string;
  description: string;
  requestParams?: ZodOpenApiOperationObject['requestParams'];
  requestBody?: ZodOpenApiOperationObject['requestBody'];
  ok: [status: string, response: ZodOpenApiResponseObject];
  extra?: Record<string, ZodOpenApiResponseObject | { $ref: string }>;
}

/** Back-office operations exist twice: with the Functions admin key at /x and with an Entra ID token at /backoffice/x. */
function backOffice(op: BackOfficeOperation): { admin: ZodOpenApiOperationObject; entra: ZodOpenApiOperationObject } {
  const common = (unauthorized: ResponseName, forbidden?: ResponseName): Pick<ZodOpenApiOperationObject, 'requestParams' | 'requestBody' | 'responses'> => ({
    ...(op.requestParams ? { requestParams: op.requestParams } : {}),
    ...(op.requestBody ? { requestBody: op.requestBody } : {}),
    responses: {
      [op.ok[0]]: op.ok[1],
      ...(op.extra ?? {}),
      401: ref(unauthorized),
      ...(forbidden ? { 403: ref(forbidden) } : {}),
      500: ref('InternalError'),
      503: ref('ServiceUnavailable'),
    },
  });
  return {
    admin: {
      operationId: op.operationId,
      tags: ['back office'],
      summary: op.summary,
      description: `${op.description} Authorized by the Functions admin (master) key in the x-functions-key header, for `
        + 'local runs: the key is refused in the URL (?code=, 401) and BACKOFFICE_ADMIN_KEY_ENABLED=false (as in Azure) '
        + 'turns it off (403). In Azure, use the /backoffice route with Entra ID.',
      security: [{ functionsKeyHeader: [] }],
      ...common('FunctionsKeyUnauthorized'),
    },
    entra: {
      operationId: `${op.operationId}WithEntraId`,
      tags: ['back office'],
      summary: `${op.summary} (Entra ID)`,
      description: `${op.description} Authorized by an Entra ID bearer token with the back-office app role. ${BACKOFFICE_ROLE_NOTE}`,
      security: [{ backOfficeBearer: ['LivenessSessions.Manage'] }],
      ...common('BackOfficeUnauthorized', 'BackOfficeForbidden'),
    },
  };
}

const list = backOffice({
  operationId: 'listLivenessSessions',
  summary: 'List sessions',
  description: 'Sessions newest first, a page at a time, optionally filtered by status or device. Unknown query '
    + 'parameters are refused.',
  requestParams: { query: listSessionsQuerySchema },
  ok: ['200', okJson('A page of sessions.', livenessSessionPageSchema)],
  extra: { 400: ref('BadRequest') },
});

const get = backOffice({
  operationId: 'getLivenessSession',
  summary: 'Read a session',
  description: 'The session, its latest result (audit entry) and the decision with its evidence.',
  requestParams: { path: sessionIdPathSchema },
  ok: ['200', okJson('The session.', livenessSessionSchema)],
  extra: { 404: ref('NotFound') },
});

const del = backOffice({
  operationId: 'deleteLivenessSession',
  summary: 'Delete a session',
  description: 'Deletes the Face session, the verify and session images, the audit entries and the record. An '
    + 'interrupted delete can be repeated; once done, the session is 404.',
  requestParams: { path: sessionIdPathSchema },
  ok: ['204', { description: 'Deleted.' }],
  extra: { 404: ref('NotFound'), 409: ref('Conflict') },
});

const audit = backOffice({
  operationId: 'listLivenessAuditEntries',
  summary: "List a session's attempts",
  description: 'Every finished attempt collected from Face, oldest first.',
  requestParams: { path: sessionIdPathSchema },
  ok: ['200', okJson('The audit entries.', auditEntryListSchema)],
  extra: { 404: ref('NotFound') },
});

const jsonBody = (schema: z.ZodType, example: unknown): ZodOpenApiOperationObject['requestBody'] => ({
  required: true,
  content: { 'application/json': { schema, examples: { example: { value: example } } } },
});
const subjectNotFound = error('SubjectNotFound: the app holds nothing about this subject key (or it is not 64 hex digits).');
const subjectErasing = error('SubjectErasing: the subject is being erased; nothing new can be stored for it.');

const subjectKey = backOffice({
  operationId: 'createSubjectKey',
  summary: 'Get the key of a subject',
  description: "The subject key of a device token subject (the token's `sub`): HMAC-SHA256 under the deployment's "
    + 'SUBJECT_KEY_SECRET. The raw subject travels only in this body; every /subjects route takes the key, so no raw '
    + 'subject id ends up in URLs or logs.',
  requestBody: jsonBody(subjectKeyRequestSchema, { subject: 'user-8c1f42' }),
  ok: ['200', okJson('The subject key.', subjectKeySchema)],
  extra: { 400: ref('BadRequest'), 415: error('UnsupportedMediaType: the body is not application/json.') },
});

const exportSubject = backOffice({
  operationId: 'exportSubject',
  summary: 'Export everything of a subject',
  description: 'Everything the app holds about the subject (GDPR Art. 15): the subject record, the enrolled '
    + 'reference, consents, sessions with their decisions, reviews and audit entries, lockout, quota and '
    + 'Idempotency-Key rows, and earlier deletion receipts. Images are links to GET /subjects/{subjectKey}/images. '
    + 'Read by key: one partition per table, never a scan of all sessions.',
  requestParams: { path: subjectKeyPathSchema },
  ok: ['200', okJson('The export.', subjectExportSchema)],
  extra: { 404: subjectNotFound },
});

const eraseSubject = backOffice({
  operationId: 'eraseSubject',
  summary: 'Erase everything of a subject',
  description: 'GDPR Art. 17: deletes the subject\'s sessions (the Face sessions still alive, verify and session '
    + 'images, audit entries, rows), the enrolled reference, consents, lockout, quota and Idempotency-Key rows and '
    + 'the subject record, and answers a deletion receipt (kinds and counts, when, by whom; hashes only). '
    + 'Idempotent and resumable: an interrupted erasure is finished by calling again or by the sweep. While it runs, '
    + 'the subject cannot start checks (409 SubjectErasing).',
  requestParams: { path: subjectKeyPathSchema },
  ok: ['200', okJson('Erased; the receipt.', deletionReceiptSchema)],
  extra: { 404: subjectNotFound, 409: ref('Conflict') },
});

const enrolReference = backOffice({
  operationId: 'enrolSubjectReference',
  summary: 'Enrol a reference image',
  description: "Enrols (or replaces) the subject's reference: device checks then start without an image and verify "
    + 'against this one; a device image is refused (400 ReferenceEnrolled). Checked like verify images (1 KB to 6 MB, '
    + 'JPEG, PNG, BMP, GIF or WebP by its bytes).',
  requestParams: { path: subjectKeyPathSchema },
  requestBody: {
    required: true,
    content: { 'multipart/form-data': { schema: enrolReferenceRequestBodySchema, encoding: { referenceImage: { contentType: 'image/jpeg, image/png, image/bmp, image/gif, image/webp, application/octet-stream' } } } },
  },
  ok: ['200', okJson('The enrolled reference.', subjectReferenceSchema)],
  extra: {
    400: ref('BadRequest'), 404: subjectNotFound, 409: subjectErasing,
    413: error('InvalidImageSize: the image is larger than 6 MB.'), 415: error('UnsupportedMediaType: the body is not multipart/form-data.'),
  },
});

const promoteReference = backOffice({
  operationId: 'promoteSubjectReference',
  summary: "Promote a passed session's verify image",
  description: "The verify image of one of the subject's sessions whose outcome is pass (automated or settled by a "
    + 'reviewer) becomes the enrolled reference. 409 VerifyImageGone when image retention already deleted it.',
  requestParams: { path: subjectKeyPathSchema },
  requestBody: jsonBody(promoteReferenceRequestSchema, { sessionId: '019ac1f2-7a3b-7c4d-8e5f-0123456789ab' }),
  ok: ['200', okJson('The enrolled reference.', subjectReferenceSchema)],
  extra: {
    400: ref('BadRequest'), 404: error('SessionNotFound: the subject has no such session.'),
    409: error('SessionNotPassed, VerifyImageGone or SubjectErasing.'), 415: error('UnsupportedMediaType: the body is not application/json.'),
  },
});

const removeReference = backOffice({
  operationId: 'removeSubjectReference',
  summary: 'Remove the enrolled reference',
  description: 'Deletes the enrolled reference and its image. Devices may then bring their own image again, if '
    + 'SUBJECT_DEVICE_REFERENCE_ALLOWED is on.',
  requestParams: { path: subjectKeyPathSchema },
  ok: ['204', { description: 'Removed.' }],
  extra: { 404: error('ReferenceNotFound: the subject has no enrolled reference (SubjectNotFound: the key is not 64 hex digits).'), 409: subjectErasing },
});

const subjectImage = backOffice({
  operationId: 'getSubjectImage',
  summary: 'Read an image of a subject',
  description: 'The bytes of an image linked from the export: the enrolled reference, or a verify or session image '
    + "of one of the subject's sessions. Any other name is a 404.",
  requestParams: { path: subjectKeyPathSchema, query: subjectImageQuerySchema },
  ok: ['200', {
    description: 'The image.',
    headers: z.object(noStore),
    content: { 'image/jpeg': { schema: z.string().meta({ format: 'binary' }) }, 'image/png': { schema: z.string().meta({ format: 'binary' }) } },
  }],
  extra: { 400: ref('BadRequest'), 404: error('ImageNotFound: no such image of this subject (SubjectNotFound: the key is not 64 hex digits).') },
});

const reviewQueue = backOffice({
  operationId: 'listReviewQueue',
  summary: 'List sessions awaiting review',
  description: 'Sessions the decision policy sent to review (match confidence in the review band) that no reviewer '
    + 'has settled, oldest first, a page at a time; read from the review index by key, not by scanning sessions.',
  requestParams: { query: reviewQueueQuerySchema },
  ok: ['200', okJson('A page of sessions awaiting review.', reviewQueuePageSchema)],
  extra: { 400: ref('BadRequest') },
});

const settleReview = backOffice({
  operationId: 'settleLivenessSessionReview',
  summary: 'Settle a review',
  description: 'A person decides a session awaiting review: pass or fail, with a reason. The reviewer (Entra object '
    + 'id, or admin-key) and the time are recorded next to the automated decision, which stays as it was; the '
    + "device's status then shows the reviewer's outcome.",
  requestParams: { path: sessionIdPathSchema },
  requestBody: jsonBody(settleReviewRequestSchema, { outcome: 'pass', reason: 'Same person: glasses in the reference photo.' }),
  ok: ['200', okJson('The session, with the review.', livenessSessionSchema)],
  extra: {
    400: ref('BadRequest'), 404: ref('NotFound'),
    409: error('NotAwaitingReview: the session is not awaiting review. ReviewAlreadySettled: it was settled before.'),
    415: error('UnsupportedMediaType: the body is not application/json.'),
  },
});

const privacy: ZodOpenApiOperationObject = {
  operationId: 'getPrivacy',
  tags: ['device'],
  summary: 'Consent texts and retention schedule',
  description: 'What a device shows before it collects anything: the consent text versions (`consent.currentVersion` '
    + 'is what a create must send as consentVersion) and how long each kind of data is kept. Anonymous.',
  security: [],
  responses: { 200: okJson('The privacy notice.', privacySchema), 500: ref('InternalError') },
};

const deliveryNotFound = error('DeliveryNotFound: no such event (or, for redelivery, it is not dead-lettered); '
  + 'any id that is not an event id is a 404 too.');

const webhookFailures = backOffice({
  operationId: 'listWebhookFailures',
  summary: 'List failed webhook deliveries',
  description: 'Events whose delivery gave up after the retry window (WEBHOOK_RETRY_WINDOW_SECONDS, 24 h by default), '
    + 'oldest first, a page at a time. Redeliver one with POST /webhook-events/{eventId}/redeliver.',
  requestParams: { query: listFailedDeliveriesQuerySchema },
  ok: ['200', okJson('A page of failed deliveries.', failedDeliveryPageSchema)],
  extra: { 400: ref('BadRequest') },
});

const webhookAttempts = backOffice({
  operationId: 'listWebhookAttempts',
  summary: "List an event's delivery attempts",
  description: 'Every try to deliver the event: when, the receiver\'s status code (or why there was none), how long '
    + 'it took and when the next try is due. Never the payload or the receiver\'s answer.',
  requestParams: { path: eventIdPathSchema },
  ok: ['200', okJson('The attempts, oldest first.', deliveryAttemptListSchema)],
  extra: { 404: deliveryNotFound },
});

const webhookRedeliver = backOffice({
  operationId: 'redeliverWebhookEvent',
  summary: 'Redeliver a failed webhook event',
  description: 'Queues a dead-lettered event for delivery again, with the same event id (receivers de-duplicate on it) '
    + 'and a fresh retry window; it leaves the failed list.',
  requestParams: { path: eventIdPathSchema },
  ok: ['202', okJson('Queued.', redeliveryAcceptedSchema)],
  extra: { 404: deliveryNotFound },
});

const webhookDescription = 'Sent to WEBHOOK_URL as a Standard Webhooks delivery (https://www.standardwebhooks.com): '
  + 'a JSON body signed with HMAC-SHA256 under the shared whsec_ secret (headers webhook-id, webhook-timestamp, '
  + 'webhook-signature). Verify with a standardwebhooks library over the raw body before parsing it. Answer 2xx within '
  + 'WEBHOOK_TIMEOUT_MS (10 s) to acknowledge; anything else (a redirect included: they are not followed) is retried '
  + 'with exponential backoff for WEBHOOK_RETRY_WINDOW_SECONDS (24 h), then dead-lettered for the back office. '
  + 'Delivery is at least once: the same event may arrive twice with the same webhook-id; drop copies by id.';

const webhook = (name: string, summary: string, schema: z.ZodType): ZodOpenApiOperationObject => ({
  operationId: name,
  tags: ['webhooks'],
  summary,
  description: webhookDescription,
  security: [],
  requestParams: { header: webhookRequestHeadersSchema },
  requestBody: { required: true, content: json(schema) },
  responses: {
    '2XX': { description: 'Received (the body of the answer is ignored and never logged).' },
    default: { description: 'Not received: the delivery is tried again later.' },
  },
});

// Images are binary: each media type is listed without a schema (OpenAPI 3.1's way to say "these bytes").
const imageResponse = (description: string): ZodOpenApiResponseObject => ({
  description,
  headers: z.object({ ...noStore, 'X-Content-Type-Options': nosniffHeaderSchema }),
  content: Object.fromEntries(SESSION_IMAGE_MEDIA_TYPES.map((type) => [type, {}])),
});
const imageNotFound = error('SessionNotFound: no such session. ImageNotFound: no such image (none was kept for that '
  + 'attempt, or retention has removed the images).');

const verifyImage = backOffice({
  operationId: 'getLivenessSessionVerifyImage',
  summary: "Read a session's verify image",
  description: 'The reference photo the session was started with, as stored (its sniffed type). Biometric data: '
    + 'served only to the back office, never cached, never through a public blob URL.',
  requestParams: { path: sessionIdPathSchema },
  ok: ['200', imageResponse('The verify image.')],
  extra: { 404: imageNotFound },
});

const sessionImage = backOffice({
  operationId: 'getLivenessSessionImage',
  summary: "Read an attempt's session image",
  description: 'The frame Face kept for one attempt (JPEG from Face), copied into storage when the result was collected; '
    + 'its type is read from its bytes. '
    + 'Biometric data: served only to the back office, never cached, never through a public blob URL.',
  requestParams: { path: sessionImagePathSchema },
  ok: ['200', imageResponse('The session image.')],
  extra: { 404: imageNotFound },
});

const create: ZodOpenApiOperationObject = {
  operationId: 'createLivenessSession',
  tags: ['device'],
  summary: 'Start a liveness check',
  description: 'The device starts a liveness-with-verify session with the reference photo of the person (the verify '
    + 'image). The image is checked (1 KB to 6 MB; JPEG, PNG, BMP, GIF or WebP by its bytes) and sent to Face, which '
    + 'must find exactly one face in it. The server owns the policy (liveness mode, session image kept, token lifetime '
    + 'cap): a device may ask only for something at least as strict, anything weaker is a 400 naming the limit. Failed '
    + 'attempts lock the subject (and its device) out for a while, and a subject may hold only a few sessions open and '
    + 'start only so many per window (429). With an Idempotency-Key, a retried request returns the same session instead '
    + 'of starting another.',
  security: [{ deviceBearer: [] }],
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
    401: ref('DeviceUnauthorized'),
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
    500: ref('InternalError'),
    503: ref('ServiceUnavailable'),
  },
};


// The device-attestation protocol (Microsoft's backend_samples): no bearer; the attested device key is the credential.
const attestationResponses = (ok: ZodOpenApiResponseObject): ZodOpenApiOperationObject['responses'] => ({
  200: ok,
  400: ref('BadRequest'),
  401: error('The attestation or request proof was refused (forged, replayed, cross-session, wrong app); the code names why.'),
  404: ref('NotFound'),
  409: ref('Conflict'),
  413: error('BodyTooLarge.'),
  500: ref('InternalError'),
  503: ref('ServiceUnavailable'),
});
const attestationOp = (operationId: string, summary: string, description: string, query: z.ZodObject, body: z.ZodType | undefined, ok: ZodOpenApiResponseObject): ZodOpenApiOperationObject => ({
  operationId, tags: ['device attestation'], summary, description, security: [],
  requestParams: { query },
  ...(body ? { requestBody: { required: true, content: json(body) } } : {}),
  responses: attestationResponses(ok),
});
const attestChallenge = attestationOp('attestationChallenge', 'Issue the one-time attestation challenge',
  'Once per session created for attestation; binds the session to the client id and platform.', attestationIdentitySchema, undefined,
  okJson('The challenge (its bytes are the App Attest clientDataHash / Key Attestation challenge).', challengeResponseSchema));
const attestRegister = attestationOp('attestationRegister', 'Register a device (first run)',
  'App Attest on iOS; hardware Key Attestation plus Play Integrity on Android. Answers the session\'s server key.', attestationIdentitySchema, signedPayloadSchema,
  okJson('Attested; the server key for this session.', registerResponseSchema));
const attestVerify = attestationOp('attestationVerify', 'Verify a returning device',
  'A device registered before (iOS: with a fresh App Attest assertion). `exists: false` means: register.', attestationIdentitySchema, signedPayloadSchema,
  okJson('Whether the device is known, and if so the server key.', verifyResponseSchema));
const sessionTokenOp = attestationOp('sessionToken', 'Release the Face token to the attested device',
  'Once per session, encrypted to the device\'s per-session key.', attestationSessionQuerySchema, sealedRequestSchema,
  okJson('The token, sealed to the device.', sealedResponseSchema));
const livenessDigestOp = attestationOp('livenessDigest', 'Report the SDK\'s result digest',
  'Signed and sealed by the attested device; stored with the session (clientDigest) for the digest binding.', attestationSessionQuerySchema, sealedRequestSchema,
  okJson('Acknowledged, sealed to the device.', sealedResponseSchema));
const wellKnown = (operationId: string, summary: string): ZodOpenApiOperationObject => ({
  operationId, tags: ['device attestation'], summary, security: [],
  description: 'Generated from the ATTESTATION_* settings; the OS fetches it at /.well-known/ on the app-link host (map that path here).',
  responses: { 200: { description: 'The document, from settings.', content: { 'application/json': { schema: z.unknown() } } } },
});

const complete: ZodOpenApiOperationObject = {
  operationId: 'completeLivenessSession',
  tags: ['device'],
  summary: 'Report the capture as done',
  description: 'The device says its capture with the Face client SDK finished; the app then collects the result from '
    + 'Face in the background. Idempotent. The answer never contains the decision or scores: poll the status.',
  security: [{ deviceBearer: [] }],
  requestParams: { path: sessionIdPathSchema },
  responses: {
    202: okJson('Accepted; the result is being collected.', completionAcceptedSchema),
    401: ref('DeviceUnauthorized'),
    404: ref('NotFound'),
    409: ref('Conflict'),
    429: error('TooManyAttempts: the subject is locked out after failed attempts; its sessions are not collected until '
      + 'the lockout ends.', { 'Retry-After': retryAfterHeaderSchema }),
    500: ref('InternalError'),
    503: ref('ServiceUnavailable'),
  },
};

const status: ZodOpenApiOperationObject = {
  operationId: 'getLivenessSessionStatus',
  tags: ['device'],
  summary: "Poll the device's outcome",
  description: 'What the device may know about its own session: pending, pass, fail or retry. No scores, no reasons.',
  security: [{ deviceBearer: [] }],
  requestParams: { path: sessionIdPathSchema },
  responses: {
    200: okJson('The outcome so far.', deviceStatusSchema),
    401: ref('DeviceUnauthorized'),
    404: ref('NotFound'),
    500: ref('InternalError'),
    503: ref('ServiceUnavailable'),
  },
};

const health: ZodOpenApiOperationObject = {
  operationId: 'getHealth',
  tags: ['operations'],
  summary: 'Health',
  description: "Whether storage and Face are reachable with this app's credentials. Anonymous; reveals no secrets. When a setting is still an unresolved Key Vault reference, 503 with `checks.settings` naming it, and nothing probed.",
  security: [],
  responses: {
    200: okJson('Healthy.', healthSchema),
    503: okJson('A dependency is unhealthy (see `checks`).', healthSchema),
    500: ref('InternalError'),
  },
};

const openapi: ZodOpenApiOperationObject = {
  operationId: 'getOpenApiDocument',
  tags: ['operations'],
  summary: 'This API description',
  description: 'The OpenAPI 3.1 document you are reading. Anonymous.',
  security: [],
  responses: { 200: okJson('The document.', openApiDocumentBodySchema) },
};

// OpenAPI 3.1's info.summary is missing from zod-openapi's InfoObject type; a variable passes it through unchanged.
const info = {
  title: 'Face liveness functions',
  version: '0.1.0',
  summary: 'Azure AI Face liveness detection with face verification, as an app server for devices and a back office.',
  description: 'Flow: the device reads the consent text (GET /privacy), then starts a session with the consent version '
    + 'and, unless the back office enrolled a reference for the user, a verify image (POST /liveness-sessions), and gets a Face '
    + 'session token; it runs the Face liveness client SDK with that token; it reports completion (POST '
    + '/liveness-sessions/{sessionId}/complete) and polls its outcome (GET .../status). The back office reads, lists, '
    + 'audits and deletes sessions and reads their images, with the Functions admin key or, under /backoffice, an Entra ID token.\n\n'
    + 'Every error is `{"error": {"code", "message"}}` with the status below.',
};

const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** Builds the document. Deterministic: the same schemas give the same JSON. */
export function createOpenApiDocument(): OpenApiDocument {
  const document = createDocument({
    openapi: '3.1.0',
    info,
    servers: [{ url: '/api', description: 'The Functions route prefix, on the app\'s own host.' }],
    tags: [
      { name: 'device', description: 'Called by the device app with its bearer token.' },
      { name: 'back office', description: 'Called by staff tooling: Functions admin key, or Entra ID under /backoffice.' },
      { name: 'operations', description: 'Health and API description.' },
      { name: 'device attestation', description: "Microsoft's device-attestation protocol: the attested app's key, not a bearer, is the credential." },
      { name: 'webhooks', description: 'Events this app sends to the relying party\'s receiver (WEBHOOK_URL).' },
    ],
    paths: {
      '/liveness-sessions': { post: create, get: list.admin },
      '/liveness-sessions/{sessionId}': { get: get.admin, delete: del.admin },
      '/liveness-sessions/{sessionId}/audit-entries': { get: audit.admin },
      '/liveness-sessions/{sessionId}/verify-image': { get: verifyImage.admin },
      '/liveness-sessions/{sessionId}/session-images/{attemptId}': { get: sessionImage.admin },
      '/liveness-sessions/{sessionId}/complete': { post: complete },
      '/liveness-sessions/{sessionId}/status': { get: status },
      '/attestation/challenge': { post: attestChallenge },
      '/attestation/register': { post: attestRegister },
      '/attestation/verify': { post: attestVerify },
      '/session/token': { post: sessionTokenOp },
      '/liveness/digest': { post: livenessDigestOp },
      '/well-known/apple-app-site-association': { get: wellKnown('appleAppSiteAssociation', 'Apple app-site association (Universal Links)') },
      '/well-known/assetlinks.json': { get: wellKnown('assetLinks', 'Android Digital Asset Links') },
      '/backoffice/liveness-sessions': { get: list.entra },
      '/backoffice/liveness-sessions/{sessionId}': { get: get.entra, delete: del.entra },
      '/backoffice/liveness-sessions/{sessionId}/audit-entries': { get: audit.entra },
      '/backoffice/liveness-sessions/{sessionId}/verify-image': { get: verifyImage.entra },
      '/backoffice/liveness-sessions/{sessionId}/session-images/{attemptId}': { get: sessionImage.entra },
      '/liveness-sessions/{sessionId}/review': { post: settleReview.admin },
      '/backoffice/liveness-sessions/{sessionId}/review': { post: settleReview.entra },
      '/review-queue': { get: reviewQueue.admin },
      '/backoffice/review-queue': { get: reviewQueue.entra },
      '/subject-keys': { post: subjectKey.admin },
      '/backoffice/subject-keys': { post: subjectKey.entra },
      '/subjects/{subjectKey}': { get: exportSubject.admin, delete: eraseSubject.admin },
      '/backoffice/subjects/{subjectKey}': { get: exportSubject.entra, delete: eraseSubject.entra },
      '/subjects/{subjectKey}/reference': { put: enrolReference.admin, delete: removeReference.admin },
      '/backoffice/subjects/{subjectKey}/reference': { put: enrolReference.entra, delete: removeReference.entra },
      '/subjects/{subjectKey}/reference/promote': { post: promoteReference.admin },
      '/backoffice/subjects/{subjectKey}/reference/promote': { post: promoteReference.entra },
      '/subjects/{subjectKey}/images': { get: subjectImage.admin },
      '/backoffice/subjects/{subjectKey}/images': { get: subjectImage.entra },
      '/privacy': { get: privacy },
      '/webhook-failures': { get: webhookFailures.admin },
      '/webhook-events/{eventId}/attempts': { get: webhookAttempts.admin },
      '/webhook-events/{eventId}/redeliver': { post: webhookRedeliver.admin },
      '/backoffice/webhook-failures': { get: webhookFailures.entra },
      '/backoffice/webhook-events/{eventId}/attempts': { get: webhookAttempts.entra },
      '/backoffice/webhook-events/{eventId}/redeliver': { post: webhookRedeliver.entra },
      '/health': { get: health },
      '/openapi.json': { get: openapi },
    },
    webhooks: {
      'liveness.session.decided': { post: webhook('livenessSessionDecided', 'A session was decided', sessionDecidedEventSchema) },
      'liveness.review.settled': { post: webhook('livenessReviewSettled', 'A review was settled', reviewSettledEventSchema) },
      'liveness.session.expired': { post: webhook('livenessSessionExpired', 'A session ended without a result', sessionExpiredEventSchema) },
      'liveness.session.erased': { post: webhook('livenessSessionErased', 'A session was erased', sessionErasedEventSchema) },
      'liveness.subject.erased': { post: webhook('livenessSubjectErased', 'A subject was erased', subjectErasedEventSchema) },
    },
    components: {
      responses,
      securitySchemes: {
        deviceBearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "A JWT from the device identity provider (DEVICE_AUTH_ISSUER) for this API's audience "
            + '(DEVICE_AUTH_AUDIENCE). Its subject owns the sessions it creates; other subjects get 404.',
        },
        functionsKeyHeader: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'The Function app\'s admin (master) key; checked by the Functions host.',
        },
        backOfficeBearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `An Entra ID access token (BACKOFFICE_AUTH_ISSUER, BACKOFFICE_AUTH_AUDIENCE) carrying the back-office `
            + `app role in its roles claim. ${BACKOFFICE_ROLE_NOTE}`,
        },
      },
    },
  }, {
    // Rendering rules, not schemas: a format already says what zod's long regex for it says, and zod's implicit
    // safe-integer bounds on z.int() are not a limit of this API.
    override: ({ jsonSchema }) => {
      const schema = jsonSchema as Record<string, unknown>;
      if (schema.format === 'date-time' || schema.format === 'uuid') delete schema.pattern;
      for (const key of ['minimum', 'maximum'] as const) {
        if (typeof schema[key] === 'number' && SAFE_INTEGER_BOUNDS.has(schema[key])) delete schema[key];
      }
    },
  });
  // OpenAPI 3.1's jsonSchemaDialect is missing from zod-openapi's input type; it goes right after `openapi`.
  const { openapi: version, ...rest } = JSON.parse(JSON.stringify(document)) as OpenApiDocument;
  return { openapi: version!, jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base', ...rest };
}
