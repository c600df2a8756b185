// The webhook contract: the events the relying party's receiver gets (Standard Webhooks payloads, rendered as the
// OpenAPI document's `webhooks`), and the back-office views of deliveries (failed deliveries, attempt logs,
// redelivery). The queue trigger parses its messages with deliveryMessageSchema.
import { z } from 'zod';
import { LIVENESS_EVENT_TYPES } from '../core/event.js';
import { decisionOutcomeSchema, failureReasonSchema, sessionStatusSchema } from './enums.js';
import { printable, parseWith, type ParseCodes } from './parse.js';
import { sessionIdSchema } from './responses.js';

const dateTime = (description?: string) => z.iso.datetime({ offset: true }).meta(description ? { description } : {});

/** Event ids: `evt_` and a UUIDv7 (time-ordered). Also the `webhook-id` header: receivers de-duplicate on it. */
export const EVENT_ID = /^evt_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const eventIdSchema = z.string().regex(EVENT_ID).meta({
  id: 'EventId',
  description: 'Unique per event and the same on every delivery of it (the webhook-id header): a receiver that has '
    + 'seen the id before must treat the delivery as a copy.',
  examples: ['evt_019ac1f2-7c3d-7e4f-8a5b-0123456789ab'],
});
export const eventTypeSchema = z.enum(LIVENESS_EVENT_TYPES).meta({ id: 'EventType' });

const about = {
  sessionId: sessionIdSchema,
  subject: z.string().meta({ description: "The device token's subject: the user as your identity provider knows them." }).optional(),
  deviceCorrelationId: z.string().min(1).max(64).meta({ description: 'Your id for the device, when the start request gave one.' }).optional(),
  verificationId: z.guid().meta({ description: 'The verification the session was started from (a verification link).' }).optional(),
  clientReferenceId: z.string().regex(/^[\x20-\x7e]{1,64}$/).meta({ description: 'The reference the relying party gave when it created the verification.' }).optional(),
};

const EXAMPLE_SESSION = '019ac1f2-7a3b-7c4d-8e5f-0123456789ab';
const EXAMPLE_ID = 'evt_019ac1f2-8d10-7a2b-9c3d-4e5f60718293';

const evidenceSchema = z.strictObject({
  recordHash: z.string().regex(/^[0-9a-f]{64}$/),
  chain: z.int().min(0).max(15),
  seq: z.int().min(1),
}).optional().meta({ description: 'The evidence record of what the event reports (README: Evidence): find it in an export and check it against a signed checkpoint.' });

export const sessionDecidedEventSchema = z.strictObject({
  id: eventIdSchema,
  type: z.literal('liveness.session.decided'),
  timestamp: dateTime('When the decision was recorded.'),
  data: z.strictObject({
    ...about,
    status: sessionStatusSchema,
    outcome: decisionOutcomeSchema,
    reasons: z.array(z.string()).meta({ description: 'Empty for pass; otherwise why (as in the back-office Decision).' }),
    reviewRequired: z.boolean().meta({ description: 'True for outcome review: a person decides, and a review.settled event follows.' }),
    attemptId: z.int().min(0),
    decidedDateTime: dateTime(),
    policyVersion: z.string(),
    scores: z.strictObject({
      livenessDecision: z.string().optional(),
      matchConfidence: z.number().min(0).max(1).optional(),
      isIdentical: z.boolean().optional(),
    }).meta({ description: 'Only when WEBHOOK_INCLUDE_SCORES is on (off by default).' }).optional(),
    evidence: evidenceSchema,
  }),
}).meta({
  id: 'SessionDecidedEvent',
  description: 'The decision policy decided on a collected attempt (automated).',
  examples: [{
    id: EXAMPLE_ID, type: 'liveness.session.decided', timestamp: '2026-11-26T09:30:05.120Z',
    data: {
      sessionId: EXAMPLE_SESSION, subject: 'alice', deviceCorrelationId: 'alice-phone-1', status: 'ResultAvailable',
      outcome: 'pass', reasons: [], reviewRequired: false, attemptId: 1, decidedDateTime: '2026-11-26T09:30:05.120Z',
      policyVersion: 'auto-5ee9e70ff734',
    },
  }],
});

export const sessionExpiredEventSchema = z.strictObject({
  id: eventIdSchema,
  type: z.literal('liveness.session.expired'),
  timestamp: dateTime('When the sweep closed the session.'),
  data: z.strictObject({
    ...about,
    status: z.enum(['Expired', 'Failed']),
    reason: failureReasonSchema.optional(),
    authTokenExpiresDateTime: dateTime(),
  }),
}).meta({
  id: 'SessionExpiredEvent',
  description: "The session's token expired and it has no result: Expired (no attempt was ever finished) or Failed "
    + '(collection gave up earlier; see reason). No decided event will follow.',
  examples: [{
    id: EXAMPLE_ID, type: 'liveness.session.expired', timestamp: '2026-11-26T09:45:00.311Z',
    data: {
      sessionId: EXAMPLE_SESSION, subject: 'alice', status: 'Expired', reason: 'NoFinishedAttemptBeforeExpiry',
      authTokenExpiresDateTime: '2026-11-26T09:40:00.000Z',
    },
  }],
});

