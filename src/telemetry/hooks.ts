// Invocation hooks: run every function inside the trace it belongs to.
//  - HTTP and timer invocations continue the host's trace (InvocationContext.traceContext), so Face and storage calls
//    made by the worker appear under the host's request in Application Insights.
//  - A completion-queue invocation continues the trace of the request that enqueued it, from the message's
//    traceparent (written by TracingCompletionQueue); without one, the host's trace.
import { app, type InvocationContext } from '@azure/functions';
import { context as otelContext, propagation, ROOT_CONTEXT, type Context } from '@opentelemetry/api';

export function parentContext(invocation: InvocationContext, inputs: readonly unknown[]): Context | undefined {
  const fromMessage = traceCarrier(inputs[0]);
  const carrier = fromMessage ?? (invocation.traceContext?.traceParent
    ? { traceparent: invocation.traceContext.traceParent, ...(invocation.traceContext.traceState ? { tracestate: invocation.traceContext.traceState } : {}) }
    : undefined);
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier) : undefined;
}

function traceCarrier(input: unknown): Record<string, string> | undefined {
  let value = input;
  if (typeof value === 'string' && value.startsWith('{')) {
    try { value = JSON.parse(value); } catch { return undefined; }
  }
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return undefined;
  const { traceparent, tracestate } = value as { traceparent?: unknown; tracestate?: unknown };
  if (typeof traceparent !== 'string') return undefined;
  return { traceparent, ...(typeof tracestate === 'string' ? { tracestate } : {}) };
}

let registered = false;
export function registerTelemetryHooks(): void {
  if (registered) return;
  registered = true;
  app.hook.preInvocation((hook) => {
    const parent = parentContext(hook.invocationContext, hook.inputs);
    if (parent) hook.functionHandler = otelContext.bind(parent, hook.functionHandler);
  });
}
