// Domain errors to HTTP answers, in one table. Every answer is { error: { code, message } } with the right status;
// outages (Face, storage) say "try again" with Retry-After and keep their details in the log; anything the table does
// not know is a bug: 500, logged with the invocation id as correlation id, never a stack trace to the caller.
import type { HttpResponseInit } from '@azure/functions';
import {
  ConflictError, FaceRejectedError, LinkGoneError, FaceUnavailableError, ForbiddenError, IdempotencyError, NotFoundError,
  PayloadTooLargeError, StorageUnavailableError, TooManyAttemptsError, UnauthorizedError, UnsupportedMediaTypeError,
  ValidationError,
} from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import { AttestationRefusedError } from '../core/attestation.js';
import { ConfigurationError } from '../config/errors.js';
import { errorBody, json } from './http.js';

interface Answer { status: number; code?: string; message?: string; headers?: Record<string, string> }
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;
interface Rule<E extends Error> { type: ErrorClass<E>; answer: (error: E, logger: Logger) => Answer }

const rule = <E extends Error>(type: ErrorClass<E>, answer: Rule<E>['answer'] | number): Rule<E> =>
  ({ type, answer: typeof answer === 'number' ? () => ({ status: answer }) : answer }) as Rule<E>;

/** First match wins; subclasses must come before their base classes. */
const RULES: Rule<any>[] = [
  rule(ValidationError, 400),
  rule(UnauthorizedError, (error, logger) => {
    if (error.cause) logger.warn('bearer token refused', { reason: (error.cause as Error).name ?? 'unknown' });
    return { status: 401, headers: { 'www-authenticate': 'Bearer' } };
  }),
  rule(ForbiddenError, 403),
  // A device attestation refused (forged, replayed, cross-session, wrong app): 401 with the reason as the code.
  rule(AttestationRefusedError, (error, logger) => {
    logger.warn('device attestation refused', { reason: error.code });
    return { status: 401 };
  }),
  rule(NotFoundError, 404),
  rule(LinkGoneError, 410),
  rule(ConflictError, 409),
  rule(IdempotencyError, (error) => ({
    status: error.status,
    headers: error.code === 'RequestInProgress' ? { 'retry-after': '1' } : undefined,
  })),
  rule(PayloadTooLargeError, 413),
  rule(UnsupportedMediaTypeError, 415),
  // Face's own validation codes (InvalidImage, InvalidImageSize, ...) go back to the caller as they are.
  rule(FaceRejectedError, (error) => ({ status: error.status === 413 || error.status === 415 ? error.status : 400 })),
  rule(TooManyAttemptsError, (error) => ({ status: 429, headers: { 'retry-after': String(error.retryAfterSeconds) } })),
  rule(FaceUnavailableError, (error, logger) => {
    logger.warn('Face unavailable', { status: error.status, message: error.message });
    return {
      status: 503, code: 'FaceUnavailable', message: 'The face service is busy or unavailable; try again later.',
      headers: { 'retry-after': String(error.retryAfterSeconds) },
    };
  }),
  rule(StorageUnavailableError, (error, logger) => {
    logger.error('storage unavailable', { message: error.message, cause: (error.cause as Error | undefined)?.name });
    return { status: 503, code: 'StorageUnavailable', message: 'Storage is unavailable; try again later.', headers: { 'retry-after': '5' } };
  }),
  rule(ConfigurationError, (error, logger) => {
    logger.error('configuration error', { message: error.message });
    return { status: 500, code: 'ConfigurationError', message: 'The service is misconfigured.' };
  }),
];

/** The HTTP answer for an error thrown by a handler. */
export function errorResponse(error: unknown, logger: Logger, correlationId: string): HttpResponseInit {
  const match = error instanceof Error ? RULES.find((r) => error instanceof r.type) : undefined;
  if (match) {
    const answer = match.answer(error, logger);
    const e = error as Error & { code?: string };
    return json(answer.status, errorBody(answer.code ?? e.code ?? 'Error', answer.message ?? e.message), answer.headers);
  }
  logger.error('unhandled error', {
    correlationId, error: (error as Error | undefined)?.name ?? typeof error, message: (error as Error | undefined)?.message,
  });
  return json(500, errorBody('InternalError', `An unexpected error occurred (correlation id ${correlationId}).`),
    { 'x-correlation-id': correlationId });
}
