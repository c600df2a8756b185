// The health cache: one probe per dependency per interval, shared by concurrent callers, and no details in the answer.
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/core/errors.js';
import { HealthCache } from '../../src/shared/health-cache.js';

function recorder() {
  const lines: Array<[string, Record<string, unknown> | undefined]> = [];
  const log = (message: string, fields?: Record<string, unknown>) => { lines.push([message, fields]); };
  return { lines, logger: { info: log, warn: log, error: log } };
}

describe('HealthCache', () => {
  it('concurrent callers share one probe; within the interval no probe runs; after it, one more', async () => {
    let now = 1_000_000;
    const counts = { storage: 0, face: 0 };
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const cache = new HealthCache({
      storage: async () => { counts.storage++; await gate; },
      face: async () => { counts.face++; await gate; },
    }, 30_000, () => now);
    const { logger } = recorder();
    const pending = Array.from({ length: 20 }, () => cache.get(logger));
    release();
    const reports = await Promise.all(pending);
    expect(counts).toEqual({ storage: 1, face: 1 });
    expect(new Set(reports).size).toBe(1);
    now += 29_999;
    await cache.get(logger);
    expect(counts).toEqual({ storage: 1, face: 1 });
    now += 2;
    await cache.get(logger);
    expect(counts).toEqual({ storage: 2, face: 2 });
  });

  it('reports only healthy/unhealthy; the log gets error names and codes, never messages', async () => {
    const xml = '<?xml version="1.0"?><Error><Code>AuthorizationFailure</Code><Message>RequestId:abc AccountKey=secret</Message></Error>';
    const cause = Object.assign(new Error(xml), { name: 'RestError', statusCode: 403, code: 'AuthorizationFailure' });
    const cache = new HealthCache({
      storage: async () => { throw new StorageUnavailableError(xml, { cause }); },
      face: async () => {},
    });
    const { lines, logger } = recorder();
    const report = await cache.get(logger);
    expect(report.status).toBe('unhealthy');
    expect(report.checks.storage).toEqual({ status: 'unhealthy', latencyMs: expect.any(Number) });
    expect(report.checks.face).toEqual({ status: 'healthy', latencyMs: expect.any(Number) });
    expect(lines).toHaveLength(1);
    expect(lines[0]![1]).toMatchObject({ dependency: 'storage', error: 'StorageUnavailableError', cause: 'RestError', statusCode: 403, causeCode: 'AuthorizationFailure' });
    expect(JSON.stringify([report, lines])).not.toMatch(/xml|RequestId|AccountKey|secret/);
  });

  it('a probe that hangs counts as unhealthy after its timeout and does not hold later callers', async () => {
    let now = 0;
    const cache = new HealthCache({ storage: () => new Promise(() => {}), face: async () => {} }, 30_000, () => now, 50);
    const { logger } = recorder();
    const report = await cache.get(logger);
    expect(report.checks.storage.status).toBe('unhealthy');
    now += 31_000;
    expect((await cache.get(logger)).checks.face.status).toBe('healthy');
  });
});
