// The requests of the HTTP API: the start form's fields, the list query, the Idempotency-Key header and the path's
// session id. The handlers parse with these (through the parse* functions below, which keep the error codes and
// messages the API has always answered), and the OpenAPI document renders the same schemas, so the two cannot drift.
// Every value arrives as text (form fields, query, headers); the preprocess steps turn the text into the typed
// value the document describes (an integer, a boolean, an enum member) and leave anything else to be refused.
import { z } from 'zod';
import { MAX_VERIFY_IMAGE_BYTES, MIN_VERIFY_IMAGE_BYTES } from '../core/verify-image.js';
import { DEVICE_PLATFORMS } from '../core/attestation-state.js';
import { LIVENESS_OPERATION_MODES, SESSION_STATUSES } from '../core/vocabulary.js';
import { livenessOperationModeSchema, sessionStatusSchema } from './enums.js';
import { parseWith, printable, type ParseCodes } from './parse.js';

/** "600" → 600 when it is 1 to `digits` decimal digits; anything else is left for the number schema to refuse. */
const wholeNumberText = (digits: number) => (value: unknown) =>
  typeof value === 'string' && new RegExp(`^\\d{1,${digits}}$`).test(value) ? Number(value) : value;

const deviceCorrelationIdField = z.string({ error: 'deviceCorrelationId must be printable ASCII without spaces' })
  .min(1, 'deviceCorrelationId must not be empty')
  .max(64, 'deviceCorrelationId must be at most 64 characters')
  .regex(/^[\x21-\x7e]+$/, 'deviceCorrelationId must be printable ASCII without spaces')
  .meta({ description: 'Your id for the device (printable ASCII, no spaces). Lockouts also count per device of the same subject.', examples: ['kiosk-0042'] });

/** The consent version field: checked against CONSENT_CURRENT_VERSION by the core (400 ConsentRequired). */
export const consentVersionField = z.string({ error: 'consentVersion must be 1 to 64 printable ASCII characters' })
  .regex(/^[\x21-\x7e]{1,64}$/, 'consentVersion must be 1 to 64 printable ASCII characters')
  .meta({
    description: 'The version of the consent text the person saw and agreed to (`consent.currentVersion` of GET '
      + '/api/privacy). Required while CONSENT_REQUIRED is on (the default): without it, or with another version, the '
      + 'answer is 400 ConsentRequired and nothing is read or stored.',
    examples: ['2026-01'],
  });

/** The text fields of the start request (multipart/form-data), as the handler parses them. */
export const startSessionFormSchema = z.strictObject({
  deviceCorrelationId: deviceCorrelationIdField.optional(),
  livenessOperationMode: z.preprocess(
    // Matched case-insensitively, surrounding spaces ignored, as it always was.
    (value) => (typeof value === 'string' ? LIVENESS_OPERATION_MODES.find((m) => m.toLowerCase() === value.trim().toLowerCase()) ?? value : value),
    livenessOperationModeSchema,
  ).optional().meta({ description: 'Default: LIVENESS_OPERATION_MODE (Passive), which is also the least strict mode allowed: when it is PassiveActive, Passive is refused (400 LivenessOperationModeNotAllowed). Matched case-insensitively.' }),
  authTokenTimeToLiveInSeconds: z.preprocess(
    wholeNumberText(6),
    z.int({ error: 'authTokenTimeToLiveInSeconds must be a whole number of seconds from 60 to 86400' })
      .min(60, 'authTokenTimeToLiveInSeconds must be at least 60')
      .max(86_400, 'authTokenTimeToLiveInSeconds must be at most 86400'),
  ).optional().meta({ description: 'How long the session token lives. Default and maximum: LIVENESS_AUTH_TOKEN_TTL_SECONDS (600); longer is refused (400 TokenLifetimeTooLong).', examples: [600] }),
  enableSessionImage: z.preprocess(
    (value) => (value === 'true' ? true : value === 'false' ? false : value),
    z.boolean({ error: "enableSessionImage must be 'true' or 'false'" }),
  ).optional().meta({ description: "Whether Face keeps the captured session image (copied to storage as capture evidence, kept per the image retention). Default: LIVENESS_ENABLE_SESSION_IMAGE (true); while that is on, 'false' is refused (400 SessionImageRequired).", override: { default: true } }),
  consentVersion: consentVersionField.optional(),
  platform: z.enum(DEVICE_PLATFORMS, { error: "platform must be 'ios', 'android' or 'web'" }).optional().meta({
    description: "The device's platform. When LIVENESS_ATTESTATION_IOS / _ANDROID is 'required' for it, the answer holds no "
      + '`authToken`: the app gets it through the device-attestation protocol (/api/attestation/*, /api/session/token).',
  }),
});

