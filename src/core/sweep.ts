// Use case: the timer's sweep. Reads only the sessions whose next sweep time has come (a key-range query on the
// sweep index), pages, works with bounded concurrency, carries on past single failures, and reports counts.
// Per session, in order: at token expiry a last collection if there is no result yet, then deletion of the Face
// session; when image retention ends, the verify and session images; when record retention ends, the records. A row
// still Creating belongs to a create that never finished: it is undone.
import { collectOnce } from './collect-result.js';
import { purgeSession } from './delete-session.js';
import type { LivenessDeps } from './deps.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { DueSession } from './ports.js';
import { imagesDueAt, nextSweepTime, recordDueAt } from './retention.js';

export interface SweepReport {
  due: number;
  collected: number;
  expiredWithoutResult: number;
  faceSessionsDeleted: number;
  imagesDeleted: number;
  recordsDeleted: number;
  resumedDeletes: number;
  staleIndexRows: number;
  abandonedCreatesUndone: number;
  failures: number;
  pages: number;
  durationMs: number;
}

export async function sweepSessions(deps: LivenessDeps): Promise<SweepReport> {
  const started = Date.now();
  const now = deps.clock.now();
  const report: SweepReport = {
    due: 0, collected: 0, expiredWithoutResult: 0, faceSessionsDeleted: 0, imagesDeleted: 0, recordsDeleted: 0,
    resumedDeletes: 0, staleIndexRows: 0, abandonedCreatesUndone: 0, failures: 0, pages: 0, durationMs: 0,
  };
  let continuationToken: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await deps.sessions.listDue(now, deps.settings.sweepPageSize, continuationToken);
    report.pages++;
    const fresh = page.items.filter((d) => !seen.has(d.sessionId));
    fresh.forEach((d) => seen.add(d.sessionId));
    report.due += fresh.length;
    await forEachLimited(fresh, deps.settings.sweepConcurrency, async (due) => {
      try {
        await sweepOne(deps, due, now, report);
      } catch (error) {
        report.failures++;
        deps.logger.warn('sweep could not finish a session; the next sweep retries it', {
          sessionId: due.sessionId, error: (error as Error).name,
        });
      }
    });
    continuationToken = page.continuationToken;
  } while (continuationToken);
  report.durationMs = Date.now() - started;
  deps.metrics.sweepDeletions('faceSession', report.faceSessionsDeleted);
  deps.metrics.sweepDeletions('images', report.imagesDeleted);
  deps.metrics.sweepDeletions('records', report.recordsDeleted);
  deps.metrics.sweepDeletions('abandonedCreate', report.abandonedCreatesUndone);
  deps.logger.info('sweep finished', { ...report });
  return report;
}

async function sweepOne(deps: LivenessDeps, due: DueSession, now: Date, report: SweepReport): Promise<void> {
  const { sessions, images, face, settings } = deps;
  let session = await sessions.get(due.sessionId);
  if (!session) {
    await sessions.reschedule(due.sessionId, due.dueDateTime, undefined);
    report.staleIndexRows++;
    return;
  }
  if (session.deleting) {
    await purgeSession(deps, session);
    report.resumedDeletes++;
    return;
  }
  if (session.status === 'Creating') {
    // A create that never finished (host died, or its own undo failed): remove what it left.
    await purgeSession(deps, session);
    report.abandonedCreatesUndone++;
    return;
  }
  const nowMs = now.getTime();

  if (nowMs >= recordDueAt(session, settings)) {
    await purgeSession(deps, session);
    if (!session.faceSessionDeleted) report.faceSessionsDeleted++;
    if (!session.imagesDeleted) report.imagesDeleted++;
    report.recordsDeleted++;
    return;
  }

  const expired = nowMs >= Date.parse(session.authTokenExpiresDateTime);
  if (expired && !session.faceSessionDeleted) {
    if (!session.result) {
      const outcome = await collectOnce({ ...deps, settings: { ...settings, deleteFaceSessionAfterCollect: false } }, session);
      if (outcome.kind === 'session-gone') return;
      session = outcome.session;
      if (outcome.kind === 'collected') report.collected++;
      else if (!session.result) {
        report.expiredWithoutResult++;
        if (session.status !== 'Failed') session = { ...session, status: 'Expired', failureReason: 'NoFinishedAttemptBeforeExpiry' };
      }
    }
    if (session.faceSessionId) await face.delete(session.faceSessionId);
    session = { ...session, faceSessionDeleted: true };
    report.faceSessionsDeleted++;
  }

  if (!session.imagesDeleted && nowMs >= imagesDueAt(session, settings)) {
    await Promise.all([session.storedVerifyImage.blobName, ...session.sessionImageBlobs].map((b) => images.delete(b)));
    session = { ...session, imagesDeleted: true };
    report.imagesDeleted++;
  }

  const previousDue = due.dueDateTime;
  const next = nextSweepTime(session, settings)?.toISOString();
  try {
    session = await sessions.update({ ...session, nextSweepDateTime: next });
  } catch (error) {
    // A racing writer (collector, delete) changed the session; the index row stays and the next sweep looks again.
    if (error instanceof ConflictError || error instanceof NotFoundError) return;
    throw error;
  }
  await sessions.reschedule(session.sessionId, previousDue, next);
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}
