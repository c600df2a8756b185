// Removes metadata from a verify or reference image before it is hashed, sent to Face or stored, so the hash binds
// exactly the bytes kept and no location, camera, software or free text sits next to a face. Lossless: whole
// segments or chunks are dropped from the file's structure; pixel data is copied byte for byte, never re-encoded.
//
// What stays is what rendering needs:
// - JPEG: SOI, the frame, tables and scans, JFIF (APP0), Adobe (APP14, colour transform) and ICC profiles (APP2
//   ICC_PROFILE). Dropped: EXIF and XMP (APP1, with GPS, maker notes and thumbnails), other APP2 (FlashPix, MPF),
//   APP3 to APP13 (IPTC/Photoshop), APP15, comments (COM) and anything after EOI (appended images, trailers). An EXIF
//   orientation other than 1 is kept as a new, minimal EXIF segment holding that one tag, since phones store rotated
//   pixels and rely on it.
// - PNG: critical chunks and the colour ancillaries (tRNS, gAMA, cHRM, sRGB, iCCP, sBIT, bKGD, pHYs). Dropped:
//   tEXt, zTXt, iTXt, eXIf, tIME and every other chunk.
// - WebP: EXIF and XMP chunks go, and VP8X's flags for them are cleared.
// - GIF: comment, plain-text and application extensions go (except the NETSCAPE2.0 loop block).
// - BMP has no metadata blocks and is returned as it is.
import { ValidationError } from './errors.js';

const unreadable = () => new ValidationError('InvalidImage', 'The image could not be read (its structure is broken).');

function need(condition: boolean): asserts condition {
  if (!condition) throw unreadable();
}

/**
 * The kept parts as one array. When they are adjacent views of one buffer (an image with nothing to strip, the usual
 * case) that is a view of the same memory, not a copy: a create would otherwise copy every image once more.
 */
const concat = (parts: Uint8Array[]) => {
  const first = parts[0];
  if (first && parts.every((p, i) => i === 0 || (p.buffer === first.buffer && p.byteOffset === parts[i - 1]!.byteOffset + parts[i - 1]!.byteLength))) {
    const last = parts[parts.length - 1]!;
    return new Uint8Array(first.buffer, first.byteOffset, last.byteOffset + last.byteLength - first.byteOffset);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.byteLength; }
  return out;
};

export function stripImageMetadata(bytes: Uint8Array, contentType: string): Uint8Array {
  switch (contentType) {
    case 'image/jpeg': return stripJpeg(bytes);
    case 'image/png': return stripPng(bytes);
    case 'image/webp': return stripWebp(bytes);
    case 'image/gif': return stripGif(bytes);
    default: return bytes;
  }
}

// --- JPEG ----------------------------------------------------------------------------------------------------------

const ascii = (bytes: Uint8Array, from: number, text: string) =>
  [...text].every((c, i) => bytes[from + i] === c.charCodeAt(0));

/** The orientation tag (0x0112) of an APP1 EXIF segment's IFD0, if it has one. */
function exifOrientation(segment: Uint8Array): number | undefined {
  // segment: FF E1 len(2) "Exif\0\0" TIFF...
  const tiff = 10;
  if (segment.byteLength < tiff + 8 || !ascii(segment, 4, 'Exif\0\0')) return undefined;
  const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
  const little = segment[tiff] === 0x49;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd + 2 > segment.byteLength) return undefined;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > segment.byteLength) return undefined;
    if (view.getUint16(entry, little) === 0x0112) return view.getUint16(entry + 8, little);
  }
  return undefined;
}

/** A minimal APP1 EXIF segment holding only the orientation. */
function orientationSegment(orientation: number): Uint8Array {
  const body = [
    0x45, 0x78, 0x69, 0x66, 0, 0, // "Exif\0\0"
    0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at 8
    0, 1, // one entry
    0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, // Orientation, SHORT, 1, value
    0, 0, 0, 0, // no next IFD
  ];
  const length = body.length + 2;
  return Uint8Array.from([0xff, 0xe1, length >> 8, length & 0xff, ...body]);
}

function keepJpegSegment(marker: number, segment: Uint8Array): boolean {
  if (marker === 0xe0) return true; // JFIF / JFXX
  if (marker === 0xee) return true; // Adobe: colour transform
  if (marker === 0xe2) return ascii(segment, 4, 'ICC_PROFILE\0');
  if (marker >= 0xe1 && marker <= 0xef) return false; // EXIF, XMP, FlashPix, MPF, IPTC, ...
  if (marker === 0xfe) return false; // COM
  return true; // frame, tables, DRI, SOS, ...
}