export const reviewSettledEventSchema = z.strictObject({
  id: eventIdSchema,
  type: z.literal('liveness.review.settled'),
  timestamp: dateTime('When the reviewer settled the session.'),
  data: z.strictObject({
    ...about,
    outcome: z.enum(['pass', 'fail']).meta({ description: "The reviewer's outcome: what the device now sees." }),
    reasons: z.array(z.string().max(200)).max(20).meta({ description: '`Review:<outcome>`, then the automated decision\'s reasons.' }),
    reviewedDateTime: dateTime(),
    decidedDateTime: dateTime('Same as reviewedDateTime: when the outcome became final.'),
    policyVersion: z.string().max(64).optional(),
  }),
}).meta({
  id: 'ReviewSettledEvent',
  description: 'A reviewer settled a session the decision policy had sent to review (its decided event said outcome '
    + '"review"). The automated decision is kept next to the human one in the back office.',
  examples: [{
    id: EXAMPLE_ID, type: 'liveness.review.settled', timestamp: '2026-11-26T10:12:40.118Z',
    data: {
      sessionId: EXAMPLE_SESSION, subject: 'alice', deviceCorrelationId: 'alice-phone-1', outcome: 'pass',
      reasons: ['Review:pass', 'MatchConfidenceInReviewBand'], reviewedDateTime: '2026-11-26T10:12:40.118Z',
      decidedDateTime: '2026-11-26T10:12:40.118Z', policyVersion: 'auto-5ee9e70ff734',
    },
  }],
});

export const subjectErasedEventSchema = z.strictObject({
  id: eventIdSchema,
  type: z.literal('liveness.subject.erased'),
  timestamp: dateTime('When the erasure finished.'),
  data: z.strictObject({
    subjectKey: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: 'The subject key (HMAC of the subject), as the back office knows it; never the raw subject.' }),
    receiptId: z.string().uuid(),
    deleted: z.record(z.string(), z.number().int().min(0)).meta({ description: 'What was deleted, by kind, with counts (the deletion receipt).' }),
    erasedDateTime: dateTime(),
    evidence: evidenceSchema,
  }),
}).meta({
  id: 'SubjectErasedEvent',
  description: 'Everything the app held about a subject is gone (GDPR Art. 17): sessions, Face sessions, images, '
    + 'references, consents, audit entries and limit rows. Sent once per erasure (a resumed erasure sends the same id).',
  examples: [{
    id: 'evt_019ac1f3-1a2b-7c3d-8e4f-0123456789ab', type: 'liveness.subject.erased', timestamp: '2026-11-26T10:20:00.000Z',
    data: {
      subjectKey: '3f0c9a7e2b5d4c1f8e6a9b0c7d2e4f6a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e',
      receiptId: '019ac1f3-1a2b-7c3d-8e4f-0123456789ab', deleted: { sessions: 3, images: 4, auditEntries: 5, consents: 1 },
      erasedDateTime: '2026-11-26T10:20:00.000Z',
    },
  }],
});

export const sessionErasedEventSchema = z.strictObject({
  id: eventIdSchema,
  type: z.literal('liveness.session.erased'),
  timestamp: dateTime('When the erasure was requested.'),
  data: z.strictObject({ ...about, erasedDateTime: dateTime() }),
}).meta({
  id: 'SessionErasedEvent',
  description: 'The back office erased the session: the Face session, images, audit entries and record are gone '
    + '(sent after they are).',
  examples: [{
    id: EXAMPLE_ID, type: 'liveness.session.erased', timestamp: '2026-11-26T10:02:17.004Z',
    data: { sessionId: EXAMPLE_SESSION, subject: 'alice', deviceCorrelationId: 'alice-phone-1', erasedDateTime: '2026-11-26T10:02:17.004Z' },
  }],
});

/** A queued delivery. Events are checked loosely here (any known type), so new event types pass through unchanged. */
export const deliveryMessageSchema = z.object({
  event: z.object({
    id: z.string().regex(EVENT_ID),
    type: eventTypeSchema,
    timestamp: z.iso.datetime({ offset: true }),
    data: z.record(z.string(), z.unknown()),
    // Ours, never sent: the delivery log's rows are indexed under it, so erasure finds them.
    subjectKey: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  }),
  attempt: z.int().min(1).default(1),
  firstAttemptDateTime: z.iso.datetime({ offset: true }).optional(),
});

