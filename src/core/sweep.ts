// Use case: the timer's sweep. Reads only the sessions whose next sweep time has come (a key-range query on the
// sweep index), pages, works with bounded concurrency, carries on past single failures, and reports counts.
// Per session, in order: at token expiry a last collection if there is no result yet, then deletion of the Face
// session; when image retention ends, the verify and session images; when record retention ends, the records. A row
// still Creating belongs to a create that never finished: it is undone. Events a crash left in a session's outbox are
// enqueued first; a session that reaches expiry without a result gets its expired event.
import { sweepVerifications } from './verifications.js';
import { collectOnce } from './collect-result.js';
import { purgeSession } from './delete-session.js';
import { eraseIdleSubjects, resumeErasures } from './erase-subject.js';
import { updateSession, type LivenessDeps } from './deps.js';
import { AppError, StorageUnavailableError } from './errors.js';
import { recordPendingEvidence, sessionChain, writeCheckpoint } from './evidence.js';
import { publishPendingEvents, sessionExpiredEvent, withEvent } from './events.js';
import { imagesDueAt, recordDueAt } from './retention.js';
import type { LivenessSession } from './session.js';

export interface SweepReport {
  due: number;
  collected: number;
  expiredWithoutResult: number;
  faceSessionsDeleted: number;
  imagesDeleted: number;
  recordsDeleted: number;
  resumedDeletes: number;
  abandonedCreatesUndone: number;
  /** Events found in an outbox (left by a crash or a queue outage) and enqueued now. */
  eventsRecovered: number;
  /** Subject erasures that were interrupted and finished by this sweep. */
  erasuresFinished: number;
  /** Webhook delivery attempts past their retention, deleted (a key-range query). */
  deliveryAttemptsDeleted: number;
  /** Subjects idle past the BIPA limit, erased like an operator erasure. */
  idleSubjectsErased: number;
  /** Verification links that expired unused (marked expired, their reference image deleted). */
  verificationLinksExpired: number;
  /** Closed verifications past retention, deleted. */
  verificationsDeleted: number;
  /** Whether a signed evidence checkpoint was written (none when nothing was appended since the last one). */
  checkpointWritten: boolean;
  failures: number;
  pages: number;
  durationMs: number;
}

/** Sessions grouped by the evidence chain their records go to, in the order first seen. */
function byChain(sessions: LivenessSession[]): LivenessSession[][] {
  const groups = new Map<number, LivenessSession[]>();
  for (const s of sessions) {
    const chain = sessionChain(s);
    const group = groups.get(chain);
    if (group) group.push(s); else groups.set(chain, [s]);
  }
  return [...groups.values()];
}

export async function sweepSessions(deps: LivenessDeps): Promise<SweepReport> {
  const started = Date.now();
  const now = deps.clock.now();
  const report: SweepReport = {
    due: 0, collected: 0, expiredWithoutResult: 0, faceSessionsDeleted: 0, imagesDeleted: 0, recordsDeleted: 0,
    resumedDeletes: 0, abandonedCreatesUndone: 0, eventsRecovered: 0, erasuresFinished: 0, checkpointWritten: false, deliveryAttemptsDeleted: 0, idleSubjectsErased: 0,
    verificationLinksExpired: 0, verificationsDeleted: 0, failures: 0, pages: 0, durationMs: 0,
  };
  let continuationToken: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await deps.sessions.listDue(now, deps.settings.sweepPageSize, continuationToken);
    report.pages++;
    const fresh = page.items.filter((s) => !seen.has(s.sessionId));
    fresh.forEach((s) => seen.add(s.sessionId));
    report.due += fresh.length;
    // Sessions whose evidence goes to one chain are swept one after another (chains side by side): their appends
    // would otherwise contend for that chain's head, as when many of one subject's sessions expire together.
    await forEachLimited(byChain(fresh), deps.settings.sweepConcurrency, async (group) => {
      for (const session of group) {
        try {
          await sweepOne(deps, session, now, report);
        } catch (error) {
          report.failures++;
          // Which step failed: the message of one of our own errors names the store, never a value.
          deps.logger.warn('sweep could not finish a session; the next sweep retries it', {
            sessionId: session.sessionId, error: (error as Error).name, ...(error instanceof AppError ? { step: error.message } : {}),
          });
        }
      }
    });
    continuationToken = page.continuationToken;
  } while (continuationToken);
  try {
    report.erasuresFinished = await resumeErasures(deps);
  } catch (error) {
    report.failures++;
    deps.logger.warn('sweep could not read the interrupted erasures; the next sweep retries', { error: (error as Error).name });
  }
  try {
    const verifications = await sweepVerifications(deps);
    report.verificationLinksExpired = verifications.expired;
    report.verificationsDeleted = verifications.deleted;
  } catch (error) {
    report.failures++;
    deps.logger.warn('sweep could not read the due verifications; the next sweep retries', { error: (error as Error).name });
  }
  try {
    report.idleSubjectsErased = await eraseIdleSubjects(deps);
  } catch (error) {
    report.failures++;
    deps.logger.warn('sweep could not erase idle subjects; the next sweep goes on', { error: (error as Error).name });
  }
  if (deps.settings.deliveryAttemptRetentionDays !== undefined) {
    try {
      const before = new Date(now.getTime() - deps.settings.deliveryAttemptRetentionDays * 86_400_000);
      report.deliveryAttemptsDeleted = await deps.deliveries.pruneAttempts(before);
    } catch (error) {
      report.failures++;
      deps.logger.warn('sweep could not prune the webhook delivery log; the next sweep does', { error: (error as Error).name });
    }
  }
  // Last, so the checkpoint covers what this sweep appended (erasures). Its cost is one read per chain, whatever the
  // log holds.
  try {
    report.checkpointWritten = (await writeCheckpoint(deps)).created;
  } catch (error) {
    report.failures++;
    deps.logger.warn('sweep could not write an evidence checkpoint; the next sweep does', { error: (error as Error).name });
  }
  report.durationMs = Date.now() - started;
  deps.metrics.sweepDeletions('faceSession', report.faceSessionsDeleted);
  deps.metrics.sweepDeletions('images', report.imagesDeleted);
  deps.metrics.sweepDeletions('records', report.recordsDeleted);
  deps.metrics.sweepDeletions('abandonedCreate', report.abandonedCreatesUndone);
  deps.logger.info('sweep finished', { ...report });
  return report;
}

