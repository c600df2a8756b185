// multipart/form-data parsing with busboy, tolerant the way the real service appears to be (README "Face API surface"): part
// names are matched case-insensitively (the SDK sends `verifyImage`, old docs/tutorials `VerifyImage`), quoted or
// unquoted disposition names both work, and scalar parts may come as text/plain or application/json with raw values.
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { FaceError, errors } from './errors.js';

export interface FilePart { name: string; filename?: string; contentType: string; bytes: Buffer; truncated: boolean; size: number }

export interface MultipartBody {
  /** Scalar parts, keyed by lower-cased part name (first occurrence wins). */
  fields: Map<string, string>;
  /** File parts, keyed by lower-cased part name. */
  files: Map<string, FilePart>;
}

export interface MultipartLimits {
  /** Bytes kept per file part; larger files are flagged `truncated` (the rest is drained, not buffered). */
  fileSize: number;
  /** Names (lower-case) that are always treated as files, even when sent without filename as text. */
  fileParts: string[];
}

export function isMultipart(req: IncomingMessage): boolean {
  return /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');
}

export function parseMultipart(req: IncomingMessage, limits: MultipartLimits): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: { fileSize: limits.fileSize, files: 4, fields: 50, parts: 60, fieldSize: 64 * 1024 },
      });
    } catch {
      // e.g. multipart without boundary
      req.resume();
      reject(errors.badArgument());
      return;
    }
    const fields = new Map<string, string>();
    const files = new Map<string, FilePart>();
    let failed: FaceError | undefined;

    bb.on('field', (name, value, info) => {
      const key = name.toLowerCase();
      if (limits.fileParts.includes(key)) {
        // A file part sent as a plain text field: keep the bytes (latin1 round-trips) but note the missing filename.
        const bytes = Buffer.from(value, 'latin1');
        if (!files.has(key)) files.set(key, { name, contentType: info.mimeType, bytes, truncated: info.valueTruncated, size: bytes.length });
        return;
      }
      if (info.valueTruncated) failed ??= errors.badArgument();
      if (!fields.has(key)) fields.set(key, value);
    });
    bb.on('file', (name, stream, info) => {
      const key = name.toLowerCase();
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      stream.on('data', (chunk: Buffer) => { size += chunk.length; chunks.push(chunk); });
      stream.on('limit', () => { truncated = true; });
      stream.on('end', () => {
        if (files.has(key)) return;
        const part: FilePart = { name, contentType: info.mimeType, bytes: Buffer.concat(chunks, size), truncated: truncated || stream.truncated === true, size };
        if (info.filename !== undefined) part.filename = info.filename;
        files.set(key, part);
      });
    });
    let settled = false;
    const settle = (error?: FaceError): void => {
      if (settled) return;
      settled = true;
      if (error) reject(error); else resolve({ fields, files });
    };
    // Malformed bodies (bad boundary, truncated stream): drain what is left so the response can still be written.
    bb.on('error', () => { req.unpipe(bb); req.resume(); settle(failed ?? errors.badArgument()); });
    bb.on('close', () => settle(failed));
    req.pipe(bb);
  });
}
