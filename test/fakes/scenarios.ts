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
  session: LivenessSession;
}

/** Starts a session for `subject` with the Grace Hopper verify image; form fields as the device sends them. */
export async function startFor(world: FakeWorld, subject = 'alice', fields: Record<string, string> = {}, idempotencyKey?: string): Promise<Started> {
  const started = await startSession(world.deps, {
    caller: { subject }, fields: parseStartSessionFields(fields), verifyImage: fixtureImage(), idempotencyKey,
  });
  const session = world.sessions.peek(started.sessionId)!;
  return { sessionId: started.sessionId, faceSessionId: session.faceSessionId!, authToken: started.authToken, subject, session };
}

/** Delivers every queued completion message once (oldest first); messages they enqueue wait for the next call. */
export async function deliverQueued(world: FakeWorld): Promise<string[]> {
  const outcomes: string[] = [];
  for (const { message } of world.completions.drain()) outcomes.push(await handleCompletionMessage(world.deps, message));
  return outcomes;
}
