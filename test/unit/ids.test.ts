// The app's time-ordered ids: UUIDv7 with exactly the clock's timestamp (storage keys and listing order follow from
// it), random unless seeded, and the shape check every id route uses.
import { describe, expect, it } from 'vitest';
import { version as uuidVersion } from 'uuid';
import { isUuid, timeOrderedId } from '../../src/core/ids.js';

const timestampOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('timeOrderedId', () => {
  it('is a version 7 UUID carrying exactly the given time, even when the clock goes back', () => {
    const later = timeOrderedId(Date.UTC(2026, 0, 1, 9, 0, 5));
    const earlier = timeOrderedId(new Date(Date.UTC(2026, 0, 1, 9, 0, 0)));
    expect(uuidVersion(later)).toBe(7);
    expect(timestampOf(later)).toBe(Date.UTC(2026, 0, 1, 9, 0, 5));
    expect(timestampOf(earlier)).toBe(Date.UTC(2026, 0, 1, 9, 0, 0));
    expect(earlier < later).toBe(true);
  });

  it('is random unless seeded, and the same for the same seed', () => {
    const at = Date.UTC(2026, 0, 1);
    expect(timeOrderedId(at)).not.toBe(timeOrderedId(at));
    const seed = new Uint8Array(16).fill(7);
    expect(timeOrderedId(at, seed)).toBe(timeOrderedId(at, seed));
    expect(() => timeOrderedId(at, new Uint8Array(4))).toThrow(/at least 10 bytes/);
  });
});

describe('isUuid', () => {
  it.each([
    ['019af9c1-7a3b-7c4d-8e5f-0123456789ab', true], ['019AF9C1-7A3B-7C4D-8E5F-0123456789AB', true],
    ['019af9c17a3b7c4d8e5f0123456789ab', false], ['{019af9c1-7a3b-7c4d-8e5f-0123456789ab}', false],
    ['019af9c1-7a3b-7c4d-8e5f-0123456789ab ', false], ['../019af9c1-7a3b-7c4d-8e5f-0123456789a', false], ['', false],
  ])('%s: %s', (value, expected) => expect(isUuid(value)).toBe(expected));
});
