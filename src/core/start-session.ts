// Use case: the device starts a liveness check, against the subject's enrolled reference or (when none is enrolled
// and the setting allows it) a verify image it brings. Consent is checked before any image is looked at.
// The image upload overlaps the Face call (the storage work must not add to the user's wait), and every failure
// undoes what was made: no orphan blob, no orphan Face session, no half-written row. The session row is written
// first (status Creating, with its sweep index row), so a host that dies mid-create leaves the sweep a row to undo.
import { createHash, randomBytes } from 'node:crypto';
import { deleteSession } from './delete-session.js';
import { tokenHash } from './verification.js';
import { timeOrderedId } from './ids.js';
import { attestationRequired, type DevicePlatform } from './attestation.js';
import { assertNotLockedOut, limitKeys, releaseQuota } from './attempt-limits.js';
import { createOncePerKey } from './idempotency.js';
import { quotaExceeded } from './quota.js';
import { updateSession, type LivenessDeps } from './deps.js';
import { appendEvidence, consentEntry, withEvidence } from './evidence.js';
import {
  ConflictError, FaceSessionNotFoundError, NotFoundError, ValidationError,
} from './errors.js';
import type { DeviceCaller, LinkCaller, QuotaRecord, RecordSnapshot } from './ports.js';
import { claimForSession, linkSessionFacts, releaseClaim, settleClaim } from './verifications.js';
import { visibleTo, type LivenessOperationMode, type LivenessSession, type VerifyImageInfo } from './session.js';
import { assertConsent } from './consent.js';
import { userCorrelationIdFor } from './correlation-ids.js';
import type { SubjectRecord } from './subject.js';
import { acceptedImage, type SniffedImage } from './verify-image.js';

/** The text fields of the start request, parsed at the HTTP edge (src/contract/requests.ts). */
export interface StartSessionFields {
  deviceCorrelationId?: string;
  livenessOperationMode?: LivenessOperationMode;
  authTokenTimeToLiveInSeconds?: number;
  enableSessionImage?: boolean;
  /** The version of the consent text the person agreed to (required while consent is on). */
  consentVersion?: string;
  /** The device's platform: decides whether the token is held back for device attestation. */
  platform?: DevicePlatform;
}

export interface StartedSession {
  sessionId: string;
  authToken: string;
  authTokenExpiresDateTime: string;
  verifyImage: VerifyImageInfo;
  /**
   * FACE_QUICK_LINK: the session runs on Face's hosted page (its id) and calls back with this secret; the edge builds
   * the URLs and leaves the token out of the answer.
   */
  quickLink?: { id: string; callbackSecret: string };
  /** The token must go only to an attested device (the edge leaves it out of the answer). */
  attestationRequired?: boolean;
  platform?: DevicePlatform;
}

/** What a session will use: the service's policy, made stricter where the device asked. */
export interface SessionPolicy { livenessOperationMode: LivenessOperationMode; authTokenTimeToLiveInSeconds: number; enableSessionImage: boolean }

/**
 * The server owns the security policy. A device may ask for something at least as strict (PassiveActive over
 * Passive, a shorter token, a session image kept); anything weaker is refused with the limit named, never silently
 * changed, so a client bug shows up instead of quietly weakening checks.
 */
export function sessionPolicy(fields: StartSessionFields, settings: LivenessDeps['settings']): SessionPolicy {
  const mode = fields.livenessOperationMode ?? settings.operationMode;
  if (settings.operationMode === 'PassiveActive' && mode !== 'PassiveActive') {
    throw new ValidationError('LivenessOperationModeNotAllowed', "livenessOperationMode must be 'PassiveActive': this service does not allow Passive.");
  }
  const ttl = fields.authTokenTimeToLiveInSeconds ?? settings.authTokenTtlSeconds;
  if (ttl > settings.authTokenTtlSeconds) {
    throw new ValidationError('TokenLifetimeTooLong', `authTokenTimeToLiveInSeconds must be at most ${settings.authTokenTtlSeconds} for this service.`);
  }
  const enableSessionImage = fields.enableSessionImage ?? settings.enableSessionImage;
  if (settings.enableSessionImage && !enableSessionImage) {
    throw new ValidationError('SessionImageRequired', 'enableSessionImage cannot be false: this service keeps the session image as capture evidence.');
  }
  return { livenessOperationMode: mode, authTokenTimeToLiveInSeconds: ttl, enableSessionImage };
}

export interface StartSessionRequest {
  caller: DeviceCaller;
  fields: StartSessionFields;
  /** The device's own verify image; absent when the subject's enrolled reference is to be used. */
  verifyImage?: Uint8Array;
  /** The client's Idempotency-Key header: a retried request returns the same session. */
  idempotencyKey?: string;
}

