// Read-side use cases for the back office.
import type { AuditEntryListBody, LivenessSessionBody, LivenessSessionPageBody } from '../contract/types.js';
import type { LivenessDeps } from './deps.js';
import { NotFoundError } from './errors.js';
import type { ListSessionsQuery } from './ports.js';
import { isVisible, listItemView, sessionView } from './session.js';
import { sessionImageType } from './verify-image.js';

export async function getSession(deps: LivenessDeps, sessionId: string): Promise<LivenessSessionBody> {
  const session = await deps.sessions.get(sessionId);
  if (!isVisible(session)) throw new NotFoundError();
  return sessionView(session, deps.clock.now());
}

export async function listSessions(deps: LivenessDeps, query: ListSessionsQuery): Promise<LivenessSessionPageBody> {
  const page = await deps.sessions.list(query);
  const now = deps.clock.now();
  return {
    value: page.items.map((item) => listItemView(item, now)),
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  };
}

export async function listAuditEntries(deps: LivenessDeps, sessionId: string): Promise<AuditEntryListBody> {
  const session = await deps.sessions.get(sessionId);
  if (!isVisible(session)) throw new NotFoundError();
  return { value: await deps.audit.list(sessionId) };
}

/** An image the back office may look at, read through the ImageStore (never by a public blob URL). */
export interface SessionImage { bytes: Uint8Array; contentType: string }

export type SessionImageRef = { kind: 'verify' } | { kind: 'session'; attemptId: number };

/**
 * The verify image a session was started with, or the session image Face kept for one attempt. A session that is
 * not visible, an attempt without a kept image, and an image already removed by retention are all 404s: the caller
 * learns no more than that there is nothing to show.
 */
export async function getSessionImage(deps: LivenessDeps, sessionId: string, ref: SessionImageRef): Promise<SessionImage> {
  const session = await deps.sessions.get(sessionId);
  if (!isVisible(session)) throw new NotFoundError();
  const gone = () => new NotFoundError('The image does not exist (none was kept, or retention has removed it).', { code: 'ImageNotFound' });
  if (session.imagesDeleted) throw gone();
  if (ref.kind === 'verify') {
    const bytes = await deps.images.get(session.storedVerifyImage.blobName);
    if (!bytes) throw gone();
    return { bytes, contentType: session.storedVerifyImage.contentType }; // sniffed when it was uploaded
  }
  // Only a name the session lists is read (collect-result.ts names them from our own ids).
  const blobName = `session-images/${session.sessionId}/${ref.attemptId}.jpg`;
  if (!session.sessionImageBlobs.includes(blobName)) throw gone();
  const bytes = await deps.images.get(blobName);
  if (!bytes) throw gone();
  return { bytes, contentType: await sessionImageType(bytes) };
}
