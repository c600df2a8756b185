// Telemetry instruments, decorators and hooks, against an in-memory OpenTelemetry metric reader: what the app records for sessions
// created, decisions by outcome, time to result, Face retries and sweep deletions, and how the trace context rides on
// completion messages.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  context, propagation, ROOT_CONTEXT, trace, TraceFlags, type Context, type ContextManager, type TextMapPropagator,
} from '@opentelemetry/api';
import {
  AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type Histogram,
} from '@opentelemetry/sdk-metrics';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AzureFaceSessions } from '../../src/adapters/face/azure-face-sessions.js';
import type { CompletionMessage, CompletionQueue } from '../../src/core/ports.js';
import { faceCallObserver, TracingCompletionQueue } from '../../src/telemetry/decorators.js';
import { parentContext } from '../../src/telemetry/hooks.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { telemetrySettings } from '../../src/telemetry/settings.js';

let exporter: InMemoryMetricExporter;
let reader: PeriodicExportingMetricReader;
let provider: MeterProvider;
let metrics: Metrics;

beforeEach(() => {
  exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  provider = new MeterProvider({ readers: [reader] });
  metrics = createMetrics(provider.getMeter('face-liveness-functions'));
});
afterEach(async () => { await provider.shutdown(); });

/** The data points recorded so far for one instrument. */
async function points(name: string): Promise<DataPoint<unknown>[]> {
  await reader.forceFlush();
  const all = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  const latest = all.filter((m) => m.descriptor.name === name).at(-1);
  return (latest?.dataPoints ?? []) as DataPoint<unknown>[];
}
const sums = async (name: string) => (await points(name)).map((p) => ({ attributes: p.attributes, value: p.value as number }));

describe('the metric instruments', () => {
  it('record sessions created, decisions by outcome and time to result', async () => {
    metrics.sessionCreated({ livenessOperationMode: 'PassiveActive' });
    metrics.sessionCreated({ livenessOperationMode: 'PassiveActive' });
    metrics.decisionRecorded('pass');
    metrics.decisionRecorded('fail');
    metrics.timeToResult(1_500, 'pass');
    metrics.timeToResult(Number.NaN, 'pass'); // a session without a completion time: nothing recorded
    expect(await sums('liveness.sessions.created')).toEqual([{ attributes: { livenessOperationMode: 'PassiveActive' }, value: 2 }]);
    expect(await sums('liveness.decisions')).toEqual(expect.arrayContaining([
      { attributes: { outcome: 'pass' }, value: 1 },
      { attributes: { outcome: 'fail' }, value: 1 },
    ]));
    const [histogram] = await points('liveness.time_to_result');
    expect(histogram?.attributes).toEqual({ outcome: 'pass' });
    expect(histogram?.value as Histogram).toMatchObject({ count: 1, sum: 1_500 });
  });

  it('record sweep deletions by kind; zeros record nothing', async () => {
    metrics.sweepDeletions('faceSession', 3);
    metrics.sweepDeletions('faceSession', 1);
    metrics.sweepDeletions('images', 2);
    metrics.sweepDeletions('records', 0);
    metrics.sweepDeletions('abandonedCreate', 1);
    const byKind = Object.fromEntries((await sums('liveness.sweep.deletions')).map((p) => [p.attributes.kind, p.value]));
    expect(byKind).toEqual({ faceSession: 4, images: 2, abandonedCreate: 1 });
  });
});

