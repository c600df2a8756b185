// A short list of domain errors. Adapters translate SDK/HTTP errors into these; the HTTP edge maps them to status
// codes in one place (src/shared/http.ts). Only errors a caller handles differently get a class of their own.

export class AppError extends Error {
  constructor(readonly code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller sent something we cannot accept (400). */
export class ValidationError extends AppError {}

/** The body is too large for the endpoint (413). */
export class PayloadTooLargeError extends AppError {}

/** The media type is not one the endpoint reads (415). */
export class UnsupportedMediaTypeError extends AppError {}

/** The resource does not exist (404): SessionNotFound unless another code says what is missing (ImageNotFound). */
export class NotFoundError extends AppError {
  constructor(message = 'The liveness session does not exist.', options?: ErrorOptions & { code?: 'SessionNotFound' | 'SubjectNotFound' | 'ReferenceNotFound' | 'ImageNotFound' | 'DeliveryNotFound' | 'VerificationNotFound' }) {
    super(options?.code ?? 'SessionNotFound', message, options);
  }
}

/** A concurrent writer changed the record first (ETag mismatch) or the state forbids the change (409). */
export class ConflictError extends AppError {}

/** Face refused the request for a reason the caller can fix (e.g. InvalidImage); carries Face's code and status. */
export class FaceRejectedError extends AppError {
  constructor(code: string, message: string, readonly status: number, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Face is rate limiting, failing or unreachable; the caller may retry after `retryAfterSeconds` (503). */
export class FaceUnavailableError extends AppError {
  constructor(message: string, readonly retryAfterSeconds: number, readonly status?: number, options?: ErrorOptions) {
    super('FaceUnavailable', message, options);
  }
}

/** A Face session that Face no longer knows (deleted or past its 48 h lifetime). */
export class FaceSessionNotFoundError extends AppError {
  constructor(message = 'Face does not know the session (expired or deleted).', options?: ErrorOptions) {
    super('FaceSessionNotFound', message, options);
  }
}

/** Storage is failing or unreachable (503). */
export class StorageUnavailableError extends AppError {
  constructor(message: string, options?: ErrorOptions) {
    super('StorageUnavailable', message, options);
  }
}

/** The caller presented no valid credentials for this endpoint (401). */
export class UnauthorizedError extends AppError {
  constructor(message = 'A valid bearer token is required.', options?: ErrorOptions) {
    super('Unauthorized', message, options);
  }
}

/** The caller is authenticated but may not do this (403). */
export class ForbiddenError extends AppError {
  constructor(message = 'The caller may not use this endpoint.', options?: ErrorOptions) {
    super('Forbidden', message, options);
  }
}

/**
 * Too many failed checks (the subject or its device is locked out), or a per-subject quota is full, until
 * `retryAfterSeconds` have passed (429).
 */
export class TooManyAttemptsError extends AppError {
  constructor(message: string, readonly retryAfterSeconds: number, code: 'TooManyAttempts' | 'QuotaExceeded' = 'TooManyAttempts', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** An Idempotency-Key was reused with a different request, or its first request is still running (409/422). */
export class IdempotencyError extends AppError {
  constructor(code: 'IdempotencyKeyReused' | 'RequestInProgress', message: string, readonly status: 409 | 422, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Face answered something that does not fit its API (a malformed id, a confidence that is not a number): treated as
 * Face failing (503, retried like any other Face failure), never as data. */
export class FaceAnswerInvalidError extends FaceUnavailableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 5, undefined, options);
  }
}

/** A verification link that can no longer be used: already used, expired, or unknown / replaced / cancelled (410). */
export class LinkGoneError extends AppError {
  constructor(code: 'LinkUsed' | 'LinkExpired' | 'LinkInvalid', message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
