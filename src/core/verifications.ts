// Use cases of verifications: a relying party's back end creates a check for one of its users and hands the person
// a single-use link; the page opened from the link exchanges it for a short-lived access token, with which it starts
// the one session of the verification through the ordinary device routes. The relying party reads the result (or
// hears it by webhook: a verification's session events carry its verificationId and clientReferenceId), can cancel,
// and the back office lists verifications and can issue a new link. Tokens are stored only as SHA-256 hashes, and
// every change is a conditional write of the verification record (VerificationStore.mutate): of two concurrent
// exchanges of one link exactly one wins.
import { createHash } from 'node:crypto';
import { createOncePerKey } from './idempotency.js';
import { quotaExceeded } from './quota.js';
import { isUuid, timeOrderedId } from './ids.js';
import { assertNotLockedOut, limitKeys } from './attempt-limits.js';
import { privacyNotice } from './consent.js';
import { deleteSession } from './delete-session.js';
import { appendEvidence, verificationLinkEntry } from './evidence.js';
import { requestCompletion } from './complete-session.js';
import type { LivenessDeps } from './deps.js';
import {
  ConflictError, LinkGoneError, NotFoundError, UnauthorizedError, ValidationError,
} from './errors.js';
import type { LinkCaller, Page } from './ports.js';
import type { PrivacyBody, VerificationExpiredEvent } from '../contract/types.js';
import type { LivenessSession, StoredImage } from './session.js';
import {
  allowedReturnUrl, newToken, tokenHash, tokenMatches, tokenVerificationId, verificationFacts,
  type Verification, type VerificationFacts,
} from './verification.js';
import { acceptedImage } from './verify-image.js';

export interface CreateVerificationFields {
  externalUserId: string;
  returnUrl?: string;
  clientReferenceId?: string;
  locale?: string;
}

export interface CreateVerificationRequest {
  owner: string;
  fields: CreateVerificationFields;
  referenceImage?: Uint8Array;
  idempotencyKey?: string;
}

/** A link as the core hands it out: the token (the edge builds the URL) and when it stops working. */
export interface IssuedLink { verificationId: string; linkToken: string; expiresDateTime: string }

const notFound = () => new NotFoundError('The verification does not exist.', { code: 'VerificationNotFound' });
const sha256Upper = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').toUpperCase();
const later = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
/** How long a closed verification's record is kept: the sessions' record retention (at least a day). */
const keptUntil = (deps: LivenessDeps, now: Date) => later(now, Math.max(1, deps.settings.recordRetentionDays) * 86_400);

/**
 * POST /verifications. Everything is checked before anything is stored: the returnUrl, the person's erasure,
 * lockout and quota, and the reference rules (an enrolled reference wins; otherwise the image given here).
 */
