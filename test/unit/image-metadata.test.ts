// Metadata is removed losslessly from verify and reference images before they are hashed, sent to Face or stored:
// images made with EXIF GPS, XMP, comments and PNG text/eXIf chunks come out without any of it, decode to the very
// same pixels, and the bytes the app stores (read back) are the stripped ones, with the hash that binds them.
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { stripImageMetadata } from '../../src/core/image-metadata.js';
import { enrolReference } from '../../src/core/references.js';
import { fakeWorld, sha256Upper, startFor } from '../fakes/index.js';

const GPS = 'GPSLatitude';
const SECRET_TEXT = 'Secret Street 42, Springfield';

async function photo(): Promise<ReturnType<typeof sharp>> {
  // Noise from a fixed LCG, so the encoders cannot make it tiny (verify images must be at least 1 KB).
  const raw = Buffer.alloc(64 * 64 * 3);
  let x = 12345;
  for (let i = 0; i < raw.length; i++) { x = (x * 1103515245 + 12345) >>> 0; raw[i] = x >>> 24; }
  return sharp(raw, { raw: { width: 64, height: 64, channels: 3 } });
}

/** A JPEG with EXIF (camera, GPS, orientation 6), XMP and a comment. */
async function jpegWithMetadata(): Promise<Buffer> {
  const jpeg = await (await photo()).withMetadata({ orientation: 6 }).withExif({
    IFD0: { Make: 'SpyCam', Model: 'X1', Software: SECRET_TEXT },
    IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '41/1 52/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '87/1 37/1 0/1' },
  }).withXmp(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>${SECRET_TEXT}</rdf:Description></rdf:RDF></x:xmpmeta>`)
    .jpeg({ quality: 90 }).toBuffer();
  const comment = Buffer.from(SECRET_TEXT);
  const com = Buffer.concat([Buffer.from([0xff, 0xfe, 0, comment.length + 2]), comment]);
  return Buffer.concat([jpeg.subarray(0, 2), com, jpeg.subarray(2), Buffer.from('trailing appended data')]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG with tEXt (a GPS position, as in the report), iTXt, tIME and an eXIf chunk. */
async function pngWithMetadata(): Promise<Buffer> {
  const png = await (await photo()).png().toBuffer();
  const exif = await (await photo()).withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '41/1 52/1 0/1' } }).jpeg().toBuffer();
  const tiff = exif.subarray(exif.indexOf('Exif\0\0') + 6, exif.indexOf('Exif\0\0') + 200);
  const ihdrEnd = 8 + 12 + 13;
  return Buffer.concat([
    png.subarray(0, ihdrEnd),
    pngChunk('tEXt', Buffer.from(`${GPS}\0 41.8781 N, 87.6298 W`)),
    pngChunk('iTXt', Buffer.from(`Comment\0\0\0\0\0${SECRET_TEXT}`)),
    pngChunk('tIME', Buffer.from([7, 234, 1, 2, 3, 4, 5])),
    pngChunk('eXIf', tiff),
    png.subarray(ihdrEnd),
  ]);
}

const pixels = async (bytes: Uint8Array) => sharp(bytes).raw().toBuffer();

describe('image metadata', () => {
  it('JPEG: EXIF (GPS, camera), XMP, comments and trailing data go; orientation stays; the pixels are the same', async () => {
    const input = await jpegWithMetadata();
    expect(input.includes(SECRET_TEXT)).toBe(true);
    const out = Buffer.from(stripImageMetadata(input, 'image/jpeg'));
    expect(out.includes(SECRET_TEXT)).toBe(false);
    expect(out.includes('SpyCam')).toBe(false);
    expect(out.includes('http://ns.adobe.com/xap')).toBe(false);
    expect(out.includes('trailing appended data')).toBe(false);
    const meta = await sharp(out).metadata();
    expect(meta.orientation).toBe(6);
    expect(meta.xmp).toBeUndefined();
    expect(meta.comments ?? []).toEqual([]);
    expect(await pixels(out)).toEqual(await pixels(input));
    // Nothing to strip: the same bytes.
    expect(Buffer.from(stripImageMetadata(out, 'image/jpeg'))).toEqual(out);
    // And with no orientation to restore, not even a copy of them (a create would otherwise copy every image once more).
    const plain = await (await photo()).jpeg().toBuffer();
    const same = stripImageMetadata(plain, 'image/jpeg');
    expect(Buffer.from(same)).toEqual(plain);
    expect(same.buffer === plain.buffer && same.byteOffset === plain.byteOffset).toBe(true);
  });

  it('PNG: tEXt, iTXt, tIME and eXIf chunks go; the pixels are the same', async () => {
    const input = await pngWithMetadata();
    const out = Buffer.from(stripImageMetadata(input, 'image/png'));
    for (const marker of ['tEXt', 'iTXt', 'tIME', 'eXIf', GPS, SECRET_TEXT]) expect(out.includes(marker)).toBe(false);
    expect(await pixels(out)).toEqual(await pixels(input));
  });

  it('WebP: EXIF and XMP chunks go and the container stays valid', async () => {
    const input = await (await photo()).withExif({ IFD0: { Software: SECRET_TEXT } }).webp({ lossless: true }).toBuffer();
    expect(input.includes(SECRET_TEXT)).toBe(true);
    const before = Buffer.from(input);
    const out = Buffer.from(stripImageMetadata(input, 'image/webp'));
    expect(input).toEqual(before); // the caller's bytes are not changed (the VP8X flags are cleared in a copy)
    expect(out.includes(SECRET_TEXT)).toBe(false);
    expect(out.readUInt32LE(4)).toBe(out.length - 8);
    expect(await pixels(out)).toEqual(await pixels(input));
  });

  it('a broken structure is a 400 InvalidImage, not a crash', () => {
    expect(() => stripImageMetadata(Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 1, 2]), 'image/jpeg')).toThrow(expect.objectContaining({ code: 'InvalidImage' }));
  });

  it('the verify image is stripped before it is hashed, sent to Face and stored: the stored bytes hold none of it', async () => {
    const w = fakeWorld();
    const input = await pngWithMetadata();
    const s = await startFor(w, 'alice', {}, undefined, input);
    const stored = (await w.images.get(s.session.storedVerifyImage.blobName))!;
    expect(Buffer.from(stored).includes(GPS)).toBe(false);
    expect(Buffer.from(stored).includes('eXIf')).toBe(false);
    expect(s.session.storedVerifyImage.sha256).toBe(sha256Upper(stored));
    expect(w.face.session(s.faceSessionId).verifyImageHash).toBe(sha256Upper(stored));
  });

  it('an enrolled reference is stripped before it is hashed and stored', async () => {
    const w = fakeWorld();
    const key = w.subjects.keyOf('bob');
    const reference = await enrolReference(w.deps, key, await jpegWithMetadata(), 'admin-key');
    const stored = (await w.images.get(`references/${key}/${reference.referenceId}.jpg`))!;
    expect(Buffer.from(stored).includes(SECRET_TEXT)).toBe(false);
    expect(reference.sha256).toBe(sha256Upper(stored));
  });
});
