// Steps that many tests share: start a session as a device, deliver queued completion messages as the host would.
import { handleCompletionMessage } from '../../src/core/collect-result.js';
import { parseStartSessionForm as parseStartSessionFields } from '../../src/contract/requests.js';
import { startSession } from '../../src/core/start-session.js';
import type { LivenessSession } from '../../src/core/session.js';
import { fixtureImage, type FakeWorld } from './world.js';

export interface Started {
  sessionId: string;
  faceSessionId: string;
  authToken: string;
  subject: string;
  /** The subject's key (the HMAC of the token subject) that its session, limits and quota hang off. */
  subjectKey: string;
  session: LivenessSession;
}

/**
 * The form fields a device sends: the version of the consent text the person agreed to (the current one, read from
 * GET /api/privacy), then `fields` (which may replace it).
 */
export function deviceFields(world: FakeWorld, fields: Record<string, string> = {}): Record<string, string> {
  return { consentVersion: world.settings.privacy.currentConsentVersion, ...fields };
}

/**
 * Starts a session for `subject` as a device would: the current consent version and `fields` as form fields, and the
 * Grace Hopper verify image (or none, when `verifyImage` is null: the subject's enrolled reference is used).
 */
export async function startFor(
  world: FakeWorld, subject = 'alice', fields: Record<string, string> = {}, idempotencyKey?: string,
  verifyImage: Uint8Array | null = fixtureImage(),
): Promise<Started> {
  const started = await startSession(world.deps, {
    caller: { subject }, fields: parseStartSessionFields(deviceFields(world, fields)), idempotencyKey,
    ...(verifyImage ? { verifyImage } : {}),
  });
  const session = world.sessions.peek(started.sessionId)!;
  return {
    sessionId: started.sessionId, faceSessionId: session.faceSessionId!, authToken: started.authToken, subject,
    subjectKey: session.subjectKey!, session,
  };
}

/** Delivers every queued completion message once (oldest first); messages they enqueue wait for the next call. */
export async function deliverQueued(world: FakeWorld): Promise<string[]> {
  const outcomes: string[] = [];
  for (const { message } of world.completions.drain()) outcomes.push(await handleCompletionMessage(world.deps, message));
  return outcomes;
}
