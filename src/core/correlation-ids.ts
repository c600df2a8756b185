// Face v1.3 abuse monitoring's temporary correlation id per subject (Microsoft's abuse-monitoring guidance): one
// random GUID per person, kept on the subject record, sent with every create; Face flags the same face under another
// id, and a person who reviewed and cleared such a flag issues the subject a new one (Face creates no sessions for a
// flagged id).
import { randomUUID } from 'node:crypto';
import type { LivenessDeps } from './deps.js';
import { ConflictError, NotFoundError } from './errors.js';
import { erasingError, newSubjectRecord, type SubjectRecord } from './subject.js';

/**
 * The subject's correlation id: the one on its record, or a new random one written there first (conditionally: two
 * first checks racing end with one id).
 */
export async function userCorrelationIdFor(deps: Pick<LivenessDeps, 'subjects' | 'clock'>, subjectKey: string, record: SubjectRecord | undefined): Promise<string> {
  if (record?.userCorrelationId) return record.userCorrelationId;
  const now = deps.clock.now();
  const written = await deps.subjects.mutate(subjectKey, (current) => {
    if (current?.userCorrelationId) return undefined;
    if (current?.erasure) throw erasingError();
    return { ...(current ?? newSubjectRecord(subjectKey, now)), userCorrelationId: randomUUID(), userCorrelationIdIssuedDateTime: now.toISOString() };
  });
  if (!written?.userCorrelationId) throw new ConflictError('SubjectChanged', 'The subject record changed while the check started; try again.');
  return written.userCorrelationId;
}

/** The back office issues the subject a new correlation id, after a review cleared an abuse flag. The id is not returned. */
export async function resetCorrelationId(deps: Pick<LivenessDeps, 'subjects' | 'clock'>, subjectKey: string, by: string): Promise<{ subjectKey: string; userCorrelationIdIssuedDateTime: string; issuedBy: string }> {
  const now = deps.clock.now();
  const written = await deps.subjects.mutate(subjectKey, (current) => {
    if (!current) throw new NotFoundError('The subject does not exist.', { code: 'SubjectNotFound' });
    if (current.erasure) throw erasingError();
    return { ...current, userCorrelationId: randomUUID(), userCorrelationIdIssuedDateTime: now.toISOString(), userCorrelationIdIssuedBy: by };
  });
  if (!written) throw new NotFoundError('The subject does not exist.', { code: 'SubjectNotFound' });
  return { subjectKey, userCorrelationIdIssuedDateTime: now.toISOString(), issuedBy: by };
}
