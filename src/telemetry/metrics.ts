// The app's metrics, as OpenTelemetry instruments on the 'face-liveness-functions' meter. Without an OpenTelemetry
// SDK (local runs, tests) the API hands out no-op instruments, so recording costs nothing and exports nothing.
// The core reports through its LivenessMetrics port (src/core/ports.ts) and never imports OpenTelemetry; the
// composition root hands it this implementation.
import { metrics as otelMetrics, type Meter } from '@opentelemetry/api';
import type { LivenessMetrics, SweepDeletionKind } from '../core/ports.js';

export const METER_NAME = 'face-liveness-functions';

export type { SweepDeletionKind };

/**
 * `liveness.sessions.created`, `liveness.decisions` (attribute outcome), `liveness.time_to_result` (ms),
 * `liveness.sweep.deletions` (attribute kind), and `liveness.face.retries` (attributes operation and status), which
 * the Face adapter reports through its onCall observer.
 */
export interface Metrics extends LivenessMetrics {
  faceRetry(operation: string, status: number | string): void;
}

export function createMetrics(meter: Meter = otelMetrics.getMeter(METER_NAME)): Metrics {
  const created = meter.createCounter('liveness.sessions.created', { description: 'Liveness sessions created.', unit: '{session}' });
  const decisions = meter.createCounter('liveness.decisions', { description: 'Decisions on collected attempts, by outcome.', unit: '{decision}' });
  const timeToResult = meter.createHistogram('liveness.time_to_result', {
    description: "Time from the device's completion request to the collected result.",
    unit: 'ms',
    advice: { explicitBucketBoundaries: [250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000] },
  });
  const faceRetries = meter.createCounter('liveness.face.retries', { description: 'Retried calls to Azure AI Face.', unit: '{retry}' });
  const sweepDeletions = meter.createCounter('liveness.sweep.deletions', { description: 'What the sweep deleted, by kind.', unit: '{item}' });
  return {
    sessionCreated: (attributes = {}) => created.add(1, attributes.livenessOperationMode ? { livenessOperationMode: attributes.livenessOperationMode } : {}),
    decisionRecorded: (outcome) => decisions.add(1, { outcome }),
    timeToResult: (ms, outcome) => { if (Number.isFinite(ms) && ms >= 0) timeToResult.record(ms, outcome ? { outcome } : {}); },
    faceRetry: (operation, status) => faceRetries.add(1, { operation, status: String(status) }),
    sweepDeletions: (kind, count) => { if (count > 0) sweepDeletions.add(count, { kind }); },
  };
}

export const noMetrics: Metrics = {
  sessionCreated: () => undefined,
  decisionRecorded: () => undefined,
  timeToResult: () => undefined,
  faceRetry: () => undefined,
  sweepDeletions: () => undefined,
};

let shared: Metrics | undefined;
/**
 * The process's metrics, created on first use: after src/index.ts has started the SDK (a meter taken from the API
 * before a global MeterProvider is set stays a no-op for good).
 */
export function appMetrics(): Metrics {
  return (shared ??= createMetrics());
}
