// The response bodies and headers of the HTTP API. The OpenAPI document (src/openapi/document.ts) renders these,
// and the end-to-end tests hold every answer the app gives to that rendering. Objects are strict wherever the code's
// output is fully known, so an extra field (a score leaking to the device, say) is caught.
import { z } from 'zod';
import {
  attemptStatusSchema, decisionOutcomeSchema, deviceOutcomeSchema, failureReasonSchema, linkStateSchema, livenessOperationModeSchema,
  qualityForRecognitionSchema, sessionOriginSchema, sessionStatusSchema, verificationStatusSchema,
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
  authToken: z.string().min(1).optional().meta({ description: 'The session-scoped token for the Face client SDK. A secret: never log it. Absent when `attestation.required` is true.' }),
  authTokenExpiresDateTime: dateTime('When `authToken` stops working; the capture must be finished before then.'),
  verifyImage: verifyImageInfoSchema,
  attestation: z.strictObject({
    required: z.literal(true),
    platform: z.enum(['ios', 'android']),
    message: z.string(),
  }).optional().meta({ description: 'Present when the platform requires device attestation: the token is released only to an attested app, through POST /api/attestation/challenge, /register (or /verify) and /api/session/token.' }),
  quickLinkUrl: z.url().optional().meta({
    description: "Only for a session started from a verification link while FACE_QUICK_LINK is on: Face's hosted capture "
      + 'page for this session (single use). The page sends the person there instead of running the capture itself; '
      + '`authToken` is then absent.',
  }),
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
  clientInformation: z.array(z.strictObject({ ip: z.string() })).meta({
    description: 'Face v1.3: the client IP address Face saw during the attempt.',
  }).optional(),
  abuseMonitoringResult: z.strictObject({
    isAbuseDetected: z.boolean(),
    otherFlaggedSessions: z.array(z.strictObject({
      attemptId: z.int().min(1), sessionId: z.string().meta({ description: "Face's session id." }), sessionImageId: z.string().optional(),
    })),
  }).meta({ description: "Face v1.3 abuse monitoring: whether this attempt's face was seen under another correlation id, and where." }).optional(),
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
      + 'MatchConfidenceMissing, DigestMismatch (the digest the device reported is not Face\'s), AbuseDetected (Face v1.3 '
      + 'abuse monitoring flagged an attempt).',
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
  digestMatches: z.boolean().meta({ description: "Whether the digest the device reported equals Face's (absent: not compared)." }).optional(),
  abuse: z.strictObject({
    attemptIds: z.array(z.int().min(1)).meta({ description: 'The flagged attempts of this session.' }),
    otherFlaggedSessions: z.array(z.strictObject({
      faceSessionId: z.string(),
      attemptId: z.int().min(1),
      sessionId: sessionIdSchema.optional().meta({ description: "This app's session, when the flagged session is ours." }),
    })),
  }).meta({ description: 'Face v1.3 abuse monitoring flagged this session; LIVENESS_ABUSE_POLICY decided review or fail.' }).optional(),
}).meta({ id: 'Decision', description: 'What the decision policy made of the latest attempt, with the evidence it rests on.' });

const sha256Schema = z.string().regex(/^[0-9A-F]{64}$/).meta({ description: 'SHA-256, upper-case hex.' });

