// Bench images, all made from the repo's own face fixture (read relative to the repo root).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { REPO_ROOT } from './procs.js';

export const fixture = (name: string): Buffer => readFileSync(path.join(REPO_ROOT, 'test/fixtures/images', name));

/** A real face photo re-encoded as a high-quality JPEG whose size is as close as possible to `target` bytes. */
export async function faceJpegNear(target: number): Promise<{ bytes: Buffer; quality: number }> {
  const source = fixture('face-grace-hopper.jpg');
  let best: { bytes: Buffer; quality: number } | undefined;
  for (let quality = 85; quality <= 100; quality++) {
    const bytes = await sharp(source).jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
    if (!best || Math.abs(bytes.length - target) < Math.abs(best.bytes.length - target)) best = { bytes, quality };
  }
  return best!;
}

/**
 * The face JPEG padded with COM segments of random bytes up to exactly `size` bytes: a valid JPEG that decodes to
 * the same 512×512 face (decoders skip comments), so the emulator's detection stays cheap and honest.
 */
export function padJpeg(jpeg: Buffer, size: number): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const segments: Buffer[] = [];
  let room = size - jpeg.length;
  while (room > 0) {
    // a segment is FF FE + 2-byte length (which counts itself) + data; at least 4 bytes, at most 65,537
    let total = Math.min(room, 65_537);
    if (room - total > 0 && room - total < 4) total -= 4;
    if (total < 4) throw new Error('cannot pad by fewer than 4 bytes');
    const header = Buffer.from([0xff, 0xfe, ((total - 2) >> 8) & 0xff, (total - 2) & 0xff]);
    segments.push(header, randomBytes(total - 4));
    room -= total;
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}
