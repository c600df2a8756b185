// Which storage failures are outages (503 + Retry-After) and which are not, and the refusal of a write without an
// ETag: the storage adapters' error rules (src/adapters/storage/clients.ts).
import { describe, expect, it } from 'vitest';
import { guardStorage, isStorageOutage, requireEtag } from '../../src/adapters/storage/clients.js';
import { StorageUnavailableError } from '../../src/core/errors.js';
import { errorResponse } from '../../src/shared/errors.js';

/** What the SDKs throw: a RestError, with a status when the service answered. */
const restError = (statusCode?: number, code?: string) =>
  Object.assign(new Error(`storage said ${statusCode ?? code}`), { name: 'RestError', ...(statusCode ? { statusCode } : {}), ...(code ? { code } : {}) });

describe('guardStorage', () => {
  it.each([500, 502, 503, 504, 408])('turns a %i into StorageUnavailableError (503 + Retry-After)', async (status) => {
    const error = restError(status);
    await expect(guardStorage('Reading', () => Promise.reject(error))).rejects.toMatchObject({ constructor: StorageUnavailableError, cause: error });
  });

  it('turns a request that got no answer (connection refused or reset, a timeout, an abort) into StorageUnavailableError', async () => {
    for (const error of [restError(undefined, 'ECONNREFUSED'), restError(undefined, 'REQUEST_SEND_ERROR'), Object.assign(new Error('aborted'), { name: 'AbortError' }), Object.assign(new Error('t'), { name: 'TimeoutError' })]) {
      expect(isStorageOutage(error)).toBe(true);
      await expect(guardStorage('Reading', () => Promise.reject(error))).rejects.toBeInstanceOf(StorageUnavailableError);
    }
  });

  it.each([400, 403, 404, 409, 412, 413])('passes a %i through unchanged: not an outage, so a 500 (a bug), never a 503', async (status) => {
    const error = restError(status);
    expect(isStorageOutage(error)).toBe(false);
    await expect(guardStorage('Writing', () => Promise.reject(error))).rejects.toBe(error);
  });

  it('passes a programming error through unchanged', async () => {
    const bug = new TypeError('x is undefined');
    await expect(guardStorage('Reading', () => Promise.reject(bug))).rejects.toBe(bug);
  });

  it('what the edge answers: 503 with Retry-After for an outage, 500 for a 413 from storage', async () => {
    const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const outage = await guardStorage('Reading', () => Promise.reject(restError(503))).catch((e: unknown) => e);
    const tooLarge = await guardStorage('Writing', () => Promise.reject(restError(413))).catch((e: unknown) => e);
    const a = errorResponse(outage, logger, 'inv-1');
    const b = errorResponse(tooLarge, logger, 'inv-2');
    expect(a.status).toBe(503);
    expect(a.headers).toMatchObject({ 'retry-after': expect.any(String) });
    expect(b.status).toBe(500);
  });
});

describe('requireEtag', () => {
  it('hands over the ETag a record was read with, and refuses a write without one (never an unconditional "*")', () => {
    expect(requireEtag({ etag: 'W/"1"' }, 'The record')).toBe('W/"1"');
    expect(() => requireEtag({}, 'The record')).toThrow(/without an ETag/);
    expect(() => requireEtag({ etag: '' }, 'The record')).toThrow(/without an ETag/);
  });
});
