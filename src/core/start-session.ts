// Use case: the device starts a liveness check with a verify image.
// The image upload overlaps the Face call (the storage work must not add to the user's wait), and every failure
// undoes what was made: no orphan blob, no orphan Face session, no half-written row. A journal entry (create intent)
// is written before anything else and removed last, so that a host that dies mid-create leaves the sweep a note of
// what to undo.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { assertNotLockedOut, limitKeys } from './attempt-limits.js';
import type { LivenessDeps } from './deps.js';
import { ConflictError, FaceSessionNotFoundError, IdempotencyError, NotFoundError, ValidationError } from './errors.js';
import type { CreateIntent, DeviceCaller } from './ports.js';
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

export interface StartSessionRequest {
  caller: DeviceCaller;
  fields: StartSessionFields;
  verifyImage: Uint8Array;
  /** The client's Idempotency-Key header: a retried request returns the same session. */
  idempotencyKey?: string;
}

export async function startSession(deps: LivenessDeps, request: StartSessionRequest): Promise<StartedSession & { replayed: boolean }> {
  const { caller, fields, verifyImage, idempotencyKey } = request;
  const sniffed = await checkVerifyImage(verifyImage);
  const sha256 = createHash('sha256').update(verifyImage).digest('hex').toUpperCase();
  await assertNotLockedOut(deps, limitKeys(caller.subject, fields.deviceCorrelationId));

  if (!idempotencyKey) return { ...(await createFresh(deps, caller, fields, verifyImage, sniffed, sha256)), replayed: false };

  const now = deps.clock.now();
  const requestHash = createHash('sha256').update(JSON.stringify([fields, sha256])).digest('hex');
  const existing = await deps.idempotency.claim(caller.subject, idempotencyKey, {
    requestHash, state: 'in-progress', createdDateTime: now.toISOString(),
  }, now);
  if (existing) {
    if (existing.requestHash !== requestHash) {
      throw new IdempotencyError('IdempotencyKeyReused', 'This Idempotency-Key was used with a different request.', 422);
    }
    if (existing.state !== 'done' || !existing.sessionId) {
      throw new IdempotencyError('RequestInProgress', 'A request with this Idempotency-Key is still being processed.', 409);
    }
    return { ...(await replay(deps, existing.sessionId, caller)), replayed: true };
  }
  let started: StartedSession;
  try {
    started = await createFresh(deps, caller, fields, verifyImage, sniffed, sha256);
  } catch (error) {
    await deps.idempotency.release(caller.subject, idempotencyKey).catch(() => undefined);
    throw error;
  }
  try {
    await deps.idempotency.complete(caller.subject, idempotencyKey, started.sessionId);
  } catch (error) {
    // The session exists and is returned; a retry with this key will see "in progress" until the key expires.
    deps.logger.warn('could not record the idempotency key', { sessionId: started.sessionId, error: (error as Error).name });
  }
  return { ...started, replayed: false };
}

/** The response of the first request with a key, rebuilt from storage and Face (which still holds the token). */
async function replay(deps: LivenessDeps, sessionId: string, caller: DeviceCaller): Promise<StartedSession> {
  const session = await deps.sessions.get(sessionId);
  if (!session || session.deleting || session.subject !== caller.subject) throw new NotFoundError();
  try {
    const state = await deps.face.get(sessionId);
    if (!state.authToken) throw new FaceSessionNotFoundError();
    return {
      sessionId,
      authToken: state.authToken,
      authTokenExpiresDateTime: session.authTokenExpiresDateTime,
      verifyImage: session.verifyImage,
    };
  } catch (error) {
    if (error instanceof FaceSessionNotFoundError) {
      throw new ConflictError('SessionNoLongerActive', 'The session created for this Idempotency-Key has ended; start a new one.');
    }
    throw error;
  }
}

async function createFresh(
  deps: LivenessDeps,
  caller: DeviceCaller,
  fields: StartSessionFields,
  verifyImage: Uint8Array,
  sniffed: { contentType: string; extension: string },
  sha256: string,
): Promise<StartedSession> {
  const { face, images, sessions, journal, clock, logger, settings } = deps;
  const intentId = randomUUID();
  // Named by our own id: the Face session id is not known until Face answers, and the upload runs meanwhile.
  const blobName = `verify-images/${intentId}.${sniffed.extension}`;
  const ttl = fields.authTokenTimeToLiveInSeconds ?? settings.defaultAuthTokenTtlSeconds;
  const enableSessionImage = fields.enableSessionImage ?? false;
  const intent: CreateIntent = { intentId, blobName, createdDateTime: clock.now().toISOString() };
  await journal.open(intent);

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
    await undo(deps, intent, [['verify image blob', () => images.delete(blobName)]]);
    throw error;
  }
  const faceSessionId = created.sessionId;
  const undoAll: Array<[string, () => Promise<void>]> = [
    ['Face session', () => face.delete(faceSessionId)],
    ['verify image blob', () => images.delete(blobName)],
  ];

  const uploadError = await upload;
  if (uploadError) {
    await undo(deps, intent, undoAll);
    throw uploadError;
  }

  const now = clock.now();
  const session: LivenessSession = {
    sessionId: faceSessionId,
    createdDateTime: now.toISOString(),
    authTokenTimeToLiveInSeconds: ttl,
    authTokenExpiresDateTime: new Date(now.getTime() + ttl * 1000).toISOString(),
    livenessOperationMode: fields.livenessOperationMode ?? settings.defaultOperationMode,
    ...(fields.deviceCorrelationId ? { deviceCorrelationId: fields.deviceCorrelationId } : {}),
    subject: caller.subject,
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
    // The journal learns the Face session id before the session row exists, so a journal entry without one can
    // never belong to a recorded session (the sweep relies on that).
    await journal.attachFaceSession(intent, faceSessionId);
    await sessions.create(session);
  } catch (error) {
    // sessions.create removes its own rows on failure, but that removal can fail too: repeat it as an undo step, so
    // the journal entry stays open (for the sweep) unless every row is really gone.
    await undo(deps, intent, [['session rows', () => sessions.delete(session)], ...undoAll]);
    throw error;
  }
  await journal.close(intent).catch((error: unknown) => {
    logger.warn('could not close the create journal entry; the sweep will', { sessionId: faceSessionId, error: (error as Error).name });
  });
  logger.info('liveness session created', { sessionId: session.sessionId, ttl, mode: session.livenessOperationMode });
  deps.metrics.sessionCreated({ livenessOperationMode: session.livenessOperationMode });
  return {
    sessionId: faceSessionId,
    authToken: created.authToken,
    authTokenExpiresDateTime: session.authTokenExpiresDateTime,
    verifyImage: created.verifyImage,
  };
}

/**
 * Compensates a failed create. The journal entry is closed only when every step worked; otherwise it stays for
 * the sweep, which retries the same steps later.
 */
async function undo(deps: LivenessDeps, intent: CreateIntent, steps: Array<[string, () => Promise<void>]>): Promise<void> {
  let clean = true;
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      clean = false;
      deps.logger.error(`could not remove ${what} after a failed create; the sweep will`, { error: (error as Error).name });
    }
  }
  if (clean) await deps.journal.close(intent).catch(() => undefined);
}