export async function createVerification(deps: LivenessDeps, request: CreateVerificationRequest): Promise<IssuedLink & { replayed: boolean }> {
  const { fields, owner, idempotencyKey } = request;
  const settings = deps.settings.verifications;
  let returnUrl: string | undefined;
  if (fields.returnUrl !== undefined) {
    returnUrl = allowedReturnUrl(fields.returnUrl, settings.returnUrls);
    if (!returnUrl) throw new ValidationError('ReturnUrlNotAllowed', 'returnUrl is not one of the return URLs this service allows (VERIFICATION_RETURN_URLS).');
  }
  const subjectKey = deps.subjects.keyOf(fields.externalUserId);
  const now = deps.clock.now();
  const [record] = await Promise.all([deps.subjects.get(subjectKey), assertNotLockedOut(deps, limitKeys(subjectKey, undefined))]);
  if (record?.erasure) throw new ConflictError('SubjectErasing', 'This user is being erased; try again later.');
  let image: { bytes: Uint8Array; contentType: string; extension: string } | undefined;
  if (record?.reference) {
    if (request.referenceImage) throw new ValidationError('ReferenceEnrolled', 'A reference is enrolled for this user: create the verification without a referenceImage.');
  } else if (!deps.settings.privacy.deviceReferenceAllowed) {
    throw request.referenceImage
      ? new ValidationError('DeviceReferenceNotAllowed', 'This service verifies against enrolled references only: create the verification without a referenceImage.')
      : new ValidationError('ReferenceRequired', 'No reference is enrolled for this user, and this service accepts no other.');
  } else if (!request.referenceImage) {
    throw new ValidationError('ReferenceRequired', "No reference is enrolled for this user: the form must include a 'referenceImage' file part.");
  } else {
    const { bytes, sniffed } = await acceptedImage(request.referenceImage);
    image = { bytes, contentType: sniffed.contentType, extension: sniffed.extension };
  }
  const refusal = await deps.quota.check?.(subjectKey, now);
  if (refusal) throw quotaExceeded(refusal);

  const fresh = () => storeVerification(deps, { owner, subjectKey, fields, returnUrl, image, now, seenBefore: record?.lastSeenDateTime ?? record?.createdDateTime });
  if (!idempotencyKey) return { ...(await fresh()), replayed: false };

  // The Idempotency-Key rule of session creates, under the person's key: a retry gets the same verification (with a
  // new link: the first one's token was never stored, so it cannot be handed out again).
  return createOncePerKey(deps, {
    subjectKey, key: `verification|${owner}|${idempotencyKey}`, now,
    requestHash: createHash('sha256').update(JSON.stringify([owner, fields, image ? sha256Upper(image.bytes) : null])).digest('hex'),
    create: fresh, idOf: (issued) => issued.verificationId, replay: (verificationId) => reissueLink(deps, verificationId, owner),
  });
}

async function storeVerification(deps: LivenessDeps, input: {
  owner: string; subjectKey: string; fields: CreateVerificationFields; returnUrl?: string; now: Date; seenBefore?: string;
  image?: { bytes: Uint8Array; contentType: string; extension: string };
}): Promise<IssuedLink> {
  const { now, image, fields } = input;
  const verificationId = timeOrderedId(now.getTime());
  const linkToken = newToken('link', verificationId);
  const expiresDateTime = later(now, deps.settings.verifications.linkTtlSeconds);
  const referenceImage: StoredImage | undefined = image ? {
    blobName: `verification-references/${verificationId}.${image.extension}`,
    contentType: image.contentType, sizeInBytes: image.bytes.byteLength, sha256: sha256Upper(image.bytes),
  } : undefined;
  const verification: Verification = {
    verificationId,
    owner: input.owner,
    subjectKey: input.subjectKey,
    ...(fields.clientReferenceId !== undefined ? { clientReferenceId: fields.clientReferenceId } : {}),
    ...(input.returnUrl !== undefined ? { returnUrl: input.returnUrl } : {}),
    ...(fields.locale !== undefined ? { locale: fields.locale } : {}),
    ...(referenceImage ? { referenceImage } : {}),
    referenceSource: referenceImage ? 'given' : 'enrolled',
    createdDateTime: now.toISOString(),
    linkTokenHash: tokenHash(linkToken),
    linkIssuedDateTime: now.toISOString(),
    linkExpiresDateTime: expiresDateTime,
    linkState: 'sent',
    sweepDateTime: expiresDateTime,
  };
  // The row first (its subject index row before it), so erasure and the sweep can reach the blob it names.
  await deps.verifications.create(verification);
  try {
    if (image && referenceImage) await deps.images.put(referenceImage.blobName, image.bytes, image.contentType, { sha256: referenceImage.sha256 });
    // The person now has data here: their subject record and activity row (export, erasure, idle expiry find them).
    await Promise.all([deps.subjects.recordVisit(input.subjectKey, now), deps.activity.touch(input.subjectKey, now, input.seenBefore)]);
  } catch (error) {
    if (referenceImage) await deps.images.delete(referenceImage.blobName).catch(() => undefined);
    await deps.verifications.delete(verification).catch(() => undefined);
    throw error;
  }
  await recordLinkEvidence(deps, 'verification.link.issued', verification, now);
  deps.logger.info('verification created', { verificationId, reference: referenceImage ? 'given' : 'enrolled' });
  return { verificationId, linkToken, expiresDateTime };
}

