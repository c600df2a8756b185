// Liveness + verify decisions, two engines (README "Decisions"):
// - scripted: deterministic, `realface` with matchConfidence 0.95 unless a script for the session id or the
//   deviceCorrelationId says otherwise. The default for startFaceEmulator(), so tests that script outcomes stay exact.
// - vision: matchConfidence comes from FaceRes embeddings of the capture and the verify image (cosine similarity
//   mapped through a logistic calibrated on the fixtures); scripts still override it field by field.
// Liveness is scripted in both: no offline anti-spoof model separates attacks from real faces (README "Decisions").
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
  abuseDetected?: boolean;
  otherFlaggedSessions?: Array<{ attemptId: number; sessionId: string; sessionImageId?: string }>;
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

  /** The script that applies to a session, if any. */
  scriptFor(session: Session): Script | undefined {
    return this.bySession.get(session.sessionId)
      ?? (session.deviceCorrelationId !== undefined ? this.byDevice.get(session.deviceCorrelationId) : undefined);
  }

  decide(session: Session): Decision {
    const script = this.scriptFor(session);
    const decision: Decision = {
      livenessDecision: script?.livenessDecision ?? 'realface',
      matchConfidence: script?.matchConfidence ?? DEFAULT_MATCH_CONFIDENCE,
    };
    if (script?.attemptError) decision.error = script.attemptError;
    return decision;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Vision: face embeddings

export type DecisionMode = 'scripted' | 'vision';

/**
 * Cosine similarity → matchConfidence: a logistic through two anchors (README "Vision decisions"): confidence 0.5
 * (the service's default verifyConfidenceThreshold, so isIdentical) at cosine 0.50, and 0.8 (the app's default
 * DECISION_MATCH_THRESHOLD) at cosine 0.55. FaceRes put different people at cosine 0.23–0.49 on the photos we measured
 * and different photos of one person at 0.65 and above, so both land far from the 0.8 line.
 */
export const SIMILARITY_CALIBRATION = { center: 0.5, slope: Math.log(4) / 0.05 } as const;

export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) throw new Error('embeddings must have the same, non-zero length');
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  if (normA === 0 || normB === 0) return 0;
  return dot / Math.sqrt(normA * normB);
}

/** Rounded to 4 decimals (the real service reports a handful of digits) and clamped into [0, 1]. */
export function similarityToConfidence(cosine: number, calibration: { center: number; slope: number } = SIMILARITY_CALIBRATION): number {
  const confidence = 1 / (1 + Math.exp(-calibration.slope * (cosine - calibration.center)));
  return Math.min(1, Math.max(0, Math.round(confidence * 10_000) / 10_000));
}

/** No face in the capture: the attempt fails like a real capture that never found a face (emulator's choice of code). */
export const NO_FACE_IN_CAPTURE = { code: 'NoFaceDetected', message: 'No face was detected in the captured image.' } as const;

/**
 * matchConfidence from embeddings: the capture's largest face against the verify image's face, whose embedding the
 * server keeps on the session from create (or from the device's VerifyImage part). A script for the session or the
 * deviceCorrelationId overrides field by field: `livenessDecision`, `matchConfidence`, `attemptError`.
 */
export class VisionDecisionEngine implements DecisionEngine {
  readonly name = 'vision';

  constructor(private readonly scripts: ScriptedDecisionEngine) {}

  decide(session: Session, attempt: AttemptInput): Decision {
    const script = this.scripts.scriptFor(session);
    const livenessDecision = script?.livenessDecision ?? 'realface';
    if (script?.attemptError) return { livenessDecision, matchConfidence: 0, error: script.attemptError };
    if (script?.matchConfidence !== undefined) return { livenessDecision, matchConfidence: script.matchConfidence };
    const captured = attempt.analysis.faces[0]?.embedding;
    if (!captured) return { livenessDecision, matchConfidence: 0, error: { ...NO_FACE_IN_CAPTURE } };
    // Without a verify image there is nothing to compare; the server then reports no verifyResult at all.
    if (!session.verifyEmbedding) return { livenessDecision, matchConfidence: 0 };
    return { livenessDecision, matchConfidence: similarityToConfidence(cosineSimilarity(captured, session.verifyEmbedding)) };
  }
}
