// Use case: the device starts a liveness check with a verify image.
// The image upload overlaps the Face call (the storage work must not add to the user's wait), and every failure
// undoes what was made: no orphan blob, no orphan Face session, no half-written row.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { LivenessDeps } from './deps.js';
import { ValidationError } from './errors.js';
import { nextSweepTime } from './retention.js';
import { LIVENESS_OPERATION_MODES, type LivenessSession, type VerifyImageInfo } from './session.js';
import { checkVerifyImage } from './verify-image.js';

/** The text fields of the start request, as they arrive in the multipart form. */
export const startSessionFieldsSchema = z.object({
  deviceCorrelationId: z.string()
    .min(1, 'deviceCorrelationId must not be empty')
    .max(64, 'deviceCorrelationId must be at most 64 characters')
    .regex(/^[\x21-\x7e]+$/, 'deviceCorrelationId must be printable ASCII without spaces')
    .optional(),
  livenessOperationMode: z.string()
    .transform((v) => LIVENESS_OPERATION_MODES.find((m) => m.toLowerCase() === v.trim().toLowerCase()) ?? v)
    .pipe(z.enum(LIVENESS_OPERATION_MODES, { message: "livenessOperationMode must be 'Passive' or 'PassiveActive'" }))
    .optional(),
  authTokenTimeToLiveInSeconds: z.string()
    .regex(/^\d{1,6}$/, 'authTokenTimeToLiveInSeconds must be a whole number of seconds from 60 to 86400')
    .transform(Number)
    .pipe(z.number().min(60, 'authTokenTimeToLiveInSeconds must be at least 60').max(86_400, 'authTokenTimeToLiveInSeconds must be at most 86400'))
    .optional(),
  enableSessionImage: z.enum(['true', 'false'], { message: "enableSessionImage must be 'true' or 'false'" })
    .transform((v) => v === 'true')
    .optional(),
});

export type StartSessionFields = z.infer<typeof startSessionFieldsSchema>;

export interface StartedSession {
  sessionId: string;
  authToken: string;
  authTokenExpiresDateTime: string;
  verifyImage: VerifyImageInfo;
}

export function parseStartSessionFields(fields: Record<string, string>): StartSessionFields {
  const parsed = startSessionFieldsSchema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    const code = {
      deviceCorrelationId: 'InvalidDeviceCorrelationId',
      livenessOperationMode: 'InvalidLivenessOperationMode',
      authTokenTimeToLiveInSeconds: 'InvalidTokenLifetime',
      enableSessionImage: 'InvalidEnableSessionImage',
    }[field] ?? 'BadArgument';
    throw new ValidationError(code, issue.message);
  }
  return parsed.data;
}

export async function startSession(deps: LivenessDeps, fields: StartSessionFields, verifyImage: Uint8Array): Promise<StartedSession> {
  const { face, images, sessions, clock, logger, settings } = deps;
  const sniffed = await checkVerifyImage(verifyImage);
  const sha256 = createHash('sha256').update(verifyImage).digest('hex').toUpperCase();
  // Named by our own id: the Face session id is not known until Face answers, and the upload runs meanwhile.
  const blobName = `verify-images/${randomUUID()}.${sniffed.extension}`;
  const ttl = fields.authTokenTimeToLiveInSeconds ?? settings.defaultAuthTokenTtlSeconds;
  const enableSessionImage = fields.enableSessionImage ?? false;

  const upload = images.put(blobName, verifyImage, sniffed.contentType, { sha256 })
    .then(() => undefined, (error: unknown) => error ?? new Error('upload failed'));

  let created;
  try {
    created = await face.create({
      livenessOperationMode: fields.livenessOperationMode ?? settings.defaultOperationMode,
      deviceCorrelationId: fields.deviceCorrelationId,
      authTokenTimeToLiveInSeconds: ttl,
      enableSessionImage,
      verifyImage: { bytes: verifyImage, contentType: sniffed.contentType, fileName: `verify.${sniffed.extension}` },
    });
  } catch (error) {
    await upload;
    await undo(deps, 'verify image blob', () => images.delete(blobName));
    throw error;
  }

  const uploadError = await upload;
  if (uploadError) {
    await undo(deps, 'Face session', () => face.delete(created.sessionId));
    await undo(deps, 'verify image blob', () => images.delete(blobName));
    throw uploadError;
  }

  const now = clock.now();
  const session: LivenessSession = {
    sessionId: created.sessionId,
    createdDateTime: now.toISOString(),
    authTokenTimeToLiveInSeconds: ttl,
    authTokenExpiresDateTime: new Date(now.getTime() + ttl * 1000).toISOString(),
    livenessOperationMode: fields.livenessOperationMode ?? settings.defaultOperationMode,
    ...(fields.deviceCorrelationId ? { deviceCorrelationId: fields.deviceCorrelationId } : {}),
    enableSessionImage,
    ...(created.modelVersion ? { modelVersion: created.modelVersion } : {}),
    status: 'NotStarted',
    verifyImage: created.verifyImage,
    storedVerifyImage: { blobName, contentType: sniffed.contentType, sizeInBytes: verifyImage.byteLength, sha256 },
    faceSessionDeleted: false,
    imagesDeleted: false,
    sessionImageBlobs: [],
    deleting: false,
  };
  session.nextSweepDateTime = nextSweepTime(session, settings)!.toISOString();

  try {
    await sessions.create(session);
  } catch (error) {
    await undo(deps, 'Face session', () => face.delete(created.sessionId));
    await undo(deps, 'verify image blob', () => images.delete(blobName));
    throw error;
  }
  logger.info('liveness session created', { sessionId: session.sessionId, ttl, mode: session.livenessOperationMode });
  return {
    sessionId: created.sessionId,
    authToken: created.authToken,
    authTokenExpiresDateTime: session.authTokenExpiresDateTime,
    verifyImage: created.verifyImage,
  };
}

/** Runs a compensating step; a failure is logged (the sweep and Face's 48 h expiry are the backstops). */
async function undo(deps: LivenessDeps, what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    deps.logger.error(`could not remove ${what} after a failed create`, { error: (error as Error).message });
  }
}