/**
 * The evidence log's record of a link issued or exchanged (idempotent by link). The link works whether or not the
 * record could be written now; a failure is logged (the link's own record keeps the facts).
 */
async function recordLinkEvidence(deps: LivenessDeps, type: 'verification.link.issued' | 'verification.link.exchanged', v: Verification, at: Date): Promise<void> {
  await appendEvidence(deps, verificationLinkEntry(type, v, at)).catch((error: unknown) => {
    deps.logger.warn('could not record verification link evidence', { verificationId: v.verificationId, type, error: (error as Error).name });
  });
}

/** The relying party's own verification, or 404 (another relying party's included). */
async function owned(deps: LivenessDeps, verificationId: string, owner: string | undefined): Promise<Verification> {
  if (!isUuid(verificationId)) throw notFound();
  const v = await deps.verifications.get(verificationId.toLowerCase());
  if (!v || (owner !== undefined && v.owner !== owner)) throw notFound();
  return v;
}

export type VerificationView = VerificationFacts & {
  verificationId: string; clientReferenceId?: string; createdDateTime: string; expiresDateTime: string; openedDateTime?: string;
  sessionId?: string;
};

async function view(deps: LivenessDeps, v: Verification, now: Date): Promise<VerificationView> {
  const session = v.sessionId ? await deps.sessions.get(v.sessionId) : undefined;
  return {
    verificationId: v.verificationId,
    ...verificationFacts(v, session, now),
    ...(v.clientReferenceId !== undefined ? { clientReferenceId: v.clientReferenceId } : {}),
    createdDateTime: v.createdDateTime,
    expiresDateTime: v.linkExpiresDateTime,
    ...(v.openedDateTime ? { openedDateTime: v.openedDateTime } : {}),
    ...(v.sessionId && session ? { sessionId: v.sessionId } : {}),
  };
}

/** GET /verifications/{id}: status, link state, outcome, coarse reasons and times. */
export async function readVerification(deps: LivenessDeps, verificationId: string, owner: string): Promise<VerificationView> {
  return view(deps, await owned(deps, verificationId, owner), deps.clock.now());
}

/** The back-office list, newest first. */
export async function listVerifications(deps: LivenessDeps, top: number, continuationToken?: string): Promise<Page<VerificationView>> {
  const page = await deps.verifications.list(top, continuationToken);
  const now = deps.clock.now();
  return { items: await Promise.all(page.items.map((v) => view(deps, v, now))), ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) };
}

/**
 * DELETE /verifications/{id}: the link dies (410 from then on), the session goes as the back-office delete does, the
 * reference image goes. The record stays, cancelled, until its retention ends. Idempotent.
 */
export async function cancelVerification(deps: LivenessDeps, verificationId: string, owner: string): Promise<void> {
  const found = await owned(deps, verificationId, owner);
  const now = deps.clock.now();
  const v = await deps.verifications.mutate(found.verificationId, (current) => (current.cancelledDateTime ? undefined : {
    ...current,
    cancelledDateTime: now.toISOString(),
    linkTokenHash: undefined, accessTokenHash: undefined,
    sweepDateTime: keptUntil(deps, now),
  }));
  if (!v) throw notFound();
  if (v.sessionId) {
    await deleteSession(deps, v.sessionId).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error; // already gone (or never made): nothing to delete
    });
  }
  if (v.referenceImage) {
    await deps.images.delete(v.referenceImage.blobName);
    await deps.verifications.mutate(v.verificationId, (current) => (current.referenceImage ? { ...current, referenceImage: undefined } : undefined));
  }
  deps.logger.info('verification cancelled', { verificationId: v.verificationId, sessionId: v.sessionId });
}

/**
 * POST /verifications/{id}/link (back office), and an Idempotency-Key replay of a create: a new link; the previous
 * link and any access token from it die. Only while no session was started from the verification.
 */