/** The image a session verifies against, with what is known about it. */
interface VerifyAgainst {
  bytes: Uint8Array;
  sniffed: SniffedImage;
  sha256: string;
  reference?: { referenceId: string; sha256: string };
}

const sha256Upper = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').toUpperCase();

/**
 * An enrolled reference wins and cannot be swapped: a device image next to it is refused. Without one, the device
 * brings the image, if the service allows it.
 */
async function verifyImageFor(
  deps: LivenessDeps, record: SubjectRecord | undefined, deviceImage: Uint8Array | undefined, cleaned?: ReturnType<typeof acceptedImage>,
): Promise<VerifyAgainst> {
  const reference = record?.reference;
  if (reference) {
    if (deviceImage) {
      throw new ValidationError('ReferenceEnrolled', 'A reference is enrolled for this user: start the check without a verifyImage.');
    }
    const bytes = await deps.images.get(reference.blobName);
    // The record names the blob before it is written, and a replaced one is deleted: either way, not usable now.
    if (!bytes || sha256Upper(bytes) !== reference.sha256) {
      throw new ConflictError('ReferenceUnavailable', 'The enrolled reference is being replaced; try again.');
    }
    const extension = reference.blobName.split('.').pop() ?? 'jpg';
    return { bytes, sniffed: { contentType: reference.contentType, extension }, sha256: reference.sha256, reference: { referenceId: reference.referenceId, sha256: reference.sha256 } };
  }
  if (!deps.settings.privacy.deviceReferenceAllowed) {
    throw deviceImage
      ? new ValidationError('DeviceReferenceNotAllowed', 'This service verifies against enrolled references only: start the check without a verifyImage.')
      : new ValidationError('ReferenceRequired', 'No reference is enrolled for this user, and this service does not accept a verify image from the device.');
  }
  if (!deviceImage) throw new ValidationError('MissingVerifyImage', "The form must include a 'verifyImage' file part.");
  // Metadata (EXIF, GPS, XMP, text) goes before the image is hashed, sent to Face or stored.
  const { bytes, sniffed } = await (cleaned ?? acceptedImage(deviceImage));
  return { bytes, sniffed, sha256: sha256Upper(bytes) };
}

export async function startSession(deps: LivenessDeps, request: StartSessionRequest): Promise<StartedSession & { replayed: boolean }> {
  const { caller, fields, idempotencyKey } = request;
  assertConsent(deps.settings.privacy, fields.consentVersion);
  const policy = sessionPolicy(fields, deps.settings);
  // A verification link's caller verifies against the verification's reference, never an image of its own.
  if (caller.verificationId !== undefined && request.verifyImage) {
    throw new ValidationError('VerifyImageNotAllowed', 'A check started from a verification link verifies against the reference of the verification: start it without a verifyImage.');
  }
  const subjectKey = caller.subject !== undefined ? deps.subjects.keyOf(caller.subject) : caller.subjectKey;
  // Independent reads, side by side: every storage round trip before the Face call adds to the person's wait. The
  // quota's record is read here too, so its reservation (a conditional write before Face) needs no read of its own.
  const reads = Promise.all([
    deps.subjects.get(subjectKey),
    deps.quota.peek?.(subjectKey),
    assertNotLockedOut(deps, limitKeys(subjectKey, fields.deviceCorrelationId)),
  ]);
  // The device's image is checked and cleaned while the reads are under way (CPU while waiting on storage). Whether it
  // may be used at all is decided after them; if a read refuses the check first, the result is simply dropped.
  const cleaned = request.verifyImage ? acceptedImage(request.verifyImage) : undefined;
  cleaned?.catch(() => undefined); // awaited below unless a read fails first
  const [record, quota] = await reads;
  if (record?.erasure) throw new ConflictError('SubjectErasing', 'This user is being erased; try again later.');
  const image = caller.verificationId === undefined ? await verifyImageFor(deps, record, request.verifyImage, cleaned) : undefined;
  // Face v1.3 abuse monitoring correlates per-user ids: each subject gets its own (the adapter says whether it speaks it).
  const userCorrelationId = deps.face.correlatesUsers ? await userCorrelationIdFor(deps, subjectKey, record) : undefined;
  const subject: Subject = {
    ...caller, subjectKey, seenBefore: record?.lastSeenDateTime ?? record?.createdDateTime, ...(userCorrelationId ? { userCorrelationId } : {}),
    ...(quota ? { quota } : {}),
  };
  const fresh = caller.verificationId === undefined
    ? () => createWithinQuota(deps, subject, fields, policy, image!)
    : () => createForLink(deps, caller, subject, record, fields, policy);

  if (!idempotencyKey) return { ...(await fresh()), replayed: false };

  return createOncePerKey(deps, {
    subjectKey, key: idempotencyKey, now: deps.clock.now(),
    requestHash: createHash('sha256').update(JSON.stringify([fields, image?.sha256 ?? caller.verificationId])).digest('hex'),
    create: fresh, idOf: (started) => started.sessionId, replay: (sessionId) => replay(deps, sessionId, caller),
  });
}