export type StartSessionForm = z.output<typeof startSessionFormSchema>;



/** The form part names the handler accepts: text fields, and the one file part. */
export const START_SESSION_FORM_FIELDS = Object.keys(startSessionFormSchema.shape) as Array<keyof StartSessionForm>;
export const START_SESSION_FORM_FILES = ['verifyImage'] as const;

/** The whole multipart body as the document describes it: the text fields plus the verify image file part. */
export const startSessionRequestBodySchema = startSessionFormSchema.extend({
  verifyImage: z.file().optional().meta({
    description: `The reference photo (a file part; ${MIN_VERIFY_IMAGE_BYTES / 1024} KB to ${MAX_VERIFY_IMAGE_BYTES / 1024 / 1024} MB; `
      + 'JPEG, PNG, BMP, GIF or WebP, recognised by its bytes). Leave it out when the back office enrolled a reference '
      + 'for the user: the server then uses that one, and a verifyImage next to it is refused (400 ReferenceEnrolled). '
      + 'Without an enrolled reference it is required (400 MissingVerifyImage), unless SUBJECT_DEVICE_REFERENCE_ALLOWED '
      + 'is false, which refuses device images altogether (400 DeviceReferenceNotAllowed / ReferenceRequired).',
    contentMediaType: 'application/octet-stream',
  }),
});

/** The enrolment upload (multipart/form-data, one file part). */
export const ENROL_REFERENCE_FORM_FILES = ['referenceImage'] as const;
export const enrolReferenceRequestBodySchema = z.strictObject({
  referenceImage: z.file().meta({
    description: `The reference photo (a file part; ${MIN_VERIFY_IMAGE_BYTES / 1024} KB to ${MAX_VERIFY_IMAGE_BYTES / 1024 / 1024} MB; `
      + 'JPEG, PNG, BMP, GIF or WebP, recognised by its bytes). Face checks it when the first session uses it.',
    contentMediaType: 'application/octet-stream',
  }),
});

/** The 400 codes of the start form's text fields (and the message, where one covers every issue in the field). */
export const startSessionFormCodes: ParseCodes = {
  byField: {
    deviceCorrelationId: 'InvalidDeviceCorrelationId',
    livenessOperationMode: { code: 'InvalidLivenessOperationMode', message: "livenessOperationMode must be 'Passive' or 'PassiveActive'" },
    authTokenTimeToLiveInSeconds: 'InvalidTokenLifetime',
    enableSessionImage: 'InvalidEnableSessionImage',
    consentVersion: 'ConsentRequired',
    platform: 'InvalidPlatform',
  },
  otherwise: 'UnknownField',
  unknownKey: (key) => `Unexpected form field '${printable(key)}'.`,
};

/** Parses the start form's text fields; a bad field is a 400 with the field's own code. */
export function parseStartSessionForm(fields: Record<string, string>): StartSessionForm {
  return parseWith(startSessionFormSchema, fields, startSessionFormCodes);
}

/** The request headers the API reads besides Authorization. */
export const idempotencyKeyHeaderSchema = z.object({
  'Idempotency-Key': z.string({ error: 'Idempotency-Key must be 1 to 255 printable ASCII characters.' })
    .regex(/^[\x21-\x7e]{1,255}$/, 'Idempotency-Key must be 1 to 255 printable ASCII characters.')
    .optional()
    .meta({
      description: 'Any 1 to 255 printable ASCII characters, unique per request the client means. Remembered per device '
        + 'subject for IDEMPOTENCY_TTL_SECONDS (default 24 h).',
      examples: ['6f1d0c1e-5a7b-4c3d-9e8f-0a1b2c3d4e5f'],
    }),
});

/** The Idempotency-Key header (case-insensitive name), or undefined; a malformed key is 400 InvalidIdempotencyKey. */
export function parseIdempotencyKey(headers: { get(name: string): string | null }): string | undefined {
  const value = headers.get('idempotency-key') ?? undefined;
  return parseWith(idempotencyKeyHeaderSchema, { 'Idempotency-Key': value }, idempotencyKeyCodes)['Idempotency-Key'];
}

export const idempotencyKeyCodes: ParseCodes = { byField: { 'Idempotency-Key': 'InvalidIdempotencyKey' }, otherwise: 'InvalidIdempotencyKey' };

