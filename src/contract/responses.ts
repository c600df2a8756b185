// The response bodies and headers of the HTTP API. The OpenAPI document (src/openapi/document.ts) renders these,
// and the end-to-end tests hold every answer the app gives to that rendering. Objects are strict wherever the code's
// output is fully known, so an extra field (a score leaking to the device, say) is caught.
import { z } from 'zod';
import {
  attemptStatusSchema, decisionOutcomeSchema, deviceOutcomeSchema, failureReasonSchema, livenessOperationModeSchema,
  qualityForRecognitionSchema, sessionStatusSchema,
} from './enums.js';

const dateTime = (description?: string) => z.iso.datetime({ offset: true }).meta(description ? { description } : {});
const deviceCorrelationId = z.string().min(1).max(64);
const tokenLifetime = z.int().min(60).max(86_400);

export const errorResponseSchema = z.strictObject({
  error: z.strictObject({
    code: z.string().min(1).meta({
      description: 'A stable, machine-readable code (e.g. SessionNotFound, InvalidImageSize, TooManyAttempts, '
        + 'FaceUnavailable). For an image Face refused, it is Face\'s own code (e.g. InvalidImage).',
      examples: ['SessionNotFound'],
    }),
    message: z.string().meta({ description: 'A human-readable explanation; may change between versions.', examples: ['The liveness session does not exist.'] }),
  }),
}).meta({ id: 'ErrorResponse', description: 'Every error the app itself answers. Never contains a stack trace, a token or a score.' });

export const sessionIdSchema = z.guid().meta({
  id: 'SessionId',
  description: "The liveness session's id in this app (a UUIDv7 it mints before calling Face; Face's own id is "
    + 'faceSessionId in the back-office view).',
  examples: ['019ac1f2-7a3b-7c4d-8e5f-0123456789ab'],
});

export const faceRectangleSchema = z.strictObject({
  top: z.int(),
  left: z.int(),
  width: z.int().min(0),
  height: z.int().min(0),
}).meta({ id: 'FaceRectangle', description: 'Where the face is in the image, in pixels.', examples: [{ top: 120, left: 96, width: 210, height: 240 }] });

export const verifyImageInfoSchema = z.strictObject({
  faceRectangle: faceRectangleSchema.optional(),
  qualityForRecognition: qualityForRecognitionSchema.optional(),
}).meta({ id: 'VerifyImageInfo', description: 'What Face found in the verify image (the reference photo the live face is compared with).' });

export const startedSessionSchema = z.strictObject({
  sessionId: sessionIdSchema,
  authToken: z.string().min(1).meta({ description: 'The session-scoped token for the Face client SDK. A secret: never log it.' }),
  authTokenExpiresDateTime: dateTime('When `authToken` stops working; the capture must be finished before then.'),
  verifyImage: verifyImageInfoSchema,
}).meta({
  id: 'StartedSession',
  examples: [{
    sessionId: '019ac1f2-7a3b-7c4d-8e5f-0123456789ab',
    authToken: '<session-scoped token for the Face client SDK>',
    authTokenExpiresDateTime: '2026-01-15T09:40:00.000Z',
    verifyImage: { faceRectangle: { top: 120, left: 96, width: 210, height: 240 }, qualityForRecognition: 'high' },
  }],
  description: 'A new liveness session. Hand `authToken` to the Face liveness client SDK on the device.' });

export const completionAcceptedSchema = z.strictObject({
  sessionId: sessionIdSchema,
  status: z.enum(['Accepted']).meta({ description: 'Accepted: the result will be collected (also when the session was already completed).' }),
}).meta({ id: 'CompletionAccepted', description: 'The completion was accepted; poll the status endpoint for the outcome. Never contains scores.' });

export const deviceStatusSchema = z.strictObject({
  sessionId: sessionIdSchema,
  status: deviceOutcomeSchema,
}).meta({ id: 'DeviceStatus', examples: [{ sessionId: '019ac1f2-7a3b-7c4d-8e5f-0123456789ab', status: 'pending' }] });

const confidence = z.number().min(0).max(1);