export const reviewDecisionSchema = z.strictObject({
  outcome: z.enum(['pass', 'fail']),
  reason: z.string(),
  reviewer: z.string().meta({ description: "Who settled it: the reviewer's Entra object id, or admin-key (local runs)." }),
  reviewedDateTime: dateTime(),
}).meta({
  id: 'ReviewDecision',
  description: "A person's decision on a session the policy sent to review. The automated `decision` stays as it was; "
    + 'the device sees this outcome.',
});

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
  reviewRequired: z.boolean().meta({ description: 'True while the decision is review and no reviewer has settled it.' }).optional(),
  review: reviewDecisionSchema.optional(),
  reference: z.strictObject({
    referenceId: z.uuid(),
    sha256: sha256Schema,
  }).meta({ description: 'The enrolled reference the session verified against (absent when the device brought the verify image).' }).optional(),
  consentVersion: z.string().meta({ description: 'The consent text version the person agreed to.' }).optional(),
  clientDigest: z.string().meta({ description: 'The result digest the device reported on complete.' }).optional(),
  abuseLinks: z.array(sessionIdSchema).meta({
    description: 'Sessions of this app that Face abuse monitoring flagged together with this one (either side).',
  }).optional(),
  origin: sessionOriginSchema.optional().meta({ description: 'Where the session came from (absent on sessions made before verification links: device).' }),
  verificationId: z.guid().optional().meta({ description: 'The verification the session was started from (origin link).' }),
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
  origin: sessionOriginSchema.optional().meta({ description: 'Where the session came from (absent on sessions made before verification links: device).' }),
  verificationId: z.guid().optional().meta({ description: 'The verification the session was started from (origin link).' }),
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
  checks: z.union([
    z.strictObject({ storage: healthCheckSchema, face: healthCheckSchema }),
    // The settings cannot be used (e.g. a Key Vault reference the platform has not resolved): nothing was probed.
    z.strictObject({ settings: healthCheckSchema }),
  ]),
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

// ---------------------------------------------------------------------------------------------------------------
// Subjects, references, erasure, export, reviews, privacy.

export const subjectKeySchema = z.strictObject({
  subjectKey: z.string().regex(/^[0-9a-f]{64}$/).meta({
    description: 'HMAC-SHA256 of the subject under the deployment\'s SUBJECT_KEY_SECRET: the key of everything the app '
      + 'holds about the subject. Use it in the /subjects routes (the raw subject never goes in a URL).',
  }),
}).meta({ id: 'SubjectKey', examples: [{ subjectKey: '3f0c2d7e9a41b5c86d1e0f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e' }] });

export const subjectReferenceSchema = z.strictObject({
  referenceId: z.uuid(),
  contentType: z.string(),
  sizeInBytes: z.int().min(0),
  sha256: sha256Schema,
  enrolledDateTime: dateTime(),
  enrolledBy: z.string().meta({ description: "Who enrolled it: an Entra object id, or admin-key." }),
  source: z.enum(['upload', 'session']),
  sourceSessionId: sessionIdSchema.optional(),
}).meta({
  id: 'SubjectReference',
  description: 'The enrolled reference: device checks of this subject verify against it.',
  examples: [{
    referenceId: '6c1b7f0e-2f7d-4b4a-9a43-2d5c1e0b9f11', contentType: 'image/jpeg', sizeInBytes: 104_419,
    sha256: 'A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90', enrolledDateTime: '2026-01-15T09:30:00.000Z',
    enrolledBy: 'admin-key', source: 'upload',
  }],
});

export const correlationIdResetSchema = z.strictObject({
  subjectKey: z.string().regex(/^[0-9a-f]{64}$/),
  userCorrelationIdIssuedDateTime: dateTime('When the new correlation id was issued.'),
  issuedBy: z.string().meta({ description: "Who reset it: the reviewer's Entra object id, or admin-key." }),
}).meta({
  id: 'CorrelationIdReset',
  description: "The subject's Face abuse-monitoring correlation id was replaced (the id itself is never shown).",
});

const countsSchema = z.record(z.string(), z.int().min(0)).meta({
  description: 'How many of each kind were deleted: sessions, faceSessions, images, auditEntries, references, '
    + 'consents, lockouts, quotas, idempotencyKeys (kinds with none are left out).',
});

export const evidenceRefSchema = z.strictObject({
  recordId: z.string().max(200),
  recordHash: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: 'SHA-256 of the record\'s canonical JSON (RFC 8785).' }),
  chain: z.int().min(0).max(15),
  seq: z.int().min(1),
  checkpointId: z.uuid().optional().meta({ description: 'The first signed checkpoint that covers the record, once one does.' }),
}).meta({ id: 'EvidenceRef', description: 'Where an evidence record sits in the log (README: Evidence).' });

