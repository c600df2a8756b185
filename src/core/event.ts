// The relying party's events as the core makes them (a model with no dependencies: session records carry them in
// their outbox, ports deliver them).
export const LIVENESS_EVENT_TYPES = [
  'liveness.session.decided', 'liveness.review.settled', 'liveness.session.expired', 'liveness.session.erased',
  'liveness.subject.erased', 'liveness.verification.expired',
] as const;
export type LivenessEventType = (typeof LIVENESS_EVENT_TYPES)[number];

/**
 * What the relying party hears (as a Standard Webhooks payload): never images, tokens, keys or scores unless the
 * scores setting is on. `id` is unique per event, so a receiver that sees an event twice can drop the copy.
 */
export interface LivenessEvent {
  id: string;
  /**
   * The subject key of the person the event is about: never sent (the sender leaves it out), it keys the delivery
   * log's rows so erasure finds and deletes them.
   */
  subjectKey?: string;
  type: LivenessEventType;
  /** When the thing happened (ISO 8601). */
  timestamp: string;
  data: Record<string, unknown>;
}
