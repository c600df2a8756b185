// v1.3-preview.1 abuse monitoring (README "Abuse monitoring"): the service flags the same face template used under
// different temporary correlation ids. The emulator keeps the face embedding of every finished attempt made while
// monitoring was on (beyond the session's own deletion, as the service keeps templates), and flags an attempt whose
// face matches one seen under another correlation id within the window, naming the earlier session. The correlation
// id is the session's userCorrelationId where its kind has one (only the plain liveness create declares it), else its
// deviceCorrelationId. Scripts can also force a verdict (server.ts).
import { cosineSimilarity } from './decision-engine.js';
import type { AbuseMonitoringResult } from './store.js';

/** Cosine similarity at which two captures count as the same face (the app's 0.8 match line, see decision-engine). */
export const SAME_FACE_COSINE = 0.55;
export const DEFAULT_ABUSE_WINDOW_SECONDS = 7 * 86_400;
const MAX_TEMPLATES = 5_000;

interface Template {
  embedding: number[];
  correlationId: string;
  sessionId: string;
  attemptId: number;
  sessionImageId?: string;
  atMs: number;
}

export class AbuseMonitor {
  private templates: Template[] = [];

  constructor(private readonly windowSeconds = DEFAULT_ABUSE_WINDOW_SECONDS) {}

  /**
   * Checks one attempt's face against the templates seen within the window, then remembers it.
   * @returns the verdict; otherFlaggedSessions names each earlier session whose face matched under another id
   */
  observe(attempt: Omit<Template, 'atMs'>, nowMs: number): AbuseMonitoringResult {
    this.templates = this.templates.filter((t) => nowMs - t.atMs <= this.windowSeconds * 1000);
    const flagged = new Map<string, Template>();
    for (const t of this.templates) {
      if (t.correlationId === attempt.correlationId || t.sessionId === attempt.sessionId) continue;
      if (cosineSimilarity(t.embedding, attempt.embedding) < SAME_FACE_COSINE) continue;
      flagged.set(`${t.sessionId}/${t.attemptId}`, t);
    }
    this.templates.push({ ...attempt, atMs: nowMs });
    if (this.templates.length > MAX_TEMPLATES) this.templates.shift();
    const otherFlaggedSessions = [...flagged.values()].map((t) => ({
      attemptId: t.attemptId, sessionId: t.sessionId, ...(t.sessionImageId ? { sessionImageId: t.sessionImageId } : {}),
    }));
    return { isAbuseDetected: otherFlaggedSessions.length > 0, otherFlaggedSessions };
  }

  clear(): void { this.templates = []; }
}