/** The response of the first request with a key, rebuilt from storage and Face (which still holds the token). */
async function replay(deps: LivenessDeps, sessionId: string, caller: DeviceCaller): Promise<StartedSession> {
  const session = await deps.sessions.get(sessionId);
  if (!visibleTo(session, caller)) throw new NotFoundError();
  try {
    if (!session.faceSessionId || session.faceSessionDeleted) throw new FaceSessionNotFoundError();
    const state = await deps.face.get(session.faceSessionId);
    if (!state.authToken) throw new FaceSessionNotFoundError();
    return {
      sessionId,
      authToken: state.authToken,
      authTokenExpiresDateTime: session.authTokenExpiresDateTime,
      verifyImage: session.verifyImage,
      ...(session.attestationRequired ? { attestationRequired: true, platform: session.platform } : {}),
    };
  } catch (error) {
    if (error instanceof FaceSessionNotFoundError) {
      throw new ConflictError('SessionNoLongerActive', 'The session created for this Idempotency-Key has ended; start a new one.');
    }
    throw error;
  }
}

/**
 * A session from a verification link: the verification is claimed first (a conditional write, so it gets at most one
 * session), then the session is made against the verification's reference (the relying party's image, or the
 * person's enrolled one); a failed create gives the claim back.
 */
async function createForLink(
  deps: LivenessDeps, caller: LinkCaller, subject: Subject, record: SubjectRecord | undefined, fields: StartSessionFields, policy: SessionPolicy,
): Promise<StartedSession> {
  const sessionId = timeOrderedId(deps.clock.now().getTime());
  const claim = await claimForSession(deps, caller, sessionId);
  let started: StartedSession;
  try {
    let image: VerifyAgainst;
    if (claim.image) {
      const { bytes, contentType, extension, sha256 } = claim.image;
      image = { bytes, sniffed: { contentType, extension }, sha256 };
    } else {
      if (!record?.reference) throw new ValidationError('ReferenceRequired', 'No reference is enrolled for this user any more; ask for a new verification.');
      image = await verifyImageFor(deps, record, undefined);
    }
    started = await createWithinQuota(deps, { ...subject, sessionId, link: linkSessionFacts(claim.verification) }, fields, policy, image);
  } catch (error) {
    await releaseClaim(deps, caller.verificationId, sessionId);
    throw error;
  }
  if (deps.settings.verifications.quickLink) {
    try {
      started = { ...started, quickLink: await quickLinkFor(deps, caller, started) };
    } catch (error) {
      // No hosted page, no check: the session goes and the verification may start again.
      await deleteSession(deps, sessionId).catch(() => undefined);
      await releaseClaim(deps, caller.verificationId, sessionId);
      throw error;
    }
  }
  await settleClaim(deps, claim.verification);
  return started;
}

/** Face's hosted page for the session, and the secret its callback must carry (stored as a hash). */
async function quickLinkFor(deps: LivenessDeps, caller: LinkCaller, started: StartedSession): Promise<{ id: string; callbackSecret: string }> {
  if (!deps.quickLinks) throw new Error('FACE_QUICK_LINK is on but no Quick Link client is configured');
  const id = await deps.quickLinks.create(started.authToken);
  const callbackSecret = randomBytes(32).toString('base64url');
  await deps.verifications.mutate(caller.verificationId, (current) => ({ ...current, quickLinkSecretHash: tokenHash(callbackSecret) }));
  return { id, callbackSecret };
}

/**
 * Who a session is for. `seenBefore`: the subject's last interaction before this one (its row in the activity index
 * moves from there). `quota`: the quota record as read with the other reads, where the reservation starts.
 * `sessionId` and `link`: a session from a verification link (its id minted when the verification was claimed).
 */
type Subject = DeviceCaller & {
  subjectKey: string; seenBefore?: string; userCorrelationId?: string; quota?: RecordSnapshot<QuotaRecord>;
  sessionId?: string; link?: Pick<LivenessSession, 'origin' | 'verificationId' | 'clientReferenceId'>;
};

/** A fresh session, if the subject's quota has room: the slot is taken first and given back if the create fails. */
async function createWithinQuota(
  deps: LivenessDeps,
  caller: Subject,
  fields: StartSessionFields,
  policy: SessionPolicy,
  image: VerifyAgainst,
): Promise<StartedSession> {
  const now = deps.clock.now();
  // Time-ordered (UUIDv7): the storage keys, and so newest-first listing, follow from the id itself.
  const sessionId = caller.sessionId ?? timeOrderedId(now.getTime());
  const expires = new Date(now.getTime() + policy.authTokenTimeToLiveInSeconds * 1000);
  const refusal = await deps.quota.reserve(caller.subjectKey, sessionId, expires, now, caller.quota);
  if (refusal) {
    throw quotaExceeded(refusal);
  }
  try {
    return await createFresh(deps, caller, fields, policy, { sessionId, now, expires }, image);
  } catch (error) {
    await releaseQuota(deps, { subjectKey: caller.subjectKey, sessionId });
    throw error;
  }
}

