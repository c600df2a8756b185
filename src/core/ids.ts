// Time-ordered ids (UUIDv7, RFC 9562) for sessions, verifications, events, receipts and checkpoints: the storage
// keys, and so newest-first listing, follow from the id itself. The timestamp is exactly the caller's clock (the fake
// one in tests). `uuidv7` is one small module; the `uuid` package loads twenty, for every version, at cold start.
import { randomBytes } from 'node:crypto';
import { UUID } from 'uuidv7';

/**
 * A UUIDv7 with the timestamp `at`. Its 74 other bits are random, or taken from `seed` (at least 10 bytes) for an id
 * that must come out the same every time (an event whose copies receivers drop by id).
 */
export function timeOrderedId(at: Date | number, seed?: Uint8Array): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  const bytes = seed ?? randomBytes(10);
  if (bytes.length < 10) throw new RangeError('timeOrderedId: the seed must have at least 10 bytes');
  const view = new DataView(bytes.buffer, bytes.byteOffset, 10);
  return UUID.fromFieldsV7(ms, view.getUint16(0) & 0xfff, view.getUint32(2) & 0x3fffffff, view.getUint32(6)).toString();
}

/** A UUID in its hyphenated form (any version, either case): the shape of every id this app mints or takes. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(value);
}
