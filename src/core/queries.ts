// Read-side use cases for the back office.
import type { LivenessDeps } from './deps.js';
import { NotFoundError } from './errors.js';
import type { ListSessionsQuery } from './ports.js';
import { isVisible, listItemView, sessionView, type AuditEntry } from './session.js';

export async function getSession(deps: LivenessDeps, sessionId: string) {
  const session = await deps.sessions.get(sessionId);
  if (!isVisible(session)) throw new NotFoundError();
  return sessionView(session, deps.clock.now());
}

export async function listSessions(deps: LivenessDeps, query: ListSessionsQuery) {
  const page = await deps.sessions.list(query);
  const now = deps.clock.now();
  return {
    value: page.items.map((item) => listItemView(item, now)),
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  };
}

export async function listAuditEntries(deps: LivenessDeps, sessionId: string): Promise<{ value: AuditEntry[] }> {
  const session = await deps.sessions.get(sessionId);
  if (!isVisible(session)) throw new NotFoundError();
  return { value: await deps.audit.list(sessionId) };
}