export async function reissueLink(deps: LivenessDeps, verificationId: string, owner?: string): Promise<IssuedLink> {
  const found = await owned(deps, verificationId, owner);
  const now = deps.clock.now();
  const linkToken = newToken('link', found.verificationId);
  const expiresDateTime = later(now, deps.settings.verifications.linkTtlSeconds);
  const v = await deps.verifications.mutate(found.verificationId, (current) => {
    if (current.cancelledDateTime || current.sessionId) {
      throw new ConflictError('VerificationUsed', 'A check was already started from this verification (or it was cancelled); create a new verification.');
    }
    if (current.referenceSource === 'given' && !current.referenceImage) {
      throw new ConflictError('ReferenceGone', "The relying party's reference image was deleted when the link expired; create a new verification.");
    }
    return {
      ...current,
      linkTokenHash: tokenHash(linkToken), usedLinkTokenHash: undefined,
      linkIssuedDateTime: now.toISOString(), linkExpiresDateTime: expiresDateTime, linkState: 'sent',
      accessTokenHash: undefined, accessExpiresDateTime: undefined, openedDateTime: undefined,
      sweepDateTime: expiresDateTime,
    };
  });
  if (!v) throw notFound();
  await recordLinkEvidence(deps, 'verification.link.issued', v, now);
  deps.logger.info('verification link issued', { verificationId: v.verificationId });
  return { verificationId: v.verificationId, linkToken, expiresDateTime };
}

export interface LinkExchange {
  verificationId: string;
  accessToken: string;
  accessTokenExpiresDateTime: string;
  returnUrl?: string;
  locale?: string;
  consent: PrivacyBody['consent'];
  quickLink: boolean;
}

const LINK_MESSAGES = {
  LinkUsed: 'This link has already been used. Ask the service that sent it to you for a new one.',
  LinkExpired: 'This link has expired. Ask the service that sent it to you for a new one.',
  LinkInvalid: 'This link is not valid (it may have been replaced by a newer one, or cancelled). Ask the service that sent it to you for a new one.',
} as const;
const gone = (code: keyof typeof LINK_MESSAGES) => new LinkGoneError(code, LINK_MESSAGES[code]);

/** POST /verification-links/exchange: the link token, once, for an access token and what the page shows. */
export async function exchangeLink(deps: LivenessDeps, token: string): Promise<LinkExchange> {
  const verificationId = tokenVerificationId('link', token);
  if (!verificationId) throw gone('LinkInvalid');
  const now = deps.clock.now();
  const accessToken = newToken('access', verificationId);
  const accessTokenExpiresDateTime = later(now, deps.settings.verifications.accessTtlSeconds);
  const v = await deps.verifications.mutate(verificationId, (current) => {
    if (current.cancelledDateTime) throw gone('LinkInvalid');
    if (tokenMatches(token, current.linkTokenHash)) {
      if (current.linkState !== 'sent') throw gone('LinkUsed');
      if (now.getTime() >= Date.parse(current.linkExpiresDateTime)) throw gone('LinkExpired');
      return {
        ...current,
        linkTokenHash: undefined, usedLinkTokenHash: current.linkTokenHash,
        linkState: 'opened', openedDateTime: now.toISOString(),
        accessTokenHash: tokenHash(accessToken), accessExpiresDateTime: accessTokenExpiresDateTime,
        sweepDateTime: accessTokenExpiresDateTime,
      };
    }
    throw gone(tokenMatches(token, current.usedLinkTokenHash) ? 'LinkUsed' : 'LinkInvalid');
  });
  if (!v) throw gone('LinkInvalid');
  await recordLinkEvidence(deps, 'verification.link.exchanged', v, now);
  deps.logger.info('verification link exchanged', { verificationId });
  return {
    verificationId,
    accessToken,
    accessTokenExpiresDateTime,
    ...(v.returnUrl ? { returnUrl: v.returnUrl } : {}),
    ...(v.locale ? { locale: v.locale } : {}),
    consent: privacyNotice(deps.settings).consent,
    quickLink: deps.settings.verifications.quickLink,
  };
}

