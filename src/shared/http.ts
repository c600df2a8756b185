// The HTTP edge: reading requests (multipart, ids) and writing JSON answers. Errors become answers in one place:
// errorResponse in ./errors.ts.
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type busboy from 'busboy';
import { NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../core/errors.js';
import { MAX_VERIFY_IMAGE_BYTES } from '../core/verify-image.js';

/** Every answer is private to its caller and must not be sniffed as anything but what it says it is. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { ...SECURITY_HEADERS, ...headers } };
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Session ids are UUIDs minted by this app; anything else cannot exist, so it is a 404 without touching storage. */
const SESSION_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export function sessionIdParam(request: HttpRequest): string {
  const id = request.params.sessionId ?? '';
  if (!SESSION_ID.test(id)) throw new NotFoundError();
  return id.toLowerCase();
}

export interface MultipartBody { fields: Record<string, string>; files: Record<string, { bytes: Uint8Array; name: string }> }

/** Multipart bodies larger than this are refused before parsing (a 6 MB image plus form overhead). */
export const MAX_START_BODY_BYTES = 6 * 1024 * 1024 + 64 * 1024;

/**
 * Streams a multipart body through busboy with limits, so a huge or endless body is refused as it arrives instead of
 * being buffered whole, and each file is held once. Rules: only the named parts, each at most once, files as file
 * parts (with a file name) and text as text parts.
 */
export interface MultipartOptions {
  /**
   * Sees each text field as soon as it is parsed; a throw refuses the body at once (nothing more of it is kept), so
   * a rule on a field (consent) holds before the rest of the body is used.
   */
  onField?: (name: string, value: string) => void;
}

export async function readMultipart(
  request: HttpRequest, allowedFields: readonly string[], allowedFiles: readonly string[], options: MultipartOptions = {},
): Promise<MultipartBody> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data\s*;\s*boundary=/i.test(contentType)) {
    throw new UnsupportedMediaTypeError('UnsupportedMediaType', 'The request body must be multipart/form-data.');
  }
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_START_BODY_BYTES) {
    throw new PayloadTooLargeError('InvalidImageSize', 'verifyImage is larger than 6 MB.');
  }
  const invalid = () => new ValidationError('InvalidMultipartBody', 'The multipart/form-data body could not be read.');
  // busboy is loaded with the first multipart body, not when the functions are indexed (cold start).
  const { default: createParser } = await import('busboy');
  let parser: busboy.Busboy;
  try {
    parser = createParser({
      headers: { 'content-type': contentType },
      limits: { fileSize: MAX_VERIFY_IMAGE_BYTES, files: allowedFiles.length + 1, fields: allowedFields.length + 1, parts: allowedFields.length + allowedFiles.length + 1, fieldSize: 1024, fieldNameSize: 200, headerPairs: 20 },
    });
  } catch {
    throw invalid();
  }
  if (!request.body) throw invalid();

  return new Promise<MultipartBody>((resolve, reject) => {
    const body: MultipartBody = { fields: {}, files: {} };
    const seen = new Set<string>();
    const source = Readable.fromWeb(request.body as unknown as import('node:stream/web').ReadableStream<Uint8Array>);
    let failure: Error | undefined;
    let settled = false;
    // The first problem answers at once and stops reading: the rest of an oversize or invalid body is never read.
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error) {
        source.unpipe(parser);
        source.destroy();
        reject(error);
      } else {
        resolve(body);
      }
    };
    const fail = (error: Error) => { failure ??= error; settle(failure); };
    const tooLarge = () => new PayloadTooLargeError('InvalidImageSize', 'verifyImage is larger than 6 MB.');
    const check = (name: string | undefined, asFile: boolean): name is string => {
      if (typeof name !== 'string') fail(new ValidationError('BadArgument', 'A form part has no name.'));
      else if (!allowedFields.includes(name) && !allowedFiles.includes(name)) fail(new ValidationError('UnknownField', `Unexpected form field '${truncate(name)}'.`));
      else if (seen.has(name)) fail(new ValidationError('DuplicateField', `Form field '${truncate(name)}' appears more than once.`));
      else if (allowedFiles.includes(name) && !asFile) fail(new ValidationError('BadArgument', `Form field '${name}' must be a file part.`));
      else if (allowedFields.includes(name) && asFile) fail(new ValidationError('BadArgument', `Form field '${name}' must be a text part.`));
      if (typeof name === 'string') seen.add(name);
      return failure === undefined;
    };
    // Handlers must never throw (an exception here would escape the request): every problem goes through fail().
    parser.on('file', (name: string | undefined, stream, info) => {
      stream.on('error', () => fail(invalid())); // a truncated part: without a listener it would crash the process
      if (!check(name, true)) { stream.resume(); return; }
      // One buffer, filled as the part arrives: the image is held once (a chunk list plus its concatenation would hold
      // it twice at the end). Its size: the declared body's, which the part cannot exceed, else the largest allowed.
      // Not always the largest: V8 counts every such buffer toward its heap limits, and 6 MB per request made the
      // garbage collector run far more often than a 100 KB image needs.
      const into = Buffer.allocUnsafe(Number.isFinite(declared) && declared >= 0 ? Math.min(MAX_VERIFY_IMAGE_BYTES, declared) : MAX_VERIFY_IMAGE_BYTES);
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        // Past the largest allowed size busboy emits 'limit' next; past the declared body, the counter below failed.
        if (failure || size + chunk.length > into.length) return;
        chunk.copy(into, size);
        size += chunk.length;
      });
      stream.on('limit', () => fail(tooLarge()));
      stream.on('end', () => { if (!failure) body.files[name] = { bytes: into.subarray(0, size), name: info.filename ?? '' }; });
    });
    parser.on('field', (name: string | undefined, value, info) => {
      if (!check(name, false)) return;
      if (info.valueTruncated) { fail(new ValidationError('BadArgument', `Form field '${name}' is too long.`)); return; }
      body.fields[name] = value;
      try {
        options.onField?.(name, value);
      } catch (error) {
        fail(error as Error);
        for (const file of Object.keys(body.files)) delete body.files[file]; // drop what was read before it
      }
    });
    const tooMany = () => fail(new ValidationError('BadArgument', 'The form has too many parts.'));
    parser.on('partsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', () => fail(invalid()));
    parser.on('close', () => settle(failure));
    // The whole body is bounded too (without a Content-Length, or with a false one): counted as it arrives, before the
    // parser sees each chunk. A body longer than its Content-Length is refused, never read as a cut-off image.
    let received = 0;
    source.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_START_BODY_BYTES) fail(tooLarge());
      else if (Number.isFinite(declared) && received > declared) fail(invalid());
    });
    source.on('error', () => fail(invalid()));
    source.pipe(parser);
  });
}

export function truncate(text: string, max = 64): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** JSON bodies the back office sends are small; anything larger is refused before parsing. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;

/** Reads a small JSON body (application/json). */
export async function readJson(request: HttpRequest, maxBytes = MAX_JSON_BODY_BYTES): Promise<unknown> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new UnsupportedMediaTypeError('UnsupportedMediaType', 'The request body must be application/json.');
  }
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw new PayloadTooLargeError('BodyTooLarge', 'The JSON body is too large.');
  const text = await request.text();
  if (text.length > maxBytes) throw new PayloadTooLargeError('BodyTooLarge', 'The JSON body is too large.');
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('InvalidJson', 'The request body is not valid JSON.');
  }
}