export const deletionReceiptSchema = z.strictObject({
  receiptId: z.uuid(),
  subjectKey: z.string().regex(/^[0-9a-f]{64}$/),
  requestedDateTime: dateTime(),
  completedDateTime: dateTime(),
  requestedBy: z.string().meta({ description: "Who asked: an Entra object id, or admin-key." }),
  deleted: countsSchema,
  evidence: evidenceRefSchema.optional(),
}).meta({
  id: 'DeletionReceipt',
  description: 'What an erasure deleted, when and by whom. Hashes and counts only: no images, no raw subject id.',
  examples: [{
    receiptId: '0b8e6a52-8a0e-4d7c-9a0f-3f5b8c1d2e3f', subjectKey: '3f0c2d7e9a41b5c86d1e0f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e',
    requestedDateTime: '2026-01-15T10:00:00.000Z', completedDateTime: '2026-01-15T10:00:01.250Z', requestedBy: 'admin-key',
    deleted: { sessions: 4, faceSessions: 2, images: 5, auditEntries: 3, references: 1, consents: 1, lockouts: 1, quotas: 1 },
  }],
});

const imageLinkSchema = z.strictObject({
  href: z.string().meta({ description: 'Back-office link to the image bytes (same authorization as this call).' }),
  contentType: z.string(),
});

export const subjectExportSchema = z.strictObject({
  subjectKey: z.string().regex(/^[0-9a-f]{64}$/),
  exportedDateTime: dateTime(),
  subject: z.strictObject({
    createdDateTime: dateTime(),
    lastSeenDateTime: dateTime().optional(),
    erasing: z.literal(true).optional(),
  }).optional(),
  reference: subjectReferenceSchema.extend({ image: imageLinkSchema }).optional(),
  consents: z.array(z.strictObject({ version: z.string(), givenDateTime: dateTime() })),
  sessions: z.array(z.strictObject({
    session: livenessSessionSchema,
    auditEntries: z.array(auditEntrySchema),
    images: z.array(imageLinkSchema.extend({ kind: z.enum(['verify', 'session']), sha256: sha256Schema.optional() })),
  })),
  lockouts: z.array(z.strictObject({ kind: z.enum(['subject', 'device']), recentFailures: z.int().min(0), lockedUntil: dateTime().optional() })),
  quota: z.strictObject({ openSessions: z.int().min(0), recentCreates: z.int().min(0) }).optional(),
  idempotencyKeys: z.array(z.strictObject({ state: z.string(), sessionId: sessionIdSchema.optional(), createdDateTime: dateTime() })),
  deletionReceipts: z.array(deletionReceiptSchema),
  verifications: z.array(z.strictObject({
    verificationId: z.guid(),
    owner: z.string().meta({ description: "The relying party's client application that created it." }),
    status: verificationStatusSchema,
    linkState: linkStateSchema,
    createdDateTime: dateTime(),
    expiresDateTime: dateTime(),
    openedDateTime: dateTime().optional(),
    sessionId: sessionIdSchema.optional(),
    clientReferenceId: z.string().optional(),
    returnUrl: z.string().optional(),
    locale: z.string().optional(),
    referenceImage: imageLinkSchema.extend({ sha256: sha256Schema }).optional().meta({ description: 'The reference the relying party gave, until a check used it or the link expired.' }),
  })).optional().meta({ description: "Verifications relying parties created for the person (link and access tokens only as hashes, never exported)." }),
}).meta({
  id: 'SubjectExport',
  description: 'Everything the app holds about the subject (GDPR Art. 15): records as JSON, images as back-office links.',
});

export const reviewQueuePageSchema = z.strictObject({
  value: z.array(livenessSessionSchema),
  continuationToken: z.string().min(1).max(1024).optional(),
}).meta({ id: 'ReviewQueuePage', description: 'Sessions awaiting review, oldest first.' });