const deliveryErrorSchema = z.enum(['Timeout', 'NetworkError', 'Redirect', 'HttpStatus', 'NotConfigured']).meta({
  description: 'Timeout (no answer within WEBHOOK_TIMEOUT_MS), NetworkError (no connection), Redirect (a 3xx: '
    + 'redirects are not followed), HttpStatus (any other non-2xx), NotConfigured (WEBHOOK_URL is unset).',
});

export const deliveryAttemptSchema = z.strictObject({
  eventId: eventIdSchema,
  eventType: eventTypeSchema,
  sessionId: sessionIdSchema.optional(),
  attempt: z.int().min(1).meta({ description: 'Counts from 1 within a delivery run (a redelivery starts again at 1).' }),
  attemptedDateTime: dateTime(),
  durationMs: z.int().min(0),
  statusCode: z.int().meta({ description: "The receiver's HTTP status, when it answered." }).optional(),
  error: deliveryErrorSchema.optional(),
  result: z.enum(['delivered', 'retry-scheduled', 'dead-lettered']),
  nextAttemptDateTime: dateTime('When the next try is due (retry-scheduled only).').optional(),
}).meta({ id: 'DeliveryAttempt' });

export const deliveryAttemptListSchema = z.strictObject({ value: z.array(deliveryAttemptSchema) })
  .meta({ id: 'DeliveryAttemptList', description: "The event's delivery tries, oldest first." });

export const failedDeliverySchema = z.strictObject({
  eventId: eventIdSchema,
  type: eventTypeSchema,
  sessionId: sessionIdSchema.optional(),
  eventDateTime: dateTime(),
  attempts: z.int().min(1),
  firstAttemptDateTime: dateTime(),
  deadLetteredDateTime: dateTime(),
  lastStatusCode: z.int().optional(),
  lastError: z.union([deliveryErrorSchema, z.literal('DeliveryFailedRepeatedly')]).optional(),
}).meta({ id: 'FailedDelivery', description: 'An event whose delivery gave up after the retry window (a dead letter).' });

export const failedDeliveryPageSchema = z.strictObject({
  value: z.array(failedDeliverySchema),
  continuationToken: z.string().min(1).max(1024).optional(),
}).meta({ id: 'FailedDeliveryPage', description: 'Dead-lettered deliveries, oldest first.' });

export const redeliveryAcceptedSchema = z.strictObject({
  eventId: eventIdSchema,
  status: z.literal('Enqueued'),
}).meta({ id: 'RedeliveryAccepted', description: 'The event is queued for delivery again (same id, a fresh retry window).' });

export const eventIdPathSchema = z.object({
  eventId: z.string().meta({ description: 'The event id (evt_…). Anything else is answered 404.', examples: [EXAMPLE_ID] }),
});

/** The event id of a path, or a 404: ids this app did not mint cannot exist. */
export function eventIdParam(value: string | undefined): string | undefined {
  return value && EVENT_ID.test(value) ? value : undefined;
}

export const listFailedDeliveriesQuerySchema = z.strictObject({
  top: z.preprocess((v) => (typeof v === 'string' && /^\d{1,4}$/.test(v) ? Number(v) : v), z.int().min(1).max(1000))
    .default(50).meta({ description: 'Page size.', override: { default: 50 } }),
  continuationToken: z.string().max(1024).optional().meta({ description: 'From the previous page.' }),
});

const failedQueryCodes: ParseCodes = {
  byField: {
    top: { code: 'BadArgument', message: "'top' must be a whole number from 1 to 1000." },
    continuationToken: { code: 'InvalidContinuationToken', message: 'continuationToken is not one this API returned.' },
  },
  otherwise: 'BadArgument',
  unknownKey: (key) => `Unknown query parameter '${printable(key)}'.`,
};

export function parseListFailedDeliveriesQuery(query: URLSearchParams): z.output<typeof listFailedDeliveriesQuerySchema> {
  const first = new Map<string, string>();
  for (const [key, value] of query) if (!first.has(key)) first.set(key, value);
  return parseWith(listFailedDeliveriesQuerySchema, Object.fromEntries(first), failedQueryCodes);
}

/** The Standard Webhooks headers every delivery carries. */
export const webhookRequestHeadersSchema = z.object({
  'webhook-id': eventIdSchema,
  'webhook-timestamp': z.string().regex(/^\d{1,12}$/).meta({
    description: 'Unix seconds when this try was signed. Reject deliveries more than 5 minutes off your clock '
      + '(the standardwebhooks libraries do).',
    examples: ['1795599005'],
  }),
  'webhook-signature': z.string().regex(/^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})?$/).meta({
    description: 'v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"> with the shared whsec_ secret; '
      + 'during a secret rotation two signatures, space-separated: accept the delivery if either verifies.',
    examples: ['v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4='],
  }),
});