export const auditEntrySchema = z.strictObject({
  id: z.int().min(0).meta({ description: "Face's attempt id; the latest attempt has the highest id." }),
  sessionId: sessionIdSchema,
  attemptStatus: attemptStatusSchema,
  digest: z.string().meta({ description: 'Face\'s digest of the attempt (tamper evidence for the client SDK).' }).optional(),
  sessionImageId: z.string().meta({ description: "Face's id of the captured session image, when it kept one." }).optional(),
  verifyImageHash: z.string().meta({
    description: 'SHA-256 of the verify image Face compared against; the app checks it against the image it stored.',
  }).optional(),
  response: z.strictObject({
    body: z.strictObject({
      livenessDecision: z.string().meta({
        description: "Face's liveness decision, as Face spells it: realface, spoofface or uncertain.",
        examples: ['realface', 'spoofface', 'uncertain'],
      }).optional(),
      modelVersionUsed: z.string().optional(),
      target: z.strictObject({ faceRectangle: faceRectangleSchema, imageType: z.literal('Color') }).optional(),
      verifyResult: z.strictObject({
        isIdentical: z.boolean().meta({ description: "Face's own same-person verdict (its default threshold)." }),
        matchConfidence: confidence,
        verifyImage: verifyImageInfoSchema,
      }).optional(),
      error: z.strictObject({ code: z.string(), message: z.string() })
        .meta({ description: 'Why a Failed attempt failed, as Face reported it (e.g. FaceWithMaskDetected).' }).optional(),
    }),
  }),
  collectedDateTime: dateTime('When this app read the attempt from Face.'),
}).meta({
  id: 'AuditEntry',
  description: 'One finished Face attempt, in the shape of the Azure sample\'s audit entry. Face v1.2 reports no '
    + 'request details for an attempt, so the sample\'s request fields are absent.',
});

export const decisionSchema = z.strictObject({
  outcome: decisionOutcomeSchema,
  reasons: z.array(z.string()).meta({
    description: 'Empty for pass. Otherwise e.g. MatchConfidenceBelowThreshold, MatchConfidenceInReviewBand, '
      + 'LivenessUncertain, Liveness:<decision>, AttemptFailed:<code>, VerifyImageHashMismatch, VerifyImageHashMissing, '
      + 'MatchConfidenceMissing.',
  }),
  livenessDecision: z.string().optional(),
  matchConfidence: confidence.optional(),
  isIdentical: z.boolean().optional(),
  attemptId: z.int().min(0).meta({ description: 'The audit entry the decision is about.' }),
  digest: z.string().optional(),
  modelVersion: z.string().optional(),
  verifyImageHashMatches: z.boolean().meta({ description: 'Whether Face compared against exactly the verify image this app stored (same SHA-256).' }),
  policyVersion: z.string().meta({ description: 'DECISION_POLICY_VERSION, or derived from the policy settings.' }),
  decidedDateTime: dateTime(),
}).meta({ id: 'Decision', description: 'What the decision policy made of the latest attempt, with the evidence it rests on.' });

export const livenessSessionSchema = z.strictObject({
  id: sessionIdSchema,
  faceSessionId: z.string().meta({ description: "Azure AI Face's id for the liveness-with-verify session (for support with Face)." }),
  createdDateTime: dateTime(),
  sessionExpired: z.boolean().meta({
    description: "Whether the device's session token has expired (now ≥ authTokenExpiresDateTime). It says "
      + 'nothing about the result: an expired session may well have one.',
  }),
  deviceCorrelationId: deviceCorrelationId.optional(),
  authTokenTimeToLiveInSeconds: tokenLifetime,
  authTokenExpiresDateTime: dateTime(),
  livenessOperationMode: livenessOperationModeSchema,
  status: sessionStatusSchema,
  failureReason: failureReasonSchema.optional(),
  modelVersion: z.string().meta({ description: 'The Face liveness model version the session was created with.' }).optional(),
  verifyImage: verifyImageInfoSchema,
  completionRequestedDateTime: dateTime('When the device reported completion.').optional(),
  resultCollectedDateTime: dateTime('When the result was collected from Face.').optional(),
  result: auditEntrySchema.optional().meta({ description: 'The latest finished attempt.' }),
  decision: decisionSchema.optional(),
  reviewRequired: z.boolean().meta({ description: 'True when the decision is review: a person must decide.' }).optional(),
}).refine((s) => (s.decision === undefined) === (s.reviewRequired === undefined), {
  message: 'decision and reviewRequired come together', path: ['reviewRequired'],
}).meta({
  id: 'LivenessSession',
  description: 'A session as the back office reads it (the Azure sample\'s GetLivenessWithVerifySessionResult fields, '
    + 'plus the decision).',
  // JSON Schema cannot see the refine above; this keyword says the same thing to the document's readers.
  dependentRequired: { decision: ['reviewRequired'], reviewRequired: ['decision'] },
});

