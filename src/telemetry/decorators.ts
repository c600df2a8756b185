// Telemetry around the adapters, so that the core itself never imports OpenTelemetry: the Face retry observer and
// the trace context carried in completion messages.
import { context, propagation } from '@opentelemetry/api';
import type { AzureFaceSessionsOptions } from '../adapters/face/azure-face-sessions.js';
import type { CompletionMessage, CompletionQueue } from '../core/ports.js';
import type { Metrics } from './metrics.js';

/** The `onCall` observer for AzureFaceSessions: every exchange after the first of a call is a retry. */
export function faceCallObserver(metrics: Metrics): NonNullable<AzureFaceSessionsOptions['onCall']> {
  return (call) => { if (call.retry > 0) metrics.faceRetry(call.operation, call.status); };
}

/** A completion message as it travels: the core's fields plus the W3C trace context of the request that sent it. */
export type TracedCompletionMessage = CompletionMessage & { traceparent?: string; tracestate?: string };

/**
 * Puts the active trace context (W3C traceparent/tracestate) into every completion message, so that collecting the
 * result continues the trace of the device's completion request (src/telemetry/hooks.ts reads it back). The queue
 * trigger's schema ignores unknown fields; without an OpenTelemetry SDK nothing is added.
 */
export class TracingCompletionQueue implements CompletionQueue {
  constructor(private readonly inner: CompletionQueue) {}

  enqueue(message: CompletionMessage, delaySeconds?: number): Promise<void> {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    const traced: TracedCompletionMessage = { ...message };
    if (carrier.traceparent) traced.traceparent = carrier.traceparent;
    if (carrier.tracestate) traced.tracestate = carrier.tracestate;
    return this.inner.enqueue(traced, delaySeconds);
  }
}