export const privacySchema = z.strictObject({
  consent: z.strictObject({
    required: z.boolean().meta({ description: 'Whether a create must carry consentVersion (CONSENT_REQUIRED).' }),
    currentVersion: z.string().meta({ description: 'The version a device must send as consentVersion.' }),
    versions: z.array(z.strictObject({ version: z.string(), publishedDate: z.iso.date(), text: z.string() })),
  }),
  deviceReferenceAllowed: z.boolean().meta({ description: 'Whether a device may bring its own verify image when no reference is enrolled.' }),
  retention: z.array(z.looseObject({
    data: z.string(),
    description: z.string(),
    kept: z.string(),
  })).meta({ description: 'How long each kind of data is kept (from the deployment\'s settings).' }),
}).meta({
  id: 'Privacy',
  description: 'The consent texts and the retention schedule, for a device to show before it collects anything.',
  examples: [{
    consent: { required: true, currentVersion: '2026-01', versions: [{ version: '2026-01', publishedDate: '2026-01-01', text: 'To confirm it is you, …' }] },
    deviceReferenceAllowed: true,
    retention: [{ data: 'verifyAndSessionImages', description: 'The verify image sent to Face and the captured session image.', kept: '0 hours after the session token expires.', hoursAfterTokenExpiry: 0 }],
  }],
});

const jwkSchema = z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), kid: z.string(), alg: z.literal('ES256'), use: z.literal('sig') });

export const evidenceKeysSchema = z.strictObject({ keys: z.array(jwkSchema) }).meta({
  id: 'EvidenceKeys',
  description: 'The public keys (JWKS) that sign evidence checkpoints: the current one and every key rotated out.',
});

const signedCheckpointSchema = z.strictObject({
  checkpointId: z.uuid(),
  time: dateTime(),
  jws: z.string().meta({ description: 'JWS compact serialization (ES256) of the canonical checkpoint: {v, checkpointId, time, previous?, heads: [{chain, seq, hash}]}.' }),
}).meta({ id: 'SignedCheckpoint' });

export const checkpointWrittenSchema = z.strictObject({
  checkpoint: signedCheckpointSchema,
  created: z.boolean().meta({ description: 'False when nothing was appended since the latest checkpoint (that one is answered).' }),
}).meta({ id: 'CheckpointWritten' });

const evidenceRecordSchema = z.looseObject({
  v: z.literal(1), recordId: z.string(), type: z.string(), time: dateTime(), chain: z.int(), seq: z.int(), prev: z.string(), digest: z.string(),
});

export const evidenceExportSchema = z.strictObject({
  format: z.literal('liveness-evidence-export/1'),
  from: dateTime(),
  to: dateTime(),
  exportedDateTime: dateTime(),
  baseCheckpointId: z.uuid().optional(),
  keys: evidenceKeysSchema,
  checkpoints: z.array(signedCheckpointSchema),
  records: z.array(z.strictObject({ record: evidenceRecordSchema, hash: z.string() })),
}).meta({
  id: 'EvidenceExport',
  description: 'The checkpoints written in a time range (after the base checkpoint they continue from) and every record '
    + 'they cover, chain by chain. Check it offline with `npm run evidence:verify -- <file>`.',
});

// ---------------------------------------------------------------------------------------------------------------
// Verifications (relying parties) and their links.

export const verificationIdSchema = z.guid().meta({
  id: 'VerificationId',
  description: 'The verification id (a UUIDv7 minted by this app).',
  examples: ['019ac1f2-7a3b-7c4d-8e5f-0123456789ab'],
});

const clientReferenceIdSchema = z.string().regex(/^[\x20-\x7e]{1,64}$/)
  .meta({ description: 'The reference you gave at create, echoed back.' });

export const verificationLinkSchema = z.strictObject({
  url: z.url().meta({
    description: 'The link to hand to the person (redirect, e-mail, SMS, QR code). Single use; the token is in the URL '
      + 'fragment, so it never reaches a server log. A secret until used: do not log it.',
    examples: ['https://pages.example/device/?verification=019ac1f2-7a3b-7c4d-8e5f-0123456789ab#link=vlt_…'],
  }),
  expiresDateTime: dateTime('When the link stops working unless opened (VERIFICATION_LINK_TTL_MINUTES).'),
}).meta({ id: 'VerificationLink', description: 'A verification link (a new one kills the previous one).' });

