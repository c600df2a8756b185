// The contract's types, inferred from its zod schemas: the one module of src/contract the core may import, and only
// with `import type` (eslint.config.js), so the core states its answers in the API's own terms without loading zod.
// z.input is what a producer must hand over (a response body, an event, a queued message); z.output is what a
// consumer gets after parsing (defaults applied).
import type { z } from 'zod';
import type { failureReasonSchema } from './enums.js';
import type { completionMessageSchema } from './queues.js';
import type {
  auditEntryListSchema, auditEntrySchema, deletionReceiptSchema, deviceStatusSchema, livenessSessionListItemSchema, livenessSessionPageSchema,
  livenessSessionSchema, privacySchema, reviewQueuePageSchema, startedSessionSchema, subjectExportSchema, subjectKeySchema,
  subjectReferenceSchema,
} from './responses.js';
import type {
  deliveryAttemptListSchema, deliveryMessageSchema, failedDeliveryPageSchema, redeliveryAcceptedSchema,
  reviewSettledEventSchema, sessionDecidedEventSchema, sessionErasedEventSchema, sessionExpiredEventSchema,
  subjectErasedEventSchema,
} from './webhooks.js';

// Queue messages
export type CompletionMessage = z.output<typeof completionMessageSchema>;
export type DeliveryMessage = z.output<typeof deliveryMessageSchema>;
/** An event as it travels through the webhook queue: any known type, its data checked by the event's own schema when built. */
export type LivenessEvent = DeliveryMessage['event'];

// Webhook events, as the core builds them
export type SessionDecidedEvent = z.input<typeof sessionDecidedEventSchema>;
export type SessionExpiredEvent = z.input<typeof sessionExpiredEventSchema>;
export type SessionErasedEvent = z.input<typeof sessionErasedEventSchema>;
export type ReviewSettledEvent = z.input<typeof reviewSettledEventSchema>;
export type SubjectErasedEvent = z.input<typeof subjectErasedEventSchema>;

// Response bodies
export type StartedSessionBody = z.input<typeof startedSessionSchema>;
export type DeviceStatusBody = z.input<typeof deviceStatusSchema>;
export type LivenessSessionBody = z.input<typeof livenessSessionSchema>;
export type LivenessSessionListItemBody = z.input<typeof livenessSessionListItemSchema>;
export type LivenessSessionPageBody = z.input<typeof livenessSessionPageSchema>;
export type AuditEntryBody = z.input<typeof auditEntrySchema>;
export type AuditEntryListBody = z.input<typeof auditEntryListSchema>;
export type ReviewQueuePageBody = z.input<typeof reviewQueuePageSchema>;
export type SubjectKeyBody = z.input<typeof subjectKeySchema>;
export type SubjectReferenceBody = z.input<typeof subjectReferenceSchema>;
export type DeletionReceiptBody = z.input<typeof deletionReceiptSchema>;
export type PrivacyBody = z.input<typeof privacySchema>;
export type DeliveryAttemptListBody = z.input<typeof deliveryAttemptListSchema>;
export type FailedDeliveryPageBody = z.input<typeof failedDeliveryPageSchema>;
export type RedeliveryAcceptedBody = z.input<typeof redeliveryAcceptedSchema>;

export type SubjectExportBody = z.input<typeof subjectExportSchema>;
type ExportedSession = SubjectExportBody['sessions'][number];
type ExportedReference = NonNullable<SubjectExportBody['reference']>;
/** An image as the core names it: the HTTP edge turns `name` into a back-office link (`href`) on the caller's route. */
export type ImageRef<Link extends { href: string }> = Omit<Link, 'href'> & { name: string };
/** The export as the core builds it: images named, not linked (links are the HTTP edge's business). */
type ExportedVerification = NonNullable<SubjectExportBody['verifications']>[number];
export type SubjectExport = Omit<SubjectExportBody, 'reference' | 'sessions' | 'verifications'> & {
  reference?: Omit<ExportedReference, 'image'> & { image: ImageRef<ExportedReference['image']> };
  sessions: Array<Omit<ExportedSession, 'images'> & { images: Array<ImageRef<ExportedSession['images'][number]>> }>;
  verifications?: Array<Omit<ExportedVerification, 'referenceImage'> & { referenceImage?: ImageRef<NonNullable<ExportedVerification['referenceImage']>> }>;
};
export type FailureReason = z.output<typeof failureReasonSchema>;
