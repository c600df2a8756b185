// The HTTP edge: reading requests (multipart, query, ids) and turning results and domain errors into responses.
// Errors are mapped and logged in exactly one place (toErrorResponse): a JSON body { error: { code, message } },
// the right status, never a stack trace.
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import {
  AppError, ConflictError, FaceRejectedError, FaceUnavailableError, ForbiddenError, IdempotencyError, NotFoundError,
  PayloadTooLargeError, StorageUnavailableError, TooManyAttemptsError, UnauthorizedError, UnsupportedMediaTypeError,
  ValidationError,
} from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import { ConfigurationError } from '../config/config.js';

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'cache-control': 'no-store', ...headers } };
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function toErrorResponse(error: unknown, logger: Logger): HttpResponseInit {
  if (error instanceof ValidationError) return json(400, errorBody(error.code, error.message));
  if (error instanceof UnauthorizedError) {
    if (error.cause) logger.warn('bearer token refused', { reason: (error.cause as Error).name ?? 'unknown' });
    return json(401, errorBody(error.code, error.message), { 'www-authenticate': 'Bearer' });
  }
  if (error instanceof ForbiddenError) return json(403, errorBody(error.code, error.message));
  if (error instanceof TooManyAttemptsError) {
    return json(429, errorBody(error.code, error.message), { 'retry-after': String(error.retryAfterSeconds) });
  }
  if (error instanceof IdempotencyError) {
    return json(error.status, errorBody(error.code, error.message), error.code === 'RequestInProgress' ? { 'retry-after': '1' } : {});
  }
  if (error instanceof NotFoundError) return json(404, errorBody(error.code, error.message));
  if (error instanceof PayloadTooLargeError) return json(413, errorBody(error.code, error.message));
  if (error instanceof UnsupportedMediaTypeError) return json(415, errorBody(error.code, error.message));
  if (error instanceof ConflictError) return json(409, errorBody(error.code, error.message));
  if (error instanceof FaceRejectedError) {
    // Face's own validation codes (InvalidImage, InvalidImageSize, ...) go back to the caller as they are.
    const status = error.status === 413 ? 413 : error.status === 415 ? 415 : 400;
    return json(status, errorBody(error.code, error.message));
  }
  if (error instanceof FaceUnavailableError) {
    logger.warn('Face unavailable', { status: error.status, message: error.message });
    return json(503, errorBody('FaceUnavailable', 'The face service is busy or unavailable; try again later.'),
      { 'retry-after': String(error.retryAfterSeconds) });
  }
  if (error instanceof StorageUnavailableError) {
    logger.error('storage unavailable', { message: error.message, cause: (error.cause as Error | undefined)?.message });
    return json(503, errorBody('StorageUnavailable', 'Storage is unavailable; try again later.'), { 'retry-after': '5' });
  }
  if (error instanceof ConfigurationError) {
    logger.error('configuration error', { message: error.message });
    return json(500, errorBody('ConfigurationError', 'The service is misconfigured.'));
  }
  const name = error instanceof AppError ? error.code : (error as Error | undefined)?.name ?? 'unknown';
  logger.error('unhandled error', { error: name, message: (error as Error | undefined)?.message });
  return json(500, errorBody('InternalError', 'An unexpected error occurred.'));
}

/** Session ids are Face's GUIDs; anything else cannot exist, so it is a 404 without touching storage. */
const SESSION_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export function sessionIdParam(request: HttpRequest): string {
  const id = request.params.sessionId ?? '';
  if (!SESSION_ID.test(id)) throw new NotFoundError();
  return id.toLowerCase();
}

export interface MultipartBody { fields: Record<string, string>; files: Record<string, { bytes: Uint8Array; name: string }> }

/** Multipart bodies larger than this are refused before parsing (a 6 MB image plus form overhead). */
export const MAX_START_BODY_BYTES = 6 * 1024 * 1024 + 64 * 1024;

export async function readMultipart(request: HttpRequest, allowedFields: readonly string[], allowedFiles: readonly string[]): Promise<MultipartBody> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data\s*;\s*boundary=/i.test(contentType)) {
    throw new UnsupportedMediaTypeError('UnsupportedMediaType', 'The request body must be multipart/form-data.');
  }
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_START_BODY_BYTES) {
    throw new PayloadTooLargeError('InvalidImageSize', 'verifyImage is larger than 6 MB.');
  }
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw new ValidationError('InvalidMultipartBody', 'The multipart/form-data body could not be read.');
  }
  const body: MultipartBody = { fields: {}, files: {} };
  for (const [name, value] of form.entries()) {
    const isFile = typeof value !== 'string';
    if (!allowedFields.includes(name) && !allowedFiles.includes(name)) {
      throw new ValidationError('UnknownField', `Unexpected form field '${truncate(name)}'.`);
    }
    if (name in body.fields || name in body.files) {
      throw new ValidationError('DuplicateField', `Form field '${name}' appears more than once.`);
    }
    if (allowedFiles.includes(name)) {
      if (!isFile) throw new ValidationError('BadArgument', `Form field '${name}' must be a file part.`);
      body.files[name] = { bytes: new Uint8Array(await value.arrayBuffer()), name: value.name };
    } else {
      if (isFile) throw new ValidationError('BadArgument', `Form field '${name}' must be a text part.`);
      if (value.length > 1024) throw new ValidationError('BadArgument', `Form field '${name}' is too long.`);
      body.fields[name] = value;
    }
  }
  return body;
}

export function truncate(text: string, max = 64): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
