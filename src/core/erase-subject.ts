// Use case: the back office erases everything of a subject (GDPR Art. 17): its sessions (Face sessions still alive,
// verify and session images, audit entries, rows), its enrolled reference, consents, lockout, quota and
// idempotency rows, and the subject record; what remains is a deletion receipt (kinds and counts, when, by whom,
// keyed hash only). Everything is found by key from the subject key, never by scanning sessions.
// Idempotent and resumable: the record is first marked erasing (while marked, nothing new is stored for the
// subject); each step is idempotent and its counts are saved on the record as it goes; the record goes last. A crash
// half-way is finished by a repeat call or by the sweep (which reads the erasing index).
import { timeOrderedId } from './ids.js';
import { purgeSession } from './delete-session.js';
import { updateSession, type LivenessDeps } from './deps.js';
import { appendEvidence, digestOf, receiptFacts, refOf } from './evidence.js';
import { publishSubjectErased } from './events.js';
import { eraseVerifications } from './verifications.js';
import { newSubjectRecord, type DeletionReceipt, type SubjectRecord } from './subject.js';

/** How many times the subject's sessions are re-listed: a create that raced the erasure mark adds at most one round. */
const MAX_SESSION_ROUNDS = 3;

export async function eraseSubject(deps: LivenessDeps, subjectKey: string, requestedBy: string): Promise<DeletionReceipt> {
  const now = deps.clock.now();
  const marked = await deps.subjects.mutate(subjectKey, (current) => {
    if (current?.erasure) return undefined; // already erasing: resume it
    return {
      ...(current ?? newSubjectRecord(subjectKey, now)),
      erasure: { erasureId: timeOrderedId(now.getTime()), requestedDateTime: now.toISOString(), requestedBy, counts: {} },
    };
  });
  return finishErasure(deps, marked!);
}

/** Finishes erasures that were interrupted (the sweep's part). @returns how many were finished */
export async function resumeErasures(deps: LivenessDeps): Promise<number> {
  let finished = 0;
  for (const subjectKey of await deps.subjects.listErasing()) {
    const record = await deps.subjects.get(subjectKey);
    if (!record?.erasure) {
      await deps.subjects.delete(subjectKey); // drops an index row left by a crash after the record went
      continue;
    }
    try {
      await finishErasure(deps, record);
      finished++;
    } catch (error) {
      deps.logger.warn('could not finish an erasure; the next sweep retries it', { error: (error as Error).name });
    }
  }
  return finished;
}

