// Schemas for what Face answers (v1.2 and v1.3-preview.1 liveness-with-verify). Every Face response body is parsed here before any of
// it is used: an answer that does not fit (a boolean matchConfidence, an attemptId with "../", an unknown decision)
// is a Face failure (FaceAnswerInvalidError), never data. Ids that end up in blob names, URLs or table keys are
// bounded to plain characters, so nothing Face says can steer a write outside the session's own names.
import { z } from 'zod';
import { FaceAnswerInvalidError } from '../../core/errors.js';

/** Face session ids are GUIDs. */
const guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);
/** Opaque ids (session images): letters, digits, '-' and '_' only: no dots, slashes or spaces. */
const opaqueId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);
/** Face's session token (JWT-like): printable ASCII without spaces, bounded. */
const authToken = z.string().regex(/^[\x21-\x7e]{1,8192}$/);
const modelVersion = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
const hex = (min: number, max: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${min},${max}}$`));
const digest = z.string().regex(/^[A-Za-z0-9+/=_-]{1,256}$/);
const coordinate = z.number().int().min(-100_000).max(100_000);
const extent = z.number().int().min(0).max(100_000);
const faceRectangle = z.object({ top: coordinate, left: coordinate, width: extent, height: extent });
const quality = z.enum(['low', 'medium', 'high']);
const errorCode = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
const errorMessage = z.string().max(1024);
/** An IPv4 or IPv6 address as Face reports it: digits, hex, dots and colons only, bounded. */
const ipAddress = z.string().regex(/^[0-9A-Fa-f.:]{2,45}$/);
const targets = z.object({ color: z.object({ faceRectangle }).optional() });

/** Case-insensitive member of a known set (the spec's own example writes "realFace"); the text is kept as sent. */
const oneOf = (values: readonly string[]) => z.string().max(32).refine((v) => values.includes(v.toLowerCase()), { message: `must be one of ${values.join(', ')}` });

/** v1.2 OperationState, plus the earlier session states (NotStarted/Started/ResultAvailable). */
export const SESSION_STATUSES = ['NotStarted', 'Started', 'Running', 'ResultAvailable', 'Succeeded', 'Failed', 'Canceled'] as const;
export const ATTEMPT_STATUSES = ['NotStarted', 'Running', 'Succeeded', 'Failed', 'Canceled'] as const;
export const LIVENESS_DECISIONS = ['uncertain', 'realface', 'spoofface'] as const;

const verifyReference = z.object({
  referenceType: z.string().max(32).optional(),
  faceRectangle: faceRectangle.optional(),
  qualityForRecognition: quality.optional(),
});

export const faceAttemptSchema = z.object({
  attemptId: z.number().int().positive().max(1_000_000),
  attemptStatus: z.enum(ATTEMPT_STATUSES),
  result: z.object({
    livenessDecision: oneOf(LIVENESS_DECISIONS).optional(),
    targets: targets.optional(),
    digest: digest.optional(),
    sessionImageId: opaqueId.optional(),
    verifyResult: z.object({ matchConfidence: z.number().min(0).max(1), isIdentical: z.boolean() }).optional(),
    verifyImageHash: hex(32, 128).optional(),
  }).optional(),
  error: z.object({ code: errorCode, message: errorMessage, targets: targets.optional() }).optional(),
  // v1.3-preview.1: the client address Face saw, and its abuse-monitoring verdict naming other flagged sessions.
  clientInformation: z.array(z.object({ ip: ipAddress })).max(10).optional(),
  abuseMonitoringResult: z.object({
    isAbuseDetected: z.boolean(),
    otherFlaggedSessions: z.array(z.object({ attemptId: z.number().int().positive().max(1_000_000), sessionId: guid, sessionImageId: opaqueId.optional() })).max(100),
  }).optional(),
});

export const createdSessionSchema = z.object({
  sessionId: guid,
  authToken,
  modelVersion: modelVersion.optional(),
  results: z.object({ verifyReferences: z.array(verifyReference).max(10).optional() }).optional(),
});

/** v1.3-preview.1 `Settings` (the answer of GET and PATCH /settings). */
export const settingsSchema = z.object({ livenessAbuseMonitoring: z.object({ enabled: z.boolean() }) });

export const sessionStateSchema = z.object({
  sessionId: guid,
  isAbuseMonitoringEnabled: z.boolean().optional(),
  authToken: authToken.optional(),
  status: z.enum(SESSION_STATUSES),
  modelVersion: modelVersion.optional(),
  results: z.object({
    attempts: z.array(faceAttemptSchema).max(100).optional(),
    verifyReferences: z.array(verifyReference).max(10).optional(),
  }).optional(),
});

/** Face's error body; only used when it fits (its code and message may go back to the caller). */
export const errorBodySchema = z.object({ error: z.object({ code: errorCode, message: errorMessage.optional() }) });

/**
 * Parses a Face answer or throws FaceAnswerInvalidError naming the operation and the first offending field path
 * (never the value: it could be anything, including a token).
 */
export function parseFaceAnswer<T>(schema: z.ZodType<T>, body: unknown, operation: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.map(String).join('.').slice(0, 80) : 'body';
  throw new FaceAnswerInvalidError(`Face ${operation} answered with an invalid ${where}.`);
}