/** The path parameter of every /liveness-sessions/{sessionId} route. */
export const sessionIdPathSchema = z.object({
  sessionId: z.string().meta({
    description: 'The session id (a GUID, case-insensitive). Anything that is not a GUID is answered 404.',
    examples: ['019ac1f2-7a3b-7c4d-8e5f-0123456789ab'],
  }),
});

/** The path parameters of /liveness-sessions/{sessionId}/session-images/{attemptId}. */
export const sessionImagePathSchema = sessionIdPathSchema.extend({
  attemptId: z.string().meta({
    description: "Face's attempt id (the audit entry's `id`, a positive integer). Anything else is answered 404.",
    examples: ['1'],
  }),
});

const backOfficeQueryMessage = {
  top: "'top' must be a whole number from 1 to 1000.",
  status: `'status' must be one of ${SESSION_STATUSES.join(', ')}.`,
  deviceCorrelationId: "'deviceCorrelationId' must be 1 to 64 characters.",
  continuationToken: 'continuationToken is not one this API returned.',
};

/** The list query, as documented and parsed. Unknown parameters are refused. */
export const listSessionsQuerySchema = z.strictObject({
  top: z.preprocess(wholeNumberText(4), z.int().min(1).max(1000))
    .default(50)
    .meta({ description: 'Page size.', override: { default: 50 } }),
  continuationToken: z.string().max(1024).optional().meta({ description: 'From the previous page.' }),
  status: sessionStatusSchema.optional().meta({ description: 'Only sessions in this status.' }),
  deviceCorrelationId: z.string().min(1).max(64).optional().meta({ description: 'Only sessions of this device.' }),
});

export type ListSessionsQuery = z.output<typeof listSessionsQuerySchema>;

/** Parses the list query (the first value of each parameter). The admin key in `?code=` never gets here: it is refused. */
export function parseListSessionsQuery(query: URLSearchParams): ListSessionsQuery {
  const first = new Map<string, string>();
  for (const [key, value] of query) if (!first.has(key)) first.set(key, value);
  return parseWith(listSessionsQuerySchema, Object.fromEntries(first), listSessionsQueryCodes);
}

/** The list query's 400 codes and messages (one message per parameter, whatever is wrong with it). */
export const listSessionsQueryCodes: ParseCodes = {
  byField: {
    top: { code: 'BadArgument', message: backOfficeQueryMessage.top },
    status: { code: 'BadArgument', message: backOfficeQueryMessage.status },
    deviceCorrelationId: { code: 'BadArgument', message: backOfficeQueryMessage.deviceCorrelationId },
    continuationToken: { code: 'InvalidContinuationToken', message: backOfficeQueryMessage.continuationToken },
  },
  otherwise: 'BadArgument',
  unknownKey: (key) => `Unknown query parameter '${printable(key)}'.`,
};

// ---------------------------------------------------------------------------------------------------------------
// Subjects and reviews (back office).

export const SUBJECT_KEY = /^[0-9a-f]{64}$/;

/** The path parameter of every /subjects/{subjectKey} route. */
export const subjectKeyPathSchema = z.object({
  subjectKey: z.string().meta({
    description: 'The subject key (64 lower-case hex digits) from POST /api/subject-keys. Anything else is a 404.',
    examples: ['3f0c2d7e9a41b5c86d1e0f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e'],
  }),
});

export const subjectKeyRequestSchema = z.strictObject({
  subject: z.string({ error: "'subject' must be the device token's subject (1 to 1024 characters)" })
    .min(1, "'subject' must be the device token's subject (1 to 1024 characters)")
    .max(1024, "'subject' must be the device token's subject (1 to 1024 characters)")
    .meta({ description: "The device token's `sub` claim, as your identity provider issues it.", examples: ['user-8c1f42'] }),
}).meta({ id: 'SubjectKeyRequest' });

export const promoteReferenceRequestSchema = z.strictObject({
  sessionId: z.guid({ error: "'sessionId' must be the id of one of the subject's sessions" })
    .meta({ description: "A session of this subject whose outcome is pass (automated, or settled by a reviewer).", examples: ['019ac1f2-7a3b-7c4d-8e5f-0123456789ab'] }),
}).meta({ id: 'PromoteReferenceRequest' });