async function createFresh(
  deps: LivenessDeps,
  caller: Subject,
  fields: StartSessionFields,
  policy: SessionPolicy,
  { sessionId, now, expires }: { sessionId: string; now: Date; expires: Date },
  image: VerifyAgainst,
): Promise<StartedSession> {
  const { face, images, sessions, logger, settings } = deps;
  const { bytes: verifyImage, sniffed, sha256 } = image;
  const blobName = `verify-images/${sessionId}.${sniffed.extension}`;
  const ttl = policy.authTokenTimeToLiveInSeconds;
  const enableSessionImage = policy.enableSessionImage;
  // Until Face answers, the row is a note of work in flight: the sweep reaches it by this time at the latest.
  const abandonedAt = new Date(Math.min(expires.getTime(), now.getTime() + settings.abandonedCreateSeconds * 1000));
  const row: LivenessSession = {
    sessionId,
    createdDateTime: now.toISOString(),
    authTokenTimeToLiveInSeconds: ttl,
    authTokenExpiresDateTime: expires.toISOString(),
    livenessOperationMode: policy.livenessOperationMode,
    ...(fields.deviceCorrelationId ? { deviceCorrelationId: fields.deviceCorrelationId } : {}),
    ...(caller.subject !== undefined ? { subject: caller.subject } : {}),
    subjectKey: caller.subjectKey,
    origin: caller.link ? 'link' : 'device',
    ...(caller.link ?? {}),
    ...(image.reference ? { reference: image.reference } : {}),
    ...(fields.consentVersion ? { consentVersion: fields.consentVersion } : {}),
    ...(fields.platform ? { platform: fields.platform } : {}),
    ...(attestationRequired(fields.platform, settings.attestationPolicy) ? { attestationRequired: true } : {}),
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
  // The consent given, as evidence: in the row's evidence outbox, appended with the session's next record (its
  // decision, its deletion, or the sweep at expiry), so it costs the create no write of its own.
  const draft = fields.consentVersion ? withEvidence(row, consentEntry(row)) : row;

  // All of it overlaps the Face call (storage must not add to the wait): the row with its sweep index row, then the
  // image it points to. A host that dies after Face answered but before the update below leaves a Face session no one
  // knows (Face deletes it after 48 h; its token never reached a device). Calling Face only after the row lands would
  // narrow that window when storage is slower than Face, at the cost of a storage round trip on every create.
  // The subject's visit (and the consent it gave) is written alongside; the session row's create writes the
  // subject-sessions index row before the session row, so erasure can always reach the session. The consent's
  // evidence record travels in the row (above).
  const consent = fields.consentVersion ? { version: fields.consentVersion, givenDateTime: now.toISOString() } : undefined;
  const storage = Promise.all([
    sessions.create(draft).then(async (created) => {
      await images.put(blobName, verifyImage, sniffed.contentType, { sha256 });
      return created;
    }),
    deps.subjects.recordVisit(caller.subjectKey, now, consent),
    // The activity index the sweep reads to erase subjects idle past the BIPA limit.
    deps.activity.touch(caller.subjectKey, now, caller.seenBefore),
  ]).then(([created]) => created);
  const faceCall = face.create({
    livenessOperationMode: draft.livenessOperationMode,
    deviceCorrelationId: fields.deviceCorrelationId,
    authTokenTimeToLiveInSeconds: ttl,
    enableSessionImage,
    verifyImage: { bytes: verifyImage, contentType: sniffed.contentType, fileName: `verify.${sniffed.extension}` },
    ...(caller.userCorrelationId ? { userCorrelationId: caller.userCorrelationId } : {}),
    numberOfClientAttemptsAllowed: settings.clientAttempts,
  });
  const [storageResult, faceResult] = await Promise.allSettled([storage, faceCall]);

  const undoSteps: Array<[string, () => Promise<void>]> = [
    ...(faceResult.status === 'fulfilled' ? [['Face session', () => face.delete(faceResult.value.sessionId)] as [string, () => Promise<void>]] : []),
    // The consent was given even if the create fails: its record is appended before the row holding it goes.
    ...(fields.consentVersion ? [['consent evidence', async () => { await appendEvidence(deps, consentEntry(row)); }] as [string, () => Promise<void>]] : []),
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
    ...(session.attestationRequired ? { attestationRequired: true, platform: session.platform } : {}),
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