async function sweepOne(deps: LivenessDeps, due: LivenessSession, now: Date, report: SweepReport): Promise<void> {
  const { images, face, settings } = deps;
  if (due.deleting) {
    await purgeSession(deps, due);
    report.resumedDeletes++;
    return;
  }
  if (due.status === 'Creating') {
    // A create that never finished (host died, or its own undo failed): remove what it left.
    await purgeSession(deps, due);
    report.abandonedCreatesUndone++;
    return;
  }
  const nowMs = now.getTime();

  let session = due;
  if (session.pendingEvidence?.length) {
    const recorded = await recordPendingEvidence(deps, session);
    if (!recorded.done) throw new StorageUnavailableError('evidence log unavailable');
    session = recorded.session;
  }
  if (session.pendingEvents?.length) {
    const pending = session.pendingEvents.length;
    const published = await publishPendingEvents(deps, session);
    report.eventsRecovered += pending - published.unsent;
    session = published.session;
  }

  if (nowMs >= recordDueAt(session, settings)) {
    await purgeSession(deps, session);
    if (!due.faceSessionDeleted) report.faceSessionsDeleted++;
    if (!due.imagesDeleted) report.imagesDeleted++;
    report.recordsDeleted++;
    return;
  }

  let faceSessionDeleted = false;
  let expiredWithoutResult = false;
  const expired = nowMs >= Date.parse(session.authTokenExpiresDateTime);
  if (expired && !session.faceSessionDeleted) {
    if (!session.result) {
      const outcome = await collectOnce({ ...deps, settings: { ...settings, deleteFaceSessionAfterCollect: false } }, session);
      if (outcome.kind === 'session-gone') return;
      session = outcome.session;
      if (outcome.kind === 'collected') report.collected++;
      else if (!session.result) {
        report.expiredWithoutResult++;
        expiredWithoutResult = true;
      }
    }
    if (session.faceSessionId) await face.delete(session.faceSessionId);
    faceSessionDeleted = true;
    report.faceSessionsDeleted++;
  }

  const deletedBlobs = new Set<string>();
  if (!session.imagesDeleted && nowMs >= imagesDueAt(session, settings)) {
    const blobs = [session.storedVerifyImage.blobName, ...session.sessionImageBlobs];
    await Promise.all(blobs.map((b) => images.delete(b)));
    blobs.forEach((b) => deletedBlobs.add(b));
    report.imagesDeleted++;
  }

  // What this pass did, applied to the record as it is now (a collector or a delete may have written meanwhile);
  // the sweep time moves on with it, or stays when nothing changed and the session is simply due again later.
  const written = await updateSession(deps, session, (current) => {
    if (current.deleting) return undefined; // the delete (or the next sweep) finishes it
    const noResult = expiredWithoutResult && !current.result && current.status !== 'Failed';
    // Images count as deleted only if no collector added one since we looked; else the next pass deletes the rest.
    const imagesDeleted = deletedBlobs.size > 0
      && [current.storedVerifyImage.blobName, ...current.sessionImageBlobs].every((b) => deletedBlobs.has(b));
    const next: LivenessSession = {
      ...current,
      ...(faceSessionDeleted ? { faceSessionDeleted: true } : {}),
      ...(imagesDeleted ? { imagesDeleted: true } : {}),
      ...(noResult ? { status: 'Expired' as const, failureReason: 'NoFinishedAttemptBeforeExpiry' } : {}),
    };
    // The session ended without a result (Expired now, or Failed earlier): one event, from the write that closes the
    // Face session at expiry (a racing sweep finds faceSessionDeleted already set and adds none).
    const endsWithoutResult = faceSessionDeleted && !current.faceSessionDeleted && !current.result;
    return endsWithoutResult ? withEvent(deps, next, sessionExpiredEvent(next, now)) : next;
  });
  if (written?.pendingEvents?.length) await publishPendingEvents(deps, written);
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}
