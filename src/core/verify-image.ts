// Checks a verify image before anything is stored or sent to Face: its size and its real format, sniffed from the
// bytes (the file name and the declared content type are never trusted).
import { PayloadTooLargeError, ValidationError } from './errors.js';
import { stripImageMetadata } from './image-metadata.js';

/** file-type, loaded with the first image rather than when the functions are indexed (cold start). */
async function sniff(bytes: Uint8Array) {
  const { fileTypeFromBuffer } = await import('file-type');
  return fileTypeFromBuffer(bytes);
}

export const MIN_VERIFY_IMAGE_BYTES = 1024;
export const MAX_VERIFY_IMAGE_BYTES = 6 * 1024 * 1024;

/** Formats Face accepts for a verify image, by the MIME type file-type reports. */
const ACCEPTED = new Map([
  ['image/jpeg', 'jpg'],
  ['image/png', 'png'],
  ['image/bmp', 'bmp'],
  ['image/gif', 'gif'],
  ['image/webp', 'webp'],
]);

export interface SniffedImage { contentType: string; extension: string }

export async function checkVerifyImage(bytes: Uint8Array): Promise<SniffedImage> {
  if (bytes.byteLength < MIN_VERIFY_IMAGE_BYTES) {
    throw new ValidationError('InvalidImageSize', `verifyImage is ${bytes.byteLength} bytes; it must be at least 1 KB.`);
  }
  if (bytes.byteLength > MAX_VERIFY_IMAGE_BYTES) {
    throw new PayloadTooLargeError('InvalidImageSize', 'verifyImage is larger than 6 MB.');
  }
  const type = await sniff(bytes);
  const extension = type && ACCEPTED.get(type.mime);
  if (!type || !extension) {
    throw new ValidationError('InvalidImageFormat', 'verifyImage must be a JPEG, PNG, BMP, GIF or WebP image.');
  }
  return { contentType: type.mime, extension };
}

/**
 * The type of a session image as its bytes say (Face keeps JPEG; an emulator keeps whatever the device sent), so it
 * is served as what it is: one of the image types above, else application/octet-stream.
 */
export async function sessionImageType(bytes: Uint8Array): Promise<string> {
  const type = await sniff(bytes);
  return type && ACCEPTED.has(type.mime) ? type.mime : 'application/octet-stream';
}

/**
 * Checks an image a device or the back office brought (as checkVerifyImage) and removes its metadata losslessly
 * (image-metadata.ts). What it returns is what is hashed, sent to Face and stored.
 */
export async function acceptedImage(bytes: Uint8Array): Promise<{ bytes: Uint8Array; sniffed: SniffedImage }> {
  const sniffed = await checkVerifyImage(bytes);
  const kept = stripImageMetadata(bytes, sniffed.contentType);
  if (kept.byteLength < MIN_VERIFY_IMAGE_BYTES) {
    throw new ValidationError('InvalidImageSize', `Without its metadata the image is ${kept.byteLength} bytes; it must be at least 1 KB.`);
  }
  return { bytes: kept, sniffed };
}