export const livenessSessionListItemSchema = z.strictObject({
  id: sessionIdSchema,
  createdDateTime: dateTime(),
  status: sessionStatusSchema,
  deviceCorrelationId: deviceCorrelationId.optional(),
  authTokenTimeToLiveInSeconds: tokenLifetime,
  authTokenExpiresDateTime: dateTime(),
  sessionExpired: z.boolean().meta({ description: "Whether the device's session token has expired." }),
  completionRequestedDateTime: dateTime('When the device reported completion.').optional(),
  resultCollectedDateTime: dateTime('When the result was collected from Face.').optional(),
  outcome: decisionOutcomeSchema.optional().meta({ description: "The decision's outcome, once there is one (no scores in the list)." }),
  reviewRequired: z.boolean().meta({ description: 'True when the decision is review: a person must decide.' }).optional(),
}).refine((s) => (s.outcome === undefined) === (s.reviewRequired === undefined), {
  message: 'outcome and reviewRequired come together', path: ['reviewRequired'],
}).meta({
  id: 'LivenessSessionListItem',
  description: 'A session in the list: enough to page, filter, chart outcomes and time to result, and find the review backlog.',
  dependentRequired: { outcome: ['reviewRequired'], reviewRequired: ['outcome'] },
});

export const livenessSessionPageSchema = z.strictObject({
  value: z.array(livenessSessionListItemSchema),
  continuationToken: z.string().min(1).max(1024).meta({
    description: 'Present when there are more sessions: pass it back as `continuationToken` for the next page.',
  }).optional(),
}).meta({ id: 'LivenessSessionPage', description: 'One page of sessions, newest first.' });

export const auditEntryListSchema = z.strictObject({ value: z.array(auditEntrySchema) })
  .meta({ id: 'AuditEntryList', description: 'Every recorded attempt of the session, oldest first.' });

const healthStatus = z.enum(['healthy', 'unhealthy']);

export const healthCheckSchema = z.strictObject({
  status: healthStatus,
  latencyMs: z.int().min(0),
  reason: z.string().meta({ description: 'Why the check failed (unhealthy only).' }).optional(),
}).meta({ id: 'HealthCheck' });

export const healthSchema = z.strictObject({
  status: healthStatus,
  checks: z.strictObject({ storage: healthCheckSchema, face: healthCheckSchema }),
}).meta({ id: 'Health', examples: [{ status: 'healthy', checks: { storage: { status: 'healthy', latencyMs: 12 }, face: { status: 'healthy', latencyMs: 48 } } }] });

/** The served document's own body: only its outline is promised here (the rest is the OpenAPI 3.1 schema's job). */
export const openApiDocumentBodySchema = z.looseObject({
  openapi: z.string().regex(/^3\.1\./),
  info: z.looseObject({}),
  paths: z.looseObject({}),
});

/** The types an image route may answer with: the sniffed image formats, or octet-stream for bytes that are none of them. */
export const SESSION_IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/bmp', 'image/gif', 'image/webp', 'application/octet-stream'] as const;

// Response headers.
export const cacheControlHeaderSchema = z.literal('no-store')
  .meta({ description: 'Responses are never cached (`no-store`).', header: { id: 'CacheControl' } });
export const nosniffHeaderSchema = z.literal('nosniff')
  .meta({ description: 'Always `nosniff`: the body is only ever what Content-Type says.', header: { id: 'XContentTypeOptions' } });
export const retryAfterHeaderSchema = z.coerce.number().int().min(0)
  .meta({ description: 'Seconds to wait before trying again.', header: { id: 'RetryAfter' } });
export const wwwAuthenticateHeaderSchema = z.literal('Bearer')
  .meta({ description: 'Always `Bearer`.', header: { id: 'WwwAuthenticate' } });
export const locationHeaderSchema = z.string().regex(/^\/api\/liveness-sessions\/[0-9a-fA-F-]{36}$/)
  .meta({ description: 'The session\'s back-office URL.' });
export const idempotentReplayedHeaderSchema = z.literal('true').optional()
  .meta({ description: 'Present (true) when this is the stored answer to an earlier request with the same Idempotency-Key.' });
export const requestInProgressRetryAfterHeaderSchema = z.coerce.number().int().min(0).optional()
  .meta({ description: 'Set (1) for RequestInProgress.' });