/** The device routes' view of a link access token: the verification's person and the verification, or 401. */
export async function linkCaller(deps: Pick<LivenessDeps, 'verifications' | 'clock'>, accessToken: string): Promise<LinkCaller> {
  const verificationId = tokenVerificationId('access', accessToken);
  const v = verificationId ? await deps.verifications.get(verificationId) : undefined;
  if (!v || v.cancelledDateTime || !tokenMatches(accessToken, v.accessTokenHash)
    || !v.accessExpiresDateTime || deps.clock.now().getTime() >= Date.parse(v.accessExpiresDateTime)) {
    throw new UnauthorizedError('The link access token is not valid or has expired.');
  }
  return { subjectKey: v.subjectKey, verificationId: v.verificationId };
}

/** What a session started from a verification verifies against, and the facts it carries. */
export interface LinkSessionClaim {
  verification: Verification;
  /** The image the relying party gave (absent: the person's enrolled reference). */
  image?: { bytes: Uint8Array; contentType: string; extension: string; sha256: string };
}

/**
 * Claims the verification for session `sessionId` (conditional write: at most one session per verification) and
 * reads the image it verifies against. @throws ConflictError VerificationUsed when a session was already started
 */
export async function claimForSession(deps: LivenessDeps, caller: LinkCaller, sessionId: string): Promise<LinkSessionClaim> {
  const v = await deps.verifications.mutate(caller.verificationId, (current) => {
    if (current.cancelledDateTime) throw new UnauthorizedError('The link access token is not valid or has expired.');
    if (current.sessionId) throw new ConflictError('VerificationUsed', 'A check was already started from this link.');
    return { ...current, sessionId, linkState: 'used', sweepDateTime: keptUntil(deps, deps.clock.now()) };
  });
  if (!v) throw new UnauthorizedError('The link access token is not valid or has expired.');
  if (!v.referenceImage) return { verification: v };
  const bytes = await deps.images.get(v.referenceImage.blobName);
  if (!bytes || sha256Upper(bytes) !== v.referenceImage.sha256) {
    await releaseClaim(deps, v.verificationId, sessionId);
    throw new ConflictError('ReferenceUnavailable', "The verification's reference image is not available.");
  }
  const extension = v.referenceImage.blobName.split('.').pop() ?? 'jpg';
  return { verification: v, image: { bytes, contentType: v.referenceImage.contentType, extension, sha256: v.referenceImage.sha256 } };
}

/** Gives the claim back after the session's create failed (only the claim of that session). */
export async function releaseClaim(deps: LivenessDeps, verificationId: string, sessionId: string): Promise<void> {
  await deps.verifications.mutate(verificationId, (current) => (current.sessionId === sessionId
    ? { ...current, sessionId: undefined, linkState: 'opened' }
    : undefined)).catch((error: unknown) => {
    deps.logger.error('could not release a verification claim', { verificationId, error: (error as Error).name });
  });
}

/**
 * After the session exists: the verification's own copy of the reference goes (the session keeps its verify image),
 * and the record is kept until retention ends.
 */
export async function settleClaim(deps: LivenessDeps, verification: Verification): Promise<void> {
  const now = deps.clock.now();
  try {
    if (verification.referenceImage) await deps.images.delete(verification.referenceImage.blobName);
    await deps.verifications.mutate(verification.verificationId, (current) => ({
      ...current, referenceImage: undefined, sweepDateTime: keptUntil(deps, now),
    }));
  } catch (error) {
    // The sweep deletes the reference of a used verification when it next reaches it.
    deps.logger.warn('could not tidy a used verification; the sweep will', { verificationId: verification.verificationId, error: (error as Error).name });
  }
}

/**
 * The sweep's part: links that expired unused are marked expired and their reference image deleted; closed
 * verifications past retention are deleted. @returns what was done
 */
