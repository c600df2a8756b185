// Use case: the device starts a liveness check with a verify image.
// The image upload overlaps the Face call (the storage work must not add to the user's wait), and every failure
// undoes what was made: no orphan blob, no orphan Face session, no half-written row. The session row is written
// first (status Creating, with its sweep index row), so a host that dies mid-create leaves the sweep a row to undo.
import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { assertNotLockedOut, limitKeys } from './attempt-limits.js';
import { updateSession, type LivenessDeps } from './deps.js';
import { ConflictError, FaceSessionNotFoundError, IdempotencyError, NotFoundError, ValidationError } from './errors.js';
import type { DeviceCaller } from './ports.js';
import { isVisible, LIVENESS_OPERATION_MODES, type LivenessSession, type VerifyImageInfo } from './session.js';
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
    // The session exists and is returned; a retry with this key sees "in progress" until the claim times out (2 min).
    deps.logger.warn('could not record the idempotency key', { sessionId: started.sessionId, error: (error as Error).name });
  }
  return { ...started, replayed: false };
}

/** The response of the first request with a key, rebuilt from storage and Face (which still holds the token). */
async function replay(deps: LivenessDeps, sessionId: string, caller: DeviceCaller): Promise<StartedSession> {
  const session = await deps.sessions.get(sessionId);
  if (!isVisible(session, caller.subject)) throw new NotFoundError();
  try {
    if (!session.faceSessionId || session.faceSessionDeleted) throw new FaceSessionNotFoundError();
    const state = await deps.face.get(session.faceSessionId);
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
  const { face, images, sessions, clock, logger, settings } = deps;
  // Time-ordered (UUIDv7): the storage keys, and so newest-first listing, follow from the id itself.
  const sessionId = uuidv7({ msecs: clock.now().getTime() });
  const blobName = `verify-images/${sessionId}.${sniffed.extension}`;
  const ttl = fields.authTokenTimeToLiveInSeconds ?? settings.defaultAuthTokenTtlSeconds;
  const enableSessionImage = fields.enableSessionImage ?? false;
  const now = clock.now();
  const expires = new Date(now.getTime() + ttl * 1000);
  // Until Face answers, the row is a note of work in flight: the sweep reaches it by this time at the latest.
  const abandonedAt = new Date(Math.min(expires.getTime(), now.getTime() + settings.abandonedCreateSeconds * 1000));
  const draft: LivenessSession = {
    sessionId,
    createdDateTime: now.toISOString(),
    authTokenTimeToLiveInSeconds: ttl,
    authTokenExpiresDateTime: expires.toISOString(),
    livenessOperationMode: fields.livenessOperationMode ?? settings.defaultOperationMode,
    ...(fields.deviceCorrelationId ? { deviceCorrelationId: fields.deviceCorrelationId } : {}),
    subject: caller.subject,
    enableSessionImage,
    status: 'Creating',
    verifyImage: {},
    storedVerifyImage: { blobName, contentType: sniffed.contentType, sizeInBytes: verifyImage.byteLength, sha256 },
    faceSessionDeleted: false,
    imagesDeleted: false,
    sessionImageBlobs: [],
    deleting: false,
    nextSweepDateTime: abandonedAt.toISOString(),
  };

  // All of it overlaps the Face call (storage must not add to the wait): the row with its sweep index row, then the
  // image it points to. A host that dies after Face answered but before the update below leaves a Face session no one
  // knows (Face deletes it after 48 h; its token never reached a device). Calling Face only after the row lands would
  // narrow that window when storage is slower than Face, at the cost of a storage round trip on every create.
  const storage = sessions.create(draft).then(async (row) => {
    await images.put(blobName, verifyImage, sniffed.contentType, { sha256 });
    return row;
  });
  const faceCall = face.create({
    livenessOperationMode: draft.livenessOperationMode,
    deviceCorrelationId: fields.deviceCorrelationId,
    authTokenTimeToLiveInSeconds: ttl,
    enableSessionImage,
    verifyImage: { bytes: verifyImage, contentType: sniffed.contentType, fileName: `verify.${sniffed.extension}` },
  });
  const [storageResult, faceResult] = await Promise.allSettled([storage, faceCall]);

  const undoSteps: Array<[string, () => Promise<void>]> = [
    ...(faceResult.status === 'fulfilled' ? [['Face session', () => face.delete(faceResult.value.sessionId)] as [string, () => Promise<void>]] : []),
    ['verify image blob', () => images.delete(blobName)],
    ['session rows', () => sessions.delete(draft)],
  ];
  if (faceResult.status === 'rejected' || storageResult.status === 'rejected') {
    await undo(deps, undoSteps);
    throw faceResult.status === 'rejected' ? faceResult.reason : (storageResult as PromiseRejectedResult).reason;
  }

  const created = faceResult.value;
  let session: LivenessSession | undefined;
  try {
    // The one write after Face answers: the row becomes a session (and lists), and its sweep time moves from the
    // abandoned-create deadline to token expiry. If it fails, so does the create, and all is undone.
    session = await updateSession(deps, storageResult.value, (current) => {
      if (current.status !== 'Creating') throw new ConflictError('SessionExists', `Session ${sessionId} is not being created.`);
      return {
        ...current,
        faceSessionId: created.sessionId,
        status: 'NotStarted',
        verifyImage: created.verifyImage,
        ...(created.modelVersion ? { modelVersion: created.modelVersion } : {}),
      };
    });
    if (!session) throw new ConflictError('SessionGone', `Session ${sessionId} was removed while it was being created.`);
  } catch (error) {
    await undo(deps, undoSteps);
    throw error;
  }
  logger.info('liveness session created', { sessionId, ttl, mode: session.livenessOperationMode });
  deps.metrics.sessionCreated({ livenessOperationMode: session.livenessOperationMode });
  return {
    sessionId,
    authToken: created.authToken,
    authTokenExpiresDateTime: session.authTokenExpiresDateTime,
    verifyImage: created.verifyImage,
  };
}

/** Compensates a failed create. What cannot be undone now is left to the sweep, which reaches the Creating row. */
async function undo(deps: LivenessDeps, steps: Array<[string, () => Promise<void>]>): Promise<void> {
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      deps.logger.error(`could not remove ${what} after a failed create; the sweep will`, { error: (error as Error).name });
    }
  }
}