export const createdVerificationSchema = z.strictObject({
  verificationId: verificationIdSchema,
  ...verificationLinkSchema.shape,
}).meta({ id: 'CreatedVerification', description: 'A new verification and its link.' });

export const verificationSchema = z.strictObject({
  verificationId: verificationIdSchema,
  status: verificationStatusSchema,
  linkState: linkStateSchema,
  outcome: decisionOutcomeSchema.optional().meta({ description: "The check's outcome, once there is one (a settled review gives the reviewer's)." }),
  reasons: z.array(z.string()).optional().meta({ description: 'Coarse reason codes of a fail or review (never scores).' }),
  clientReferenceId: clientReferenceIdSchema.optional(),
  createdDateTime: dateTime(),
  expiresDateTime: dateTime('When the current link stops working unless opened.'),
  openedDateTime: dateTime('When the page exchanged the link.').optional(),
  decidedDateTime: dateTime('When the outcome became final.').optional(),
}).meta({
  id: 'Verification',
  description: 'A verification as its relying party reads it: status, link state, outcome and times. Never scores, '
    + 'never the person\'s id or key.',
  examples: [{
    verificationId: '019ac1f2-7a3b-7c4d-8e5f-0123456789ab', status: 'pass', linkState: 'used', outcome: 'pass', reasons: [],
    clientReferenceId: 'order-7731', createdDateTime: '2026-11-26T09:30:00.000Z', expiresDateTime: '2026-11-26T09:45:00.000Z',
    openedDateTime: '2026-11-26T09:31:10.000Z', decidedDateTime: '2026-11-26T09:32:05.120Z',
  }],
});

export const linkExchangeSchema = z.strictObject({
  verificationId: verificationIdSchema,
  accessToken: z.string().regex(/^vla_[A-Za-z0-9._-]+$/).meta({
    description: 'A short-lived bearer for the device routes (POST /liveness-sessions, /complete, /status), scoped to '
      + 'this verification and its one session. Opaque; a secret: never log it.',
  }),
  accessTokenExpiresDateTime: dateTime('When the access token stops working (VERIFICATION_ACCESS_TTL_MINUTES).'),
  returnUrl: z.url().optional().meta({ description: "Where to send the person at the end (with verificationId and status)." }),
  locale: z.string().optional().meta({ description: 'The language the relying party asked for.' }),
  consent: privacySchema.shape.consent,
  quickLink: z.boolean().meta({ description: "Whether the check runs on Face's hosted page (FACE_QUICK_LINK=on): the create answers quickLinkUrl." }),
}).meta({ id: 'VerificationLinkExchange', description: 'The link, exchanged for what the page needs to run the check.' });

export const verificationListItemSchema = z.strictObject({
  verificationId: verificationIdSchema,
  status: verificationStatusSchema,
  linkState: linkStateSchema,
  origin: z.literal('link'),
  createdDateTime: dateTime(),
  expiresDateTime: dateTime('When the current link stops working unless opened.'),
  sessionId: sessionIdSchema.optional(),
  clientReferenceId: clientReferenceIdSchema.optional(),
}).meta({ id: 'VerificationListItem', description: 'A verification in the back-office list.' });

export const verificationPageSchema = z.strictObject({
  value: z.array(verificationListItemSchema),
  continuationToken: z.string().min(1).max(1024).optional().meta({ description: 'Present when there are more: pass it back for the next page.' }),
}).meta({ id: 'VerificationPage', description: 'One page of verifications, newest first.' });

export const verificationLocationHeaderSchema = z.string().regex(/^\/api\/verifications\/[0-9a-fA-F-]{36}$/)
  .meta({ description: 'The verification just created.' });
