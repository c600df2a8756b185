// Face API error catalogue. Codes, statuses and messages are copied from Microsoft's public Face error reference
// (README "Face API surface") so the app server under test sees exactly what the real service would send. Emulator-only conditions (attempt limit, unknown session image) use clearly named codes.

export interface FaceErrorBody { error: { code: string; message: string } }

/** A Face-style error: thrown anywhere in request handling and turned into `{"error":{code,message}}` + `x-ms-error-code`. */
export class FaceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'FaceError';
  }

  body(): FaceErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export const errors = {
  accessDenied: () => new FaceError(401, '401',
    'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.'),
  // Entra ID: a bearer token that is not for this resource (wrong issuer, audience, signature, or expired).
  invalidBearerToken: () => new FaceError(401, '401',
    'Access denied due to an invalid or expired Microsoft Entra ID token, or a token for another resource.'),
  invalidMediaType: () => new FaceError(415, 'BadArgument', 'Invalid Media Type.'),
  badArgument: (message = 'Request body is invalid.') => new FaceError(400, 'BadArgument', message),
  invalidRequestBody: () => new FaceError(400, 'InvalidRequestBody',
    'Incorrect request body provided. Please check the operation schema and try again.'),
  invalidLivenessOperationMode: () => new FaceError(400, 'InvalidLivenessOperationMode',
    "Invalid livenessOperationMode specified. Must be 'Passive'."),
  invalidTokenLifetime: () => new FaceError(400, 'InvalidTokenLifetime',
    'Invalid authTokenTimeToLiveInSeconds specified. Must be within 60 to 86400.'),
  invalidDeviceCorrelationId: () => new FaceError(400, 'InvalidDeviceCorrelationId',
    'A device correlation ID is required in the request body during session create or session start. Must not be null or empty, and be no more than 64 characters.'),
  // The spec declares these bounds but Face's error reference has no row for them: BadArgument, as for other bad values.
  invalidModelVersion: () => new FaceError(400, 'BadArgument', "Invalid livenessModelVersion specified. Must be '2024-11-15'."),
  invalidAttemptsAllowed: () => new FaceError(400, 'BadArgument', 'Invalid numberOfClientAttemptsAllowed specified. Must be within 1 to 3.'),
  missingVerifyImage: () => new FaceError(400, 'BadArgument', 'The verifyImage part is required.'),
  unsupportedMediaTypeJson: () => new FaceError(415, 'BadArgument', 'Invalid Media Type.'),
  imageTooSmall: () => new FaceError(400, 'InvalidImageSize', 'Image size is too small.'),
  imageTooBig: () => new FaceError(400, 'InvalidImageSize', 'Image size is too big.'),
  undecodableImage: () => new FaceError(400, 'InvalidImage', 'Decoding error, image format unsupported.'),
  noFace: () => new FaceError(400, 'InvalidImage', 'No face detected in the image.'),
  multipleFaces: () => new FaceError(400, 'InvalidImage', 'There is more than 1 face in the image.'),
  sessionNotFound: () => new FaceError(404, 'SessionNotFound',
    'Session ID is not found. The session ID is expired or does not exist.'),
  sessionImageNotFound: () => new FaceError(404, 'NotFound',
    'Session image is not found. The session image ID is expired, was deleted with its session, or does not exist.'),
  // Device side (emulator choices; the real v1.2 device contract is not published, see README "Not known publicly").
  invalidSessionToken: () => new FaceError(401, 'Unauthorized',
    'Access denied due to an invalid, expired or revoked session authorization token.'),
  attemptsExhausted: (max: number) => new FaceError(403, 'AttemptLimitExceeded',
    `The session authorization token has already been used for the maximum of ${max} attempts.`),
  notFound: () => new FaceError(404, 'NotFound', 'Resource not found.'),
  methodNotAllowed: () => new FaceError(405, 'MethodNotAllowed', 'The HTTP method is not supported for this resource.'),
  rateLimited: (seconds: number) => new FaceError(429, '429', `Rate limit is exceeded. Try again in ${seconds} seconds.`,
    { 'retry-after': String(seconds) }),
  internal: () => new FaceError(500, 'Unspecified', 'Internal server error'),
  unavailable: (seconds?: number) => new FaceError(503, 'ServiceUnavailable',
    'The service is temporarily unavailable. Please retry later.', seconds ? { 'retry-after': String(seconds) } : {}),
} as const;
