// The OpenAPI 3.1 description of the app's HTTP API, served at GET /api/openapi.json. It is a TypeScript module (not
// a .json file) so that it ships in dist/ with the functions. The end-to-end tests validate every response the app
// gives against it (test/support/openapi.ts), so a change of a response shape must change this file too.
// Schemas use the JSON Schema 2020-12 dialect (OpenAPI 3.1's default) and are closed (additionalProperties: false)
// wherever the code's output is fully known.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });
const responseRef = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });

const BACKOFFICE_ROLE_NOTE = "The app role is set by BACKOFFICE_AUTH_ROLE (default 'LivenessSessions.Manage').";

const schemas: Record<string, JsonObject> = {
  ErrorResponse: {
    type: 'object',
    description: 'Every error the app itself answers. Never contains a stack trace, a token or a score.',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: {
          code: {
            type: 'string',
            minLength: 1,
            description: 'A stable, machine-readable code (e.g. SessionNotFound, InvalidImageSize, TooManyAttempts, '
              + 'FaceUnavailable). For an image Face refused, it is Face\'s own code (e.g. InvalidImage).',
          },
          message: { type: 'string', description: 'A human-readable explanation; may change between versions.' },
        },
      },
    },
  },
  SessionId: {
    type: 'string',
    format: 'uuid',
    description: "The liveness session's id in this app (a GUID it mints before calling Face; Face's own id is "
      + 'faceSessionId in the back-office view).',
  },
  FaceRectangle: {
    type: 'object',
    description: 'Where the face is in the image, in pixels.',
    required: ['top', 'left', 'width', 'height'],
    additionalProperties: false,
    properties: {
      top: { type: 'integer' },
      left: { type: 'integer' },
      width: { type: 'integer', minimum: 0 },
      height: { type: 'integer', minimum: 0 },
    },
  },
  VerifyImageInfo: {
    type: 'object',
    description: 'What Face found in the verify image (the reference photo the live face is compared with).',
    additionalProperties: false,
    properties: {
      faceRectangle: ref('FaceRectangle'),
      qualityForRecognition: {
        type: 'string',
        enum: ['low', 'medium', 'high'],
        description: "Face's estimate of how well the verify image suits face recognition.",
      },
    },
  },
  LivenessOperationMode: {
    type: 'string',
    enum: ['Passive', 'PassiveActive'],
    description: 'Passive: no user action. PassiveActive: Face may ask the user to move (more robust against spoofs).',
  },
  SessionStatus: {
    type: 'string',
    enum: ['NotStarted', 'Started', 'ResultAvailable', 'Failed', 'Expired'],
    description: 'NotStarted: created, the device holds the token. Started: the device reported completion and the '
      + 'result is being collected from Face. ResultAvailable: a finished attempt was collected (see `decision`). '
      + 'Failed: collection ended without a usable result (see `failureReason`). Expired: the token expired and the '
      + 'last collection found no finished attempt.',
  },
  DeviceOutcome: {
    type: 'string',
    enum: ['pending', 'pass', 'fail', 'retry'],
    description: 'What the device may learn: pending (not decided yet, or held for review by a person), pass '
      + '(live and the same person as the verify image), fail (not live, not the same person, or the evidence '
      + 'did not match), retry (the attempt was inconclusive or no result could be collected: start a new session).',
  },
  StartedSession: {
    type: 'object',
    description: 'A new liveness session. Hand `authToken` to the Face liveness client SDK on the device.',
    required: ['sessionId', 'authToken', 'authTokenExpiresDateTime', 'verifyImage'],
    additionalProperties: false,
    properties: {
      sessionId: ref('SessionId'),
      authToken: {
        type: 'string',
        minLength: 1,
        description: 'The session-scoped token for the Face client SDK. A secret: never log it.',
      },
      authTokenExpiresDateTime: {
        type: 'string',
        format: 'date-time',
        description: 'When `authToken` stops working; the capture must be finished before then.',
      },
      verifyImage: ref('VerifyImageInfo'),
    },
  },
  CompletionAccepted: {
    type: 'object',
    description: 'The completion was accepted; poll the status endpoint for the outcome. Never contains scores.',
    required: ['sessionId', 'status'],
    additionalProperties: false,
    properties: {
      sessionId: ref('SessionId'),
      status: {
        type: 'string',
        enum: ['Accepted'],
        description: 'Accepted: the result will be collected (also when the session was already completed).',
      },
    },
  },
  DeviceStatus: {
    type: 'object',
    required: ['sessionId', 'status'],
    additionalProperties: false,
    properties: {
      sessionId: ref('SessionId'),
      status: ref('DeviceOutcome'),
    },
  },
  AuditEntry: {
    type: 'object',
    description: 'One finished Face attempt, in the shape of the Azure sample\'s audit entry. Face v1.2 reports no '
      + 'request details for an attempt, so the sample\'s request fields are absent.',
    required: ['id', 'sessionId', 'attemptStatus', 'response', 'collectedDateTime'],
    additionalProperties: false,
    properties: {
      id: { type: 'integer', minimum: 0, description: "Face's attempt id; the latest attempt has the highest id." },
      sessionId: ref('SessionId'),
      attemptStatus: {
        type: 'string',
        enum: ['Succeeded', 'Failed', 'Canceled'],
        description: 'Only finished attempts are recorded.',
      },
      digest: { type: 'string', description: 'Face\'s digest of the attempt (tamper evidence for the client SDK).' },
      sessionImageId: { type: 'string', description: "Face's id of the captured session image, when it kept one." },
      verifyImageHash: {
        type: 'string',
        description: 'SHA-256 of the verify image Face compared against; the app checks it against the image it stored.',
      },
      response: {
        type: 'object',
        required: ['body'],
        additionalProperties: false,
        properties: {
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              livenessDecision: {
                type: 'string',
                description: "Face's liveness decision, as Face spells it: realface, spoofface or uncertain.",
                examples: ['realface', 'spoofface', 'uncertain'],
              },
              modelVersionUsed: { type: 'string' },
              target: {
                type: 'object',
                required: ['faceRectangle', 'imageType'],
                additionalProperties: false,
                properties: {
                  faceRectangle: ref('FaceRectangle'),
                  imageType: { const: 'Color' },
                },
              },
              verifyResult: {
                type: 'object',
                required: ['isIdentical', 'matchConfidence', 'verifyImage'],
                additionalProperties: false,
                properties: {
                  isIdentical: { type: 'boolean', description: "Face's own same-person verdict (its default threshold)." },
                  matchConfidence: { type: 'number', minimum: 0, maximum: 1 },
                  verifyImage: ref('VerifyImageInfo'),
                },
              },
              error: {
                type: 'object',
                description: 'Why a Failed attempt failed, as Face reported it (e.g. FaceWithMaskDetected).',
                required: ['code', 'message'],
                additionalProperties: false,
                properties: { code: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
      collectedDateTime: { type: 'string', format: 'date-time', description: 'When this app read the attempt from Face.' },
    },
  },
  Decision: {
    type: 'object',
    description: 'What the decision policy made of the latest attempt, with the evidence it rests on.',
    required: ['outcome', 'reasons', 'attemptId', 'verifyImageHashMatches', 'policyVersion', 'decidedDateTime'],
    additionalProperties: false,
    properties: {
      outcome: {
        type: 'string',
        enum: ['pass', 'fail', 'review', 'retry'],
        description: 'pass: live and matching above DECISION_MATCH_THRESHOLD. fail: spoof, mismatch, or evidence that '
          + 'does not bind to the stored verify image. review: match confidence in the review band; a person decides '
          + '(the device sees pending). retry: the attempt failed or liveness was uncertain.',
      },
      reasons: {
        type: 'array',
        items: { type: 'string' },
        description: 'Empty for pass. Otherwise e.g. MatchConfidenceBelowThreshold, MatchConfidenceInReviewBand, '
          + 'LivenessUncertain, Liveness:<decision>, AttemptFailed:<code>, VerifyImageHashMismatch, VerifyImageHashMissing, '
          + 'MatchConfidenceMissing.',
      },
      livenessDecision: { type: 'string' },
      matchConfidence: { type: 'number', minimum: 0, maximum: 1 },
      isIdentical: { type: 'boolean' },
      attemptId: { type: 'integer', minimum: 0, description: 'The audit entry the decision is about.' },
      digest: { type: 'string' },
      modelVersion: { type: 'string' },
      verifyImageHashMatches: {
        type: 'boolean',
        description: 'Whether Face compared against exactly the verify image this app stored (same SHA-256).',
      },
      policyVersion: { type: 'string', description: 'DECISION_POLICY_VERSION, or derived from the policy settings.' },
      decidedDateTime: { type: 'string', format: 'date-time' },
    },
  },
  LivenessSession: {
    type: 'object',
    description: 'A session as the back office reads it (the Azure sample\'s GetLivenessWithVerifySessionResult fields, '
      + 'plus the decision).',
    required: [
      'id', 'createdDateTime', 'sessionExpired', 'authTokenTimeToLiveInSeconds', 'authTokenExpiresDateTime',
      'livenessOperationMode', 'status', 'verifyImage', 'faceSessionId',
    ],
    additionalProperties: false,
    dependentRequired: { decision: ['reviewRequired'], reviewRequired: ['decision'] },
    properties: {
      id: ref('SessionId'),
      faceSessionId: { type: 'string', description: "Azure AI Face's id for the liveness-with-verify session (for support with Face)." },
      createdDateTime: { type: 'string', format: 'date-time' },
      sessionExpired: {
        type: 'boolean',
        description: "Whether the device's session token has expired (now ≥ authTokenExpiresDateTime). It says "
          + 'nothing about the result: an expired session may well have one.',
      },
      deviceCorrelationId: { type: 'string', minLength: 1, maxLength: 64 },
      authTokenTimeToLiveInSeconds: { type: 'integer', minimum: 60, maximum: 86400 },
      authTokenExpiresDateTime: { type: 'string', format: 'date-time' },
      livenessOperationMode: ref('LivenessOperationMode'),
      status: ref('SessionStatus'),
      failureReason: {
        type: 'string',
        enum: [
          'NoFinishedAttempt', 'FaceSessionNotFound', 'CollectionFailedRepeatedly', 'NoFinishedAttemptBeforeExpiry',
          'VerifyImageHashMismatch', 'VerifyImageHashMissing',
        ],
        description: 'Why the session is Failed or Expired: no finished attempt within the collection bound; Face no '
          + 'longer knew the session; collection kept failing (poison queue); the token expired without an attempt; '
          + 'the attempt was about another verify image, or its hash was missing.',
      },
      modelVersion: { type: 'string', description: 'The Face liveness model version the session was created with.' },
      verifyImage: ref('VerifyImageInfo'),
      completionRequestedDateTime: { type: 'string', format: 'date-time', description: 'When the device reported completion.' },
      resultCollectedDateTime: { type: 'string', format: 'date-time', description: 'When the result was collected from Face.' },
      result: { ...ref('AuditEntry'), description: 'The latest finished attempt.' },
      decision: ref('Decision'),
      reviewRequired: { type: 'boolean', description: 'True when the decision is review: a person must decide.' },
    },
  },
  LivenessSessionListItem: {
    type: 'object',
    required: ['id', 'createdDateTime', 'status', 'authTokenTimeToLiveInSeconds', 'authTokenExpiresDateTime', 'sessionExpired'],
    additionalProperties: false,
    properties: {
      id: ref('SessionId'),
      createdDateTime: { type: 'string', format: 'date-time' },
      status: ref('SessionStatus'),
      deviceCorrelationId: { type: 'string', minLength: 1, maxLength: 64 },
      authTokenTimeToLiveInSeconds: { type: 'integer', minimum: 60, maximum: 86400 },
      authTokenExpiresDateTime: { type: 'string', format: 'date-time' },
      sessionExpired: { type: 'boolean', description: "Whether the device's session token has expired." },
    },
  },
  LivenessSessionPage: {
    type: 'object',
    description: 'One page of sessions, newest first.',
    required: ['value'],
    additionalProperties: false,
    properties: {
      value: { type: 'array', items: ref('LivenessSessionListItem') },
      continuationToken: {
        type: 'string',
        minLength: 1,
        maxLength: 1024,
        description: 'Present when there are more sessions: pass it back as `continuationToken` for the next page.',
      },
    },
  },
  AuditEntryList: {
    type: 'object',
    description: 'Every recorded attempt of the session, oldest first.',
    required: ['value'],
    additionalProperties: false,
    properties: { value: { type: 'array', items: ref('AuditEntry') } },
  },
  HealthCheck: {
    type: 'object',
    required: ['status', 'latencyMs'],
    additionalProperties: false,
    properties: {
      status: { type: 'string', enum: ['healthy', 'unhealthy'] },
      latencyMs: { type: 'integer', minimum: 0 },
      reason: { type: 'string', description: 'Why the check failed (unhealthy only).' },
    },
  },
  Health: {
    type: 'object',
    required: ['status', 'checks'],
    additionalProperties: false,
    properties: {
      status: { type: 'string', enum: ['healthy', 'unhealthy'] },
      checks: {
        type: 'object',
        required: ['storage', 'face'],
        additionalProperties: false,
        properties: { storage: ref('HealthCheck'), face: ref('HealthCheck') },
      },
    },
  },
};

const headers: Record<string, JsonObject> = {
  RetryAfter: {
    description: 'Seconds to wait before trying again.',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  CacheControl: {
    description: 'Responses are never cached (`no-store`).',
    required: true,
    schema: { type: 'string', const: 'no-store' },
  },
  WwwAuthenticate: {
    description: 'Always `Bearer`.',
    required: true,
    schema: { type: 'string', const: 'Bearer' },
  },
};

const json = (schema: JsonObject): JsonObject => ({ 'application/json': { schema } });
const error = (description: string, extraHeaders: Record<string, JsonObject> = {}): JsonObject => ({
  description,
  headers: { 'Cache-Control': { $ref: '#/components/headers/CacheControl' }, ...extraHeaders },
  content: json(ref('ErrorResponse')),
});
const retryAfter = { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } };

const responses: Record<string, JsonObject> = {
  BadRequest: error('The request is invalid: a malformed form or field, an image that is too small or not an image, an '
    + "image Face refused (Face's code, e.g. InvalidImage), or a bad query parameter (BadArgument, InvalidContinuationToken)."),
  DeviceUnauthorized: error('No bearer token, or one that is expired, not from the device identity provider, or not for '
    + 'this API.', { 'WWW-Authenticate': { $ref: '#/components/headers/WwwAuthenticate' } }),
  BackOfficeUnauthorized: error(`No bearer token, an invalid one, or back-office sign-in is not configured for this app. `
    + BACKOFFICE_ROLE_NOTE, { 'WWW-Authenticate': { $ref: '#/components/headers/WwwAuthenticate' } }),
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
    + 'Retry after Retry-After seconds.', retryAfter),
};

const sessionIdParameter: JsonObject = {
  name: 'sessionId',
  in: 'path',
  required: true,
  description: 'The session id (a GUID, case-insensitive). Anything that is not a GUID is answered 404.',
  schema: { type: 'string' },
};

interface BackOfficeOperation {
  operationId: string;
  summary: string;
  description: string;
  parameters?: JsonObject[];
  ok: [status: string, response: JsonObject];
  extra?: Record<string, JsonObject>;
}

/** Back-office operations exist twice: with the Functions admin key at /x and with an Entra ID token at /backoffice/x. */
function backOffice(op: BackOfficeOperation): { admin: JsonObject; entra: JsonObject } {
  const common = (unauthorized: string, forbidden?: string): JsonObject => ({
    ...(op.parameters ? { parameters: op.parameters } : {}),
    responses: {
      [op.ok[0]]: op.ok[1],
      ...(op.extra ?? {}),
      401: responseRef(unauthorized),
      ...(forbidden ? { 403: responseRef(forbidden) } : {}),
      500: responseRef('InternalError'),
      503: responseRef('ServiceUnavailable'),
    },
  });
  return {
    admin: {
      operationId: op.operationId,
      tags: ['back office'],
      summary: op.summary,
      description: `${op.description} Authorized by the Functions admin (master) key.`,
      security: [{ functionsKeyHeader: [] }, { functionsKeyQuery: [] }],
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

const okJson = (description: string, schema: JsonObject): JsonObject => ({
  description,
  headers: { 'Cache-Control': { $ref: '#/components/headers/CacheControl' } },
  content: json(schema),
});

const list = backOffice({
  operationId: 'listLivenessSessions',
  summary: 'List sessions',
  description: 'Sessions newest first, a page at a time, optionally filtered by status or device. Unknown query '
    + 'parameters are refused.',
  parameters: [
    { name: 'top', in: 'query', description: 'Page size.', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
    { name: 'continuationToken', in: 'query', description: 'From the previous page.', schema: { type: 'string', maxLength: 1024 } },
    { name: 'status', in: 'query', description: 'Only sessions in this status.', schema: ref('SessionStatus') },
    { name: 'deviceCorrelationId', in: 'query', description: 'Only sessions of this device.', schema: { type: 'string', minLength: 1, maxLength: 64 } },
  ],
  ok: ['200', okJson('A page of sessions.', ref('LivenessSessionPage'))],
  extra: { 400: responseRef('BadRequest') },
});

const get = backOffice({
  operationId: 'getLivenessSession',
  summary: 'Read a session',
  description: 'The session, its latest result (audit entry) and the decision with its evidence.',
  parameters: [sessionIdParameter],
  ok: ['200', okJson('The session.', ref('LivenessSession'))],
  extra: { 404: responseRef('NotFound') },
});

const del = backOffice({
  operationId: 'deleteLivenessSession',
  summary: 'Delete a session',
  description: 'Deletes the Face session, the verify and session images, the audit entries and the record. An '
    + 'interrupted delete can be repeated; once done, the session is 404.',
  parameters: [sessionIdParameter],
  ok: ['204', { description: 'Deleted.' }],
  extra: { 404: responseRef('NotFound'), 409: responseRef('Conflict') },
});

const audit = backOffice({
  operationId: 'listLivenessAuditEntries',
  summary: "List a session's attempts",
  description: 'Every finished attempt collected from Face, oldest first.',
  parameters: [sessionIdParameter],
  ok: ['200', okJson('The audit entries.', ref('AuditEntryList'))],
  extra: { 404: responseRef('NotFound') },
});

const create: JsonObject = {
  operationId: 'createLivenessSession',
  tags: ['device'],
  summary: 'Start a liveness check',
  description: 'The device starts a liveness-with-verify session with the reference photo of the person (the verify '
    + 'image). The image is checked (1 KB to 6 MB; JPEG, PNG, BMP, GIF or WebP by its bytes) and sent to Face, which '
    + 'must find exactly one face in it. Repeated failed checks lock the device subject and the device out for a while '
    + '(429). With an Idempotency-Key, a retried request returns the same session instead of starting another.',
  security: [{ deviceBearer: [] }],
  parameters: [{
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'Any 1 to 255 printable ASCII characters, unique per request the client means. Remembered per device '
      + 'subject for IDEMPOTENCY_TTL_SECONDS (default 24 h).',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
  }],
  requestBody: {
    required: true,
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: ['verifyImage'],
          additionalProperties: false,
          properties: {
            verifyImage: {
              type: 'string',
              contentMediaType: 'application/octet-stream',
              description: 'The reference photo (a file part; 1 KB to 6 MB; JPEG, PNG, BMP, GIF or WebP).',
            },
            deviceCorrelationId: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              pattern: '^[\\x21-\\x7e]+$',
              description: 'Your id for the device (printable ASCII, no spaces). Lockouts also count per device.',
            },
            livenessOperationMode: { ...ref('LivenessOperationMode'), description: 'Default: LIVENESS_OPERATION_MODE (Passive).' },
            authTokenTimeToLiveInSeconds: {
              type: 'integer',
              minimum: 60,
              maximum: 86400,
              description: 'How long the session token lives. Default: LIVENESS_AUTH_TOKEN_TTL_SECONDS (600).',
            },
            enableSessionImage: {
              type: 'boolean',
              default: false,
              description: "'true' to keep the captured session image (copied to storage, kept per the image retention).",
            },
          },
        },
        encoding: { verifyImage: { contentType: 'image/jpeg, image/png, image/bmp, image/gif, image/webp, application/octet-stream' } },
      },
    },
  },
  responses: {
    201: {
      description: 'The session was created (or, with a repeated Idempotency-Key, the earlier one is returned).',
      headers: {
        'Cache-Control': { $ref: '#/components/headers/CacheControl' },
        Location: {
          description: 'The session\'s back-office URL.',
          required: true,
          schema: { type: 'string', pattern: '^/api/liveness-sessions/[0-9a-fA-F-]{36}$' },
        },
        'Idempotent-Replayed': {
          description: 'Present (true) when this is the stored answer to an earlier request with the same Idempotency-Key.',
          required: false,
          schema: { type: 'string', const: 'true' },
        },
      },
      content: json(ref('StartedSession')),
    },
    400: responseRef('BadRequest'),
    401: responseRef('DeviceUnauthorized'),
    404: error('SessionNotFound: the session an Idempotency-Key points to no longer exists.'),
    409: error('RequestInProgress: the first request with this Idempotency-Key is still running (Retry-After: 1). '
      + 'SessionNoLongerActive: the session made for this Idempotency-Key has ended; use a new key.', {
      'Retry-After': { ...headers.RetryAfter, required: false, description: 'Set (1) for RequestInProgress.' },
    }),
    413: error('InvalidImageSize: the verify image (or the whole body) is larger than 6 MB.'),
    415: error('UnsupportedMediaType: the body is not multipart/form-data (or Face refused the image type).'),
    422: error('IdempotencyKeyReused: this Idempotency-Key was used with a different request.'),
    429: error('TooManyAttempts: too many failed checks for this device subject or device; locked out.', retryAfter),
    500: responseRef('InternalError'),
    503: responseRef('ServiceUnavailable'),
  },
};

const complete: JsonObject = {
  operationId: 'completeLivenessSession',
  tags: ['device'],
  summary: 'Report the capture as done',
  description: 'The device says its capture with the Face client SDK finished; the app then collects the result from '
    + 'Face in the background. Idempotent. The answer never contains the decision or scores: poll the status.',
  security: [{ deviceBearer: [] }],
  parameters: [sessionIdParameter],
  responses: {
    202: okJson('Accepted; the result is being collected.', ref('CompletionAccepted')),
    401: responseRef('DeviceUnauthorized'),
    404: responseRef('NotFound'),
    409: responseRef('Conflict'),
    500: responseRef('InternalError'),
    503: responseRef('ServiceUnavailable'),
  },
};

const status: JsonObject = {
  operationId: 'getLivenessSessionStatus',
  tags: ['device'],
  summary: "Poll the device's outcome",
  description: 'What the device may know about its own session: pending, pass, fail or retry. No scores, no reasons.',
  security: [{ deviceBearer: [] }],
  parameters: [sessionIdParameter],
  responses: {
    200: okJson('The outcome so far.', ref('DeviceStatus')),
    401: responseRef('DeviceUnauthorized'),
    404: responseRef('NotFound'),
    500: responseRef('InternalError'),
    503: responseRef('ServiceUnavailable'),
  },
};

const health: JsonObject = {
  operationId: 'getHealth',
  tags: ['operations'],
  summary: 'Health',
  description: "Whether storage and Face are reachable with this app's credentials. Anonymous; reveals no secrets.",
  security: [],
  responses: {
    200: okJson('Healthy.', ref('Health')),
    503: okJson('A dependency is unhealthy (see `checks`).', ref('Health')),
    500: responseRef('InternalError'),
  },
};

const openapi: JsonObject = {
  operationId: 'getOpenApiDocument',
  tags: ['operations'],
  summary: 'This API description',
  description: 'The OpenAPI 3.1 document you are reading. Anonymous.',
  security: [],
  responses: {
    200: okJson('The document.', {
      type: 'object',
      required: ['openapi', 'info', 'paths'],
      properties: { openapi: { type: 'string', pattern: '^3\\.1\\.' }, info: { type: 'object' }, paths: { type: 'object' } },
    }),
  },
};

export const openApiDocument: JsonObject = {
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
  info: {
    title: 'Face liveness functions',
    version: '0.1.0',
    summary: 'Azure AI Face liveness detection with face verification, as an app server for devices and a back office.',
    description: 'Flow: the device starts a session with a verify image (POST /liveness-sessions) and gets a Face '
      + 'session token; it runs the Face liveness client SDK with that token; it reports completion (POST '
      + '/liveness-sessions/{sessionId}/complete) and polls its outcome (GET .../status). The back office reads, lists, '
      + 'audits and deletes sessions, with the Functions admin key or, under /backoffice, an Entra ID token.\n\n'
      + 'Every error is `{"error": {"code", "message"}}` with the status below.',
  },
  servers: [{ url: '/api', description: 'The Functions route prefix, on the app\'s own host.' }],
  tags: [
    { name: 'device', description: 'Called by the device app with its bearer token.' },
    { name: 'back office', description: 'Called by staff tooling: Functions admin key, or Entra ID under /backoffice.' },
    { name: 'operations', description: 'Health and API description.' },
  ],
  paths: {
    '/liveness-sessions': { post: create, get: list.admin },
    '/liveness-sessions/{sessionId}': { get: get.admin, delete: del.admin },
    '/liveness-sessions/{sessionId}/audit-entries': { get: audit.admin },
    '/liveness-sessions/{sessionId}/complete': { post: complete },
    '/liveness-sessions/{sessionId}/status': { get: status },
    '/backoffice/liveness-sessions': { get: list.entra },
    '/backoffice/liveness-sessions/{sessionId}': { get: get.entra, delete: del.entra },
    '/backoffice/liveness-sessions/{sessionId}/audit-entries': { get: audit.entra },
    '/health': { get: health },
    '/openapi.json': { get: openapi },
  },
  components: {
    schemas,
    responses,
    headers,
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
      functionsKeyQuery: {
        type: 'apiKey',
        in: 'query',
        name: 'code',
        description: 'The Function app\'s admin (master) key as a query parameter; checked by the Functions host.',
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
};