async function finishErasure(deps: LivenessDeps, record: SubjectRecord): Promise<DeletionReceipt> {
  const subjectKey = record.subjectKey;
  const erasure = record.erasure!;
  const counts: Record<string, number> = { ...erasure.counts };
  const add = (kind: string, n: number) => { if (n > 0) counts[kind] = (counts[kind] ?? 0) + n; };
  const save = () => deps.subjects.mutate(subjectKey, (current) =>
    current?.erasure?.erasureId === erasure.erasureId ? { ...current, erasure: { ...current.erasure, counts: { ...counts } } } : undefined);

  for (let round = 0; round < MAX_SESSION_ROUNDS; round++) {
    const sessions = await deps.sessions.listBySubject(subjectKey);
    if (sessions.length === 0) break;
    for (const found of sessions) {
      // Marked deleting first (a concurrent collection backs off), then purged like a deleted session. A row still
      // Creating is purged too: its create then fails at its last write and undoes its Face session.
      const session = found.deleting ? found : await updateSession(deps, found, (current) => (current.deleting ? undefined : { ...current, deleting: true }));
      if (!session) continue;
      const auditEntries = (await deps.audit.list(session.sessionId)).length;
      await purgeSession(deps, session);
      add('sessions', 1);
      add('faceSessions', session.faceSessionId && !session.faceSessionDeleted ? 1 : 0);
      add('images', (session.imagesDeleted ? 0 : 1) + session.sessionImageBlobs.length);
      add('auditEntries', auditEntries);
      await save();
    }
  }

  // Verifications of the person (their rows, and a reference image a relying party gave that no session took yet).
  const verifications = await eraseVerifications(deps, subjectKey);
  add('verifications', verifications.verifications);
  add('images', verifications.images);
  await save();

  const current = (await deps.subjects.get(subjectKey)) ?? record;
  const referenceBlobs = [...new Set([...(current.reference ? [current.reference.blobName] : []), ...current.retiredBlobs])];
  await Promise.all(referenceBlobs.map((b) => deps.images.delete(b)));
  add('references', current.reference ? 1 : 0);
  add('consents', await deps.subjects.deleteConsents(subjectKey));
  const rows = await deps.subjectRows.erase(subjectKey);
  add('lockouts', rows.lockouts);
  add('quotas', rows.quotas);
  add('idempotencyKeys', rows.idempotencyKeys);
  // The activity index row (found from the record's last interaction).
  const seen = current.lastSeenDateTime ?? current.createdDateTime;
  if (seen) await deps.activity.remove(subjectKey, seen);
  // The webhook delivery log: attempts (with session ids) and dead letters of events about the person, by key.
  const deliveries = await deps.deliveries.erase(subjectKey);
  add('deliveryAttempts', deliveries.deliveryAttempts);
  add('deadLetters', deliveries.deadLetters);

  // A repeat call after a finished erasure found nothing left: it answers the receipt of the erasure that did the work.
  if (Object.keys(counts).length === 0) {
    const earlier = (await deps.subjects.listReceipts(subjectKey)).at(-1);
    if (earlier) {
      await deps.subjects.delete(subjectKey);
      return earlier;
    }
  }
  // A resumed erasure whose receipt was already written answers that very receipt (its evidence record proves it).
  const written = (await deps.subjects.listReceipts(subjectKey)).find((r) => r.receiptId === erasure.erasureId);
  const facts = written ?? {
    receiptId: erasure.erasureId,
    subjectKey,
    requestedDateTime: erasure.requestedDateTime,
    completedDateTime: deps.clock.now().toISOString(),
    requestedBy: erasure.requestedBy,
    deleted: counts,
  };
  // The evidence record first (idempotent by receipt id), then the receipt that names it: a third party holding
  // the receipt finds its record in an export and checks it is the digest of exactly this receipt.
  const stored = await appendEvidence(deps, {
    recordId: `subject.erased|${facts.receiptId}`, type: 'subject.erased', time: facts.completedDateTime, subjectKey,
    receiptId: facts.receiptId, digest: digestOf(receiptFacts(facts)),
  });
  const receipt: DeletionReceipt = { ...receiptFacts(facts), evidence: refOf(stored) };
  // The receipt before the record: a crash between them leaves the record erasing, and the resumed erasure writes
  // the same receipt again (same id).
  await deps.subjects.putReceipt(receipt);
  // The relying party hears of it before the record goes: if the enqueue fails, the record stays erasing and the
  // repeat call (or the sweep) sends it then, with the same event id (from the receipt), so receivers de-duplicate.
  await publishSubjectErased(deps, receipt);
  await deps.subjects.delete(subjectKey);
  deps.logger.info('subject erased', { receiptId: receipt.receiptId, deleted: counts });
  return receipt;
}

/** Who the receipt names when the sweep erases a subject idle past the BIPA limit. */
export const IDLE_ERASURE_ACTOR = 'retention:idle-subject';
/** How many idle subjects one sweep erases at most (the next sweep goes on). */
const IDLE_BATCH = 50;

/**
 * BIPA: subjects with no interaction for `subjectIdleErasureDays` are erased exactly as an operator erasure does
 * (receipt, evidence record, event). Found through the activity index by key range, never by scanning subjects.
 * @returns how many were erased
 */
export async function eraseIdleSubjects(deps: LivenessDeps): Promise<number> {
  const days = deps.settings.subjectIdleErasureDays;
  if (days === undefined) return 0;
  const cutoff = deps.clock.now().getTime() - days * 86_400_000;
  let erased = 0;
  for (const { subjectKey, seen } of await deps.activity.listIdle(new Date(cutoff), IDLE_BATCH)) {
    const record = await deps.subjects.get(subjectKey);
    const last = record?.lastSeenDateTime ?? record?.createdDateTime;
    if (record && last && Date.parse(last) >= cutoff) {
      // Seen again since (a row left by a race): the current row is elsewhere; this one goes.
      if (last.slice(0, 10) !== seen.slice(0, 10)) await deps.activity.remove(subjectKey, seen);
      continue;
    }
    if (record || (await deps.sessions.listBySubject(subjectKey)).length > 0) {
      await eraseSubject(deps, subjectKey, IDLE_ERASURE_ACTOR);
      erased++;
    }
    await deps.activity.remove(subjectKey, seen);
  }
  if (erased > 0) deps.logger.info('idle subjects erased', { erased, days });
  return erased;
}