function stripJpeg(b: Uint8Array): Uint8Array {
  need(b.byteLength >= 4 && b[0] === 0xff && b[1] === 0xd8);
  const bytes = Buffer.from(b.buffer, b.byteOffset, b.byteLength); // the same memory, for Buffer's indexOf
  const out: Uint8Array[] = [b.subarray(0, 2)];
  let orientation: number | undefined;
  let pos = 2;
  let ended = false;
  while (pos < b.byteLength) {
    need(b[pos] === 0xff && pos + 1 < b.byteLength);
    const marker = b[pos + 1]!;
    if (marker === 0xff) { pos++; continue; } // fill byte
    if (marker === 0xd9) { out.push(b.subarray(pos, pos + 2)); ended = true; break; } // EOI: anything after it goes
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { out.push(b.subarray(pos, pos + 2)); pos += 2; continue; }
    need(pos + 4 <= b.byteLength);
    const length = (b[pos + 2]! << 8) | b[pos + 3]!;
    need(length >= 2 && pos + 2 + length <= b.byteLength);
    const segment = b.subarray(pos, pos + 2 + length);
    if (marker === 0xe1 && orientation === undefined) {
      const o = exifOrientation(segment);
      if (o !== undefined && o >= 2 && o <= 8) orientation = o;
    }
    if (keepJpegSegment(marker, segment)) out.push(segment);
    pos += 2 + length;
    if (marker === 0xda) {
      // Entropy-coded data: runs to the next marker that is not a stuffed 0xFF00 or a restart marker. Found with the
      // native indexOf (memchr), not a loop over every byte: this is most of the image, on every create.
      const start = pos;
      let ff = bytes.indexOf(0xff, pos);
      while (ff >= 0 && ff + 1 < b.byteLength) {
        const next = b[ff + 1]!;
        if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) break;
        ff = bytes.indexOf(0xff, ff + 1);
      }
      pos = ff >= 0 && ff + 1 < b.byteLength ? ff : b.byteLength;
      out.push(b.subarray(start, pos));
    }
  }
  need(ended);
  // The orientation goes right after SOI and JFIF (APP0), where readers look for EXIF.
  if (orientation !== undefined) {
    const app0 = out[1] && out[1][1] === 0xe0 ? 2 : 1;
    out.splice(app0, 0, orientationSegment(orientation));
  }
  return concat(out);
}

// --- PNG -----------------------------------------------------------------------------------------------------------

const PNG_KEEP = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'sBIT', 'bKGD', 'pHYs']);

function stripPng(b: Uint8Array): Uint8Array {
  need(b.byteLength >= 8);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Uint8Array[] = [b.subarray(0, 8)];
  let pos = 8;
  let ended = false;
  while (pos + 12 <= b.byteLength) {
    const length = view.getUint32(pos);
    need(pos + 12 + length <= b.byteLength);
    const type = String.fromCharCode(...b.subarray(pos + 4, pos + 8));
    if (PNG_KEEP.has(type)) out.push(b.subarray(pos, pos + 12 + length));
    pos += 12 + length;
    if (type === 'IEND') { ended = true; break; }
  }
  need(ended);
  return concat(out);
}

// --- WebP ----------------------------------------------------------------------------------------------------------

function stripWebp(b: Uint8Array): Uint8Array {
  need(b.byteLength >= 12 && ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP'));
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Uint8Array[] = [];
  let pos = 12;
  while (pos + 8 <= b.byteLength) {
    const type = String.fromCharCode(...b.subarray(pos, pos + 4));
    const size = view.getUint32(pos + 4, true);
    const end = pos + 8 + size + (size % 2);
    need(pos + 8 + size <= b.byteLength);
    // A view, except for VP8X, whose flags change: a copy of it, never the caller's bytes (on a Buffer, slice()
    // would be a view too).
    const chunk = type === 'VP8X'
      ? Uint8Array.prototype.slice.call(b, pos, Math.min(end, b.byteLength))
      : b.subarray(pos, Math.min(end, b.byteLength));
    if (type === 'VP8X') chunk[8] = chunk[8]! & ~0x0c; // clear the EXIF (0x08) and XMP (0x04) flags
    if (type !== 'EXIF' && type !== 'XMP ') out.push(chunk);
    pos = end;
  }
  const body = concat(out);
  const header = new Uint8Array(12);
  header.set(b.subarray(0, 12));
  new DataView(header.buffer).setUint32(4, body.byteLength + 4, true);
  return concat([header, body]);
}

// --- GIF -----------------------------------------------------------------------------------------------------------

/** The end of a run of data sub-blocks starting at `pos` (after its zero-length terminator). */
function subBlocksEnd(b: Uint8Array, pos: number): number {
  while (true) {
    need(pos < b.byteLength);
    const size = b[pos]!;
    pos += 1 + size;
    if (size === 0) return pos;
  }
}

function stripGif(b: Uint8Array): Uint8Array {
  need(b.byteLength >= 13 && ascii(b, 0, 'GIF'));
  const flags = b[10]!;
  let pos = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);
  need(pos <= b.byteLength);
  const out: Uint8Array[] = [b.subarray(0, pos)];
  while (true) {
    need(pos < b.byteLength);
    const introducer = b[pos]!;
    if (introducer === 0x3b) { out.push(b.subarray(pos, pos + 1)); break; } // trailer
    if (introducer === 0x21) {
      need(pos + 2 < b.byteLength);
      const label = b[pos + 1]!;
      const end = subBlocksEnd(b, pos + 2);
      const loop = label === 0xff && b[pos + 2] === 11 && ascii(b, pos + 3, 'NETSCAPE2.0');
      if (label === 0xf9 || loop) out.push(b.subarray(pos, end)); // graphic control, loop count
      pos = end;
      continue;
    }
    need(introducer === 0x2c && pos + 10 <= b.byteLength);
    const local = b[pos + 9]!;
    let end = pos + 10 + (local & 0x80 ? 3 * 2 ** ((local & 0x07) + 1) : 0);
    end = subBlocksEnd(b, end + 1); // LZW minimum code size, then the image data
    out.push(b.subarray(pos, end));
    pos = end;
  }
  return concat(out);
}
