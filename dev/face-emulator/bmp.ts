// Minimal BMP decoder. The Face service accepts BMP verify images, but libvips (and therefore sharp) has no BMP
// loader, so the emulator decodes the common uncompressed variants itself and hands raw RGB pixels to sharp:
// 1/4/8-bit palettized, 16-bit (5-5-5 or BITFIELDS), 24-bit, 32-bit (BI_RGB or BI_BITFIELDS), bottom-up or top-down.
// RLE-compressed and embedded JPEG/PNG BMPs are rejected as undecodable (rare in practice; honest rather than guessed).

export interface RawRgbImage { width: number; height: number; channels: 3; data: Buffer }

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const MAX_PIXELS = 50_000_000;

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 26 && bytes[0] === 0x42 && bytes[1] === 0x4d; // "BM"
}

function maskShift(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

/** Returns undefined when the file is not a BMP variant this decoder supports or is truncated. */
export function decodeBmp(input: Uint8Array): RawRgbImage | undefined {
  if (!isBmp(input)) return undefined;
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  try {
    const pixelOffset = buf.readUInt32LE(10);
    const headerSize = buf.readUInt32LE(14);
    let width: number; let height: number; let bpp: number; let compression = BI_RGB; let paletteEntrySize = 4;
    let colorsUsed = 0;
    if (headerSize === 12) { // BITMAPCOREHEADER (OS/2)
      width = buf.readUInt16LE(18); height = buf.readInt16LE(20); bpp = buf.readUInt16LE(24); paletteEntrySize = 3;
    } else if (headerSize >= 40) {
      width = buf.readInt32LE(18); height = buf.readInt32LE(22); bpp = buf.readUInt16LE(28);
      compression = buf.readUInt32LE(30); colorsUsed = buf.readUInt32LE(46);
    } else return undefined;
    const topDown = height < 0;
    height = Math.abs(height);
    if (width <= 0 || height <= 0 || width * height > MAX_PIXELS) return undefined;

    let masks: [number, number, number] | undefined;
    if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
      if (bpp !== 16 && bpp !== 32) return undefined;
      // Masks follow a 40-byte header; V4/V5 headers contain them at the same offset.
      masks = [buf.readUInt32LE(54), buf.readUInt32LE(58), buf.readUInt32LE(62)];
    } else if (compression !== BI_RGB) return undefined;

    let palette: number[][] = [];
    if (bpp <= 8) {
      const count = colorsUsed || 1 << bpp;
      const start = 14 + headerSize;
      palette = Array.from({ length: count }, (_, i) => {
        const o = start + i * paletteEntrySize;
        return [buf[o + 2] ?? 0, buf[o + 1] ?? 0, buf[o] ?? 0];
      });
    } else if (bpp === 16 && !masks) masks = [0x7c00, 0x03e0, 0x001f];
    else if (bpp === 32 && !masks) masks = [0x00ff0000, 0x0000ff00, 0x000000ff];
    if (![1, 4, 8, 16, 24, 32].includes(bpp)) return undefined;

    const rowSize = Math.floor((bpp * width + 31) / 32) * 4;
    if (pixelOffset + rowSize * height > buf.length) return undefined; // truncated
    const out = Buffer.alloc(width * height * 3);
    const fields = masks?.map(maskShift);
    for (let y = 0; y < height; y++) {
      const row = pixelOffset + (topDown ? y : height - 1 - y) * rowSize;
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 3;
        if (bpp === 24) {
          out[o] = buf[row + x * 3 + 2]!; out[o + 1] = buf[row + x * 3 + 1]!; out[o + 2] = buf[row + x * 3]!;
        } else if (bpp === 32 || bpp === 16) {
          const v = bpp === 32 ? buf.readUInt32LE(row + x * 4) : buf.readUInt16LE(row + x * 2);
          fields!.forEach((f, c) => {
            const mask = masks![c]!;
            out[o + c] = f.max ? Math.round((((v & mask) >>> f.shift) * 255) / f.max) : 0;
          });
        } else {
          const bitPos = x * bpp;
          const byte = buf[row + (bitPos >> 3)]!;
          const index = (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1);
          const color = palette[index] ?? [0, 0, 0];
          out[o] = color[0]!; out[o + 1] = color[1]!; out[o + 2] = color[2]!;
        }
      }
    }
    return { width, height, channels: 3, data: out };
  } catch {
    return undefined; // RangeError on truncated headers
  }
}

/** Encodes raw RGB as a 24-bit bottom-up BMP (used by tests to produce BMP inputs). */
export function encodeBmp24(image: { width: number; height: number; data: Uint8Array }): Buffer {
  const rowSize = Math.floor((24 * image.width + 31) / 32) * 4;
  const size = 54 + rowSize * image.height;
  const buf = Buffer.alloc(size);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(size, 2); buf.writeUInt32LE(54, 10); buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(image.width, 18); buf.writeInt32LE(image.height, 22);
  buf.writeUInt16LE(1, 26); buf.writeUInt16LE(24, 28); buf.writeUInt32LE(rowSize * image.height, 34);
  for (let y = 0; y < image.height; y++) {
    const row = 54 + (image.height - 1 - y) * rowSize;
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 3;
      buf[row + x * 3] = image.data[i + 2]!; buf[row + x * 3 + 1] = image.data[i + 1]!; buf[row + x * 3 + 2] = image.data[i]!;
    }
  }
  return buf;
}
