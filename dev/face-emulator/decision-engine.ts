// Liveness + verify decisions. The offline study (offline-face-engine.md §7) found no anti-spoof model whose scores
// separate attacks from real faces, so the default engine is deterministic and test-scripted: `realface` with
// matchConfidence 0.95 unless a script for the session id or the deviceCorrelationId says otherwise. A real vision
// engine (e.g. Human antispoof/liveness + a FaceRes/face-api embedding compare) can implement `DecisionEngine` later
// and still defer to scripts first, so tests stay deterministic.
import type { LivenessDecision, Session } from './store.js';
import type { ImageAnalysis } from './image-analyzer.js';

export interface AttemptInput {
  attemptId: number;
  /** Capture bytes from the device's `Content` part. */
  content: Uint8Array;
  metadata: string;
  /** Analysis of the capture (faces may be empty: the device payload need not be a still image). */
  analysis: ImageAnalysis;
}

export interface Decision {
  livenessDecision: LivenessDecision;
  matchConfidence: number;
  /** When set, the attempt fails with this error instead of producing a result. */
  error?: { code: string; message: string };
}

export interface DecisionEngine {
  readonly name: string;
  decide(session: Session, attempt: AttemptInput): Promise<Decision> | Decision;
}

export interface Script {
  sessionId?: string;
  deviceCorrelationId?: string;
  livenessDecision?: LivenessDecision;
  matchConfidence?: number;
  attemptError?: { code: string; message: string };
}

export const DEFAULT_MATCH_CONFIDENCE = 0.95;
export const MISMATCH_CONFIDENCE = 0.1;

/** Scripted outcomes: a session-id script beats a deviceCorrelationId script; the newest script of a kind wins. */
export class ScriptedDecisionEngine implements DecisionEngine {
  readonly name = 'scripted';
  private readonly bySession = new Map<string, Script>();
  private readonly byDevice = new Map<string, Script>();

  addScript(script: Script): void {
    if (script.sessionId) this.bySession.set(script.sessionId, script);
    else if (script.deviceCorrelationId) this.byDevice.set(script.deviceCorrelationId, script);
  }

  clearScripts(): void {
    this.bySession.clear();
    this.byDevice.clear();
  }

  get scriptCount(): number { return this.bySession.size + this.byDevice.size; }

  /** Drops a deleted session's script so long benchmark runs don't accumulate them. */
  forgetSession(sessionId: string): void { this.bySession.delete(sessionId); }

  decide(session: Session): Decision {
    const script = this.bySession.get(session.sessionId)
      ?? (session.deviceCorrelationId !== undefined ? this.byDevice.get(session.deviceCorrelationId) : undefined);
    const decision: Decision = {
      livenessDecision: script?.livenessDecision ?? 'realface',
      matchConfidence: script?.matchConfidence ?? DEFAULT_MATCH_CONFIDENCE,
    };
    if (script?.attemptError) decision.error = script.attemptError;
    return decision;
  }
}