describe('Face retries (the onCall observer on the real AzureFaceSessions adapter)', () => {
  let server: http.Server;
  let calls = 0;
  afterAll(() => new Promise<void>((resolve) => { server.close(() => resolve()); }));

  it('counts every retried exchange by operation and status, and not first tries', async () => {
    server = http.createServer((req, res) => {
      calls++;
      // Two 503s with Retry-After: 0, then Face's 404 for an unknown session (the probe's success).
      if (calls <= 2) { res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"error":{"code":"Busy","message":"busy"}}'); return; }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"SessionNotFound","message":"not found"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const face = new AzureFaceSessions({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      apiKey: 'k', timeoutMs: 2_000, maxRetries: 3, retryBudgetMs: 5_000, onCall: faceCallObserver(metrics),
    });
    await face.probe();
    expect(calls).toBe(3);
    expect(await sums('liveness.face.retries')).toEqual(expect.arrayContaining([
      { attributes: { operation: 'get', status: '503' }, value: 1 },
      { attributes: { operation: 'get', status: '404' }, value: 1 },
    ]));
    expect((await sums('liveness.face.retries')).reduce((n, p) => n + p.value, 0)).toBe(2);
  });
});

/** Just enough of an SDK for the API to carry context: an AsyncLocalStorage context manager and W3C traceparent. */
class TestContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context { return this.storage.getStore() ?? ROOT_CONTEXT; }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = (fn: () => unknown) => this.with(ctx, fn);
    return function (this: unknown, ...args: unknown[]) { return run(() => (target as (...a: unknown[]) => unknown).apply(this, args)); } as T;
  }
  enable(): this { return this; }
  disable(): this { return this; }
}
const traceparentPropagator: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const span = trace.getSpanContext(ctx);
    if (span) setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-0${span.traceFlags.toString(16)}`);
  },
  extract(ctx, carrier, getter) {
    const value = getter.get(carrier, 'traceparent');
    const m = typeof value === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value) : null;
    return m ? trace.setSpanContext(ctx, { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true }) : ctx;
  },
  fields: () => ['traceparent'],
};

describe('trace context on completion messages', () => {
  beforeEach(() => {
    context.setGlobalContextManager(new TestContextManager());
    propagation.setGlobalPropagator(traceparentPropagator);
  });
  afterEach(() => { context.disable(); propagation.disable(); });

  const sent: CompletionMessage[] = [];
  const queue: CompletionQueue = { async enqueue(message) { sent.push(message); } };
  const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };

  it('carries the active traceparent, and the queue invocation continues that trace', async () => {
    const traced = new TracingCompletionQueue(queue);
    await context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () => traced.enqueue({ sessionId: 's', try: 1 }, 0));
    expect(sent.at(-1)).toEqual({ sessionId: 's', try: 1, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });

    // The queue trigger gets the message (as an object or as text); the host's own trace context is the fallback.
    const invocation = { traceContext: { traceParent: '00-11111111111111111111111111111111-2222222222222222-01' } } as never;
    for (const input of [sent.at(-1), JSON.stringify(sent.at(-1))]) {
      expect(trace.getSpanContext(parentContext(invocation, [input])!)?.traceId).toBe(spanContext.traceId);
    }
    expect(trace.getSpanContext(parentContext(invocation, [{ sessionId: 's', try: 1 }])!)?.traceId).toBe('11111111111111111111111111111111');
    expect(parentContext({} as never, [{ sessionId: 's', try: 1 }])).toBeUndefined();
  });

  it('adds nothing when there is no active trace', async () => {
    await new TracingCompletionQueue(queue).enqueue({ sessionId: 't', try: 2 });
    expect(sent.at(-1)).toEqual({ sessionId: 't', try: 2 });
  });
});

describe('telemetry settings', () => {
  it('export only with a connection string; AAD with the managed identity, user-assigned when a ClientId is given', () => {
    expect(telemetrySettings({})).toBeUndefined();
    expect(telemetrySettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: ' ' })).toBeUndefined();
    const cs = 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://x.in.applicationinsights.azure.com/';
    expect(telemetrySettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: cs })).toEqual({ connectionString: cs });
    expect(telemetrySettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: cs, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=abc;Authorization=AAD' }))
      .toEqual({ connectionString: cs, credential: { clientId: 'abc' } });
    expect(telemetrySettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: cs, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' }))
      .toEqual({ connectionString: cs, credential: {} });
  });
});