export async function sweepVerifications(deps: LivenessDeps): Promise<{ expired: number; deleted: number }> {
  const now = deps.clock.now();
  let expired = 0;
  let deleted = 0;
  for (const due of await deps.verifications.listDue(now, deps.settings.sweepPageSize)) {
    try {
      const open = !due.cancelledDateTime && !due.sessionId;
      const accessLive = due.linkState === 'opened' && due.accessExpiresDateTime && now.getTime() < Date.parse(due.accessExpiresDateTime);
      const linkLive = due.linkState === 'sent' && now.getTime() < Date.parse(due.linkExpiresDateTime);
      if (open && (accessLive || linkLive)) continue; // reissued meanwhile; its new due time is in the future
      if (open && due.linkState !== 'expired') {
        // The event first (its id follows from the link, so a sweep that repeats this after a crash sends a copy
        // receivers drop), then the mark.
        await publishVerificationExpired(deps, due, now);
        if (due.referenceImage) await deps.images.delete(due.referenceImage.blobName);
        await deps.verifications.mutate(due.verificationId, (current) => (current.sessionId || current.cancelledDateTime ? undefined : {
          ...current, linkState: 'expired', linkTokenHash: undefined, accessTokenHash: undefined, referenceImage: undefined,
          sweepDateTime: keptUntil(deps, now),
        }));
        expired++;
        continue;
      }
      if (due.referenceImage) {
        await deps.images.delete(due.referenceImage.blobName);
        await deps.verifications.mutate(due.verificationId, (current) => ({ ...current, referenceImage: undefined }));
      }
      if (due.sweepDateTime && now.getTime() >= Date.parse(due.sweepDateTime)) {
        await deps.verifications.delete(due);
        deleted++;
      }
    } catch (error) {
      deps.logger.warn('could not sweep a verification; the next sweep retries', { verificationId: due.verificationId, error: (error as Error).name });
    }
  }
  return { expired, deleted };
}

/** liveness.verification.expired: the link ran out unused. One id per issued link (a new link expires on its own). */
async function publishVerificationExpired(deps: LivenessDeps, v: Verification, now: Date): Promise<void> {
  if (!deps.events) return;
  const random = createHash('sha256').update(`${v.verificationId}|${v.linkIssuedDateTime}`).digest().subarray(0, 16);
  const id = `evt_${timeOrderedId(Date.parse(v.linkExpiresDateTime), random)}`;
  const event: VerificationExpiredEvent = {
    id, type: 'liveness.verification.expired', timestamp: now.toISOString(),
    data: {
      verificationId: v.verificationId,
      ...(v.clientReferenceId !== undefined ? { clientReferenceId: v.clientReferenceId } : {}),
      status: 'expired', linkState: 'expired', linkExpiresDateTime: v.linkExpiresDateTime,
    },
  };
  // Routed under the person's key: erasure finds its delivery rows.
  await deps.events.enqueue({ ...event, subjectKey: v.subjectKey });
}

/** Erasure and export reach a subject's verifications by key. @returns how many rows and images were deleted */
export async function eraseVerifications(deps: LivenessDeps, subjectKey: string): Promise<{ verifications: number; images: number }> {
  let images = 0;
  const found = await deps.verifications.listBySubject(subjectKey);
  for (const v of found) {
    if (v.referenceImage) {
      await deps.images.delete(v.referenceImage.blobName);
      images++;
    }
    await deps.verifications.delete(v);
  }
  return { verifications: found.length, images };
}

/** Sessions made from a link carry these (events echo them to the relying party). */
export function linkSessionFacts(v: Verification): Pick<LivenessSession, 'origin' | 'verificationId' | 'clientReferenceId'> {
  return { origin: 'link', verificationId: v.verificationId, ...(v.clientReferenceId !== undefined ? { clientReferenceId: v.clientReferenceId } : {}) };
}

/**
 * Face's Quick Link page calls back (the browser sent back, or Face server to server) when the capture ends. Whatever
 * the call says, it only triggers collection, as /complete does: the result is always read from Face. A call without
 * the session's secret is a 404 (as for no such verification).
 * @returns the verification id, for the edge to send the browser back to the page's result view
 */
export async function quickLinkCallback(deps: LivenessDeps, verificationId: string, secret: string): Promise<void> {
  const v = await owned(deps, verificationId, undefined);
  if (!tokenMatches(secret, v.quickLinkSecretHash) || !v.sessionId || v.cancelledDateTime) throw notFound();
  await requestCompletion(deps, v.sessionId, { subjectKey: v.subjectKey, verificationId: v.verificationId });
  deps.logger.info('quick link callback: collection requested', { verificationId: v.verificationId, sessionId: v.sessionId });
}
