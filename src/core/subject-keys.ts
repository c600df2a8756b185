// Which subject key a session or a raw token subject has: the keyed hash (SubjectStore.keyOf) is the only handle
// on a person the back office and the storage keys ever use.
import type { SubjectKeyBody } from '../contract/types.js';
import type { SubjectStore } from './ports.js';
import type { LivenessSession } from './session.js';

type Keyer = { subjects: Pick<SubjectStore, 'keyOf'> };

/** The subject key a session hangs off (sessions from before subject keys carry only the raw subject). */
export function subjectKeyOf(deps: Keyer, session: Pick<LivenessSession, 'subject' | 'subjectKey'>): string | undefined {
  return session.subjectKey ?? (session.subject !== undefined ? deps.subjects.keyOf(session.subject) : undefined);
}

/** The subject key of a raw token subject, for the back office (which then uses only the key). */
export function resolveSubjectKey(deps: Keyer, subject: string): SubjectKeyBody {
  return { subjectKey: deps.subjects.keyOf(subject) };
}
