// Small statistics helpers for the bench.

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // nearest-rank
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export interface LatencySummary { n: number; p50: number; p95: number; min: number; max: number; mean: number }

export function summarize(values: number[]): LatencySummary {
  const n = values.length;
  return {
    n,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    min: round(n ? Math.min(...values) : Number.NaN),
    max: round(n ? Math.max(...values) : Number.NaN),
    mean: round(n ? values.reduce((a, b) => a + b, 0) / n : Number.NaN),
  };
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `count` jobs with `concurrency` workers; job(i, worker). Returns elapsed ms. */
export async function runPool(count: number, concurrency: number, job: (i: number, worker: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async (_, worker) => {
    while (next < count) {
      const i = next++;
      await job(i, worker);
    }
  }));
  return performance.now() - t0;
}