export const completeRequestSchema = z.strictObject({
  digest: z.string({ error: "'digest' must be the result digest the liveness client SDK reported (16 to 128 hex digits)" })
    .regex(/^[0-9A-Fa-f]{16,128}$/, "'digest' must be the result digest the liveness client SDK reported (16 to 128 hex digits)")
    .optional()
    .meta({
      description: "The result digest the Face client SDK reported for the capture (LivenessDetectionSuccess.digest). "
        + "Compared with Face's digest of the decided attempt: a different one fails the session (DigestMismatch). "
        + 'Required when the service sets LIVENESS_DIGEST_BINDING=required.',
      examples: ['2B39F2E0EFDFDBFB9B079908498A583545EBED38D8ACA800FF0B8E770799F3BF'],
    }),
}).meta({ id: 'CompleteLivenessSessionRequest' });

export const settleReviewRequestSchema = z.strictObject({
  outcome: z.enum(['pass', 'fail'], { error: "'outcome' must be 'pass' or 'fail'" })
    .meta({ description: "The reviewer's decision; the device sees it as its status." }),
  reason: z.string({ error: "'reason' must be 1 to 500 characters" }).trim()
    .min(1, "'reason' must be 1 to 500 characters").max(500, "'reason' must be 1 to 500 characters")
    .meta({ description: 'Why (kept with the decision; not sent to the device).', examples: ['Same person: glasses in the reference photo.'] }),
}).meta({ id: 'SettleReviewRequest' });

export const reviewQueueQuerySchema = z.strictObject({
  top: z.preprocess(wholeNumberText(4), z.int().min(1).max(1000))
    .default(50)
    .meta({ description: 'Page size.', override: { default: 50 } }),
  continuationToken: z.string().max(1024).optional().meta({ description: 'From the previous page.' }),
});

export const subjectImageQuerySchema = z.strictObject({
  name: z.string().min(1).max(300).meta({ description: 'The image link from the export (`href`).' }),
});

const jsonBodyCodes = (byField: ParseCodes['byField']): ParseCodes => ({ byField, otherwise: 'BadArgument' });

export function parseJsonBody<S extends z.ZodType>(schema: S, body: unknown, byField: ParseCodes['byField']): z.output<S> {
  return parseWith(schema, body, jsonBodyCodes(byField));
}

/** Parses a query with one value per parameter; unknown parameters are refused. */
export function parseQuery<S extends z.ZodType>(schema: S, query: URLSearchParams, codes: ParseCodes): z.output<S> {
  const first = new Map<string, string>();
  for (const [key, value] of query) if (!first.has(key)) first.set(key, value);
  return parseWith(schema, Object.fromEntries(first), codes);
}

export const reviewQueueQueryCodes: ParseCodes = {
  byField: {
    top: { code: 'BadArgument', message: backOfficeQueryMessage.top },
    continuationToken: { code: 'InvalidContinuationToken', message: backOfficeQueryMessage.continuationToken },
  },
  otherwise: 'BadArgument',
  unknownKey: (key) => `Unknown query parameter '${printable(key)}'.`,
};

export const evidenceExportQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).meta({ description: 'Start of the range (ISO 8601): checkpoints written at or after it.' }),
  to: z.iso.datetime({ offset: true }).meta({ description: 'End of the range (ISO 8601): checkpoints written at or before it.' }),
});

export const evidenceExportQueryCodes: ParseCodes = {
  byField: { from: 'BadArgument', to: 'BadArgument' },
  otherwise: 'BadArgument',
  unknownKey: (key) => `Unknown query parameter '${printable(key)}'.`,
};

// ---------------------------------------------------------------------------------------------------------------
// Verifications (relying parties) and their links.

/** The text fields of POST /verifications (multipart/form-data), as the handler parses them. */
export const createVerificationFormSchema = z.strictObject({
  externalUserId: z.string({ error: "'externalUserId' must be 1 to 256 characters without control characters" })
    .min(1, "'externalUserId' must be 1 to 256 characters without control characters")
    .max(256, "'externalUserId' must be 1 to 256 characters without control characters")
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\x00-\x1f\x7f]+$/, "'externalUserId' must be 1 to 256 characters without control characters")
    .meta({
      description: "Your id for the person. Keyed exactly as a device token's `sub` (HMAC-SHA256 under "
        + 'SUBJECT_KEY_SECRET): the same person checked by device token and by link is one subject. Stored and logged '
        + 'only as that key, never as given.',
      examples: ['user-8c1f42'],
    }),
  returnUrl: z.string({ error: "'returnUrl' must be an absolute URL of at most 2048 characters" })
    .min(1, "'returnUrl' must be an absolute URL of at most 2048 characters")
    .max(2048, "'returnUrl' must be an absolute URL of at most 2048 characters")
    .optional()
    .meta({
      description: 'Where the page sends the person when the check ends, with `verificationId` and a coarse `status` '
        + 'as query parameters (never scores). Must match an entry of VERIFICATION_RETURN_URLS: same scheme, host and '
        + 'port, and a path under the entry\'s path (at a segment boundary); no user info; https (http only for '
        + 'loopback). Anything else is 400 ReturnUrlNotAllowed.',
      examples: ['https://shop.example/verify/done'],
    }),
  clientReferenceId: z.string({ error: "'clientReferenceId' must be 1 to 64 printable ASCII characters" })
    .regex(/^[\x20-\x7e]{1,64}$/, "'clientReferenceId' must be 1 to 64 printable ASCII characters")
    .optional()
    .meta({
      description: 'Your opaque reference (at most 64 printable ASCII characters), echoed back in reads and webhook '
        + 'events so you can map the result without sending us your user id in the clear.',
      examples: ['order-7731'],
    }),
  locale: z.string({ error: "'locale' must be a BCP 47 language tag such as 'en' or 'de-CH'" })
    .max(35, "'locale' must be a BCP 47 language tag such as 'en' or 'de-CH'")
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, "'locale' must be a BCP 47 language tag such as 'en' or 'de-CH'")
    .optional()
    .meta({ description: "The language the page should speak (BCP 47, e.g. 'en', 'de-CH'); handed to the page on exchange.", examples: ['en'] }),
});

export type CreateVerificationForm = z.output<typeof createVerificationFormSchema>;
export const CREATE_VERIFICATION_FORM_FIELDS = Object.keys(createVerificationFormSchema.shape) as Array<keyof CreateVerificationForm>;
export const CREATE_VERIFICATION_FORM_FILES = ['referenceImage'] as const;

export const createVerificationRequestBodySchema = createVerificationFormSchema.extend({
  referenceImage: z.file().optional().meta({
    description: `The photo to verify against (a file part; ${MIN_VERIFY_IMAGE_BYTES / 1024} KB to ${MAX_VERIFY_IMAGE_BYTES / 1024 / 1024} MB; `
      + 'JPEG, PNG, BMP, GIF or WebP, recognised by its bytes). Leave it out when the back office enrolled a reference '
      + 'for the person: that one is used, and an image next to it is refused (400 ReferenceEnrolled). Without an '
      + 'enrolled reference it is required (400 ReferenceRequired); SUBJECT_DEVICE_REFERENCE_ALLOWED=false refuses it '
      + '(400 DeviceReferenceNotAllowed).',
    contentMediaType: 'application/octet-stream',
  }),
});

export const createVerificationFormCodes: ParseCodes = {
  byField: {
    externalUserId: 'InvalidExternalUserId',
    returnUrl: 'ReturnUrlNotAllowed',
    clientReferenceId: 'InvalidClientReferenceId',
    locale: 'InvalidLocale',
  },
  otherwise: 'UnknownField',
  unknownKey: (key) => `Unexpected form field '${printable(key)}'.`,
};

/** Parses the create form's text fields; a bad field is a 400 with the field's own code. */
export function parseCreateVerificationForm(fields: Record<string, string>): CreateVerificationForm {
  return parseWith(createVerificationFormSchema, fields, createVerificationFormCodes);
}

/** The path parameter of every /verifications/{verificationId} route. */
export const verificationIdPathSchema = z.object({
  verificationId: z.string().meta({
    description: 'The verification id (a GUID, case-insensitive). Anything that is not a GUID is answered 404.',
    examples: ['019ac1f2-7a3b-7c4d-8e5f-0123456789ab'],
  }),
});

/** The body of POST /verification-links/exchange: the link token from the URL fragment (never sent in a URL). */
export const exchangeLinkRequestSchema = z.strictObject({
  token: z.string({ error: "'token' must be the link token from the verification link" })
    .min(1, "'token' must be the link token from the verification link")
    .max(512, "'token' must be the link token from the verification link")
    .meta({ description: 'The `link` value of the URL fragment of the verification link. Single use.' }),
}).meta({ id: 'ExchangeVerificationLinkRequest' });

/** The back-office list of verifications: a page at a time, newest first. */
export const listVerificationsQuerySchema = z.strictObject({
  top: z.preprocess(wholeNumberText(4), z.int().min(1).max(1000))
    .default(50)
    .meta({ description: 'Page size.', override: { default: 50 } }),
  continuationToken: z.string().max(1024).optional().meta({ description: 'From the previous page.' }),
});

export const listVerificationsQueryCodes: ParseCodes = reviewQueueQueryCodes;
