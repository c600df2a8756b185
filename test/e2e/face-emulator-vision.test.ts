// The Face emulator's vision decisions: matchConfidence from FaceRes embeddings of the capture against the verify
// image. The mapping and the script precedence are tested with fake analyses; the real model is tested in-process
// and through the emulator's HTTP API (create with a verify image, post a capture as the device does, GET, read
// verifyResult). Scores are asserted against the app's default threshold only; the figures themselves come from
// `npm run bench:faces`.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosineSimilarity, NO_FACE_IN_CAPTURE, ScriptedDecisionEngine, similarityToConfidence, VisionDecisionEngine, type AttemptInput,
} from '../../dev/face-emulator/decision-engine.js';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { createImageAnalyzer, type ImageAnalysis, type MemoizingImageAnalyzer } from '../../dev/face-emulator/image-analyzer.js';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';
import type { Session } from '../../dev/face-emulator/store.js';

const image = (name: string): Buffer => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));
const GRACE = image('face-grace-hopper.jpg');
const ASTRONAUT = image('face-astronaut.png');
const COFFEE = image('noface-coffee.png');
/** The app's default DECISION_MATCH_THRESHOLD. */
const APP_THRESHOLD = 0.8;

/** Same person, different bytes: what a camera frame of the enrolled face might look like. */
async function captureOf(bytes: Buffer): Promise<Record<string, Buffer>> {
  return {
    'crop + resize + JPEG q70': await sharp(bytes).extract({ left: 51, top: 26, width: 410, height: 410 }).resize(300).jpeg({ quality: 70 }).toBuffer(),
    'darker (brightness 0.6)': await sharp(bytes).modulate({ brightness: 0.6 }).jpeg({ quality: 80 }).toBuffer(),
    'brighter (brightness 1.3)': await sharp(bytes).modulate({ brightness: 1.3 }).jpeg({ quality: 80 }).toBuffer(),
  };
}

describe('similarity → matchConfidence', () => {
  it('is the documented logistic: 0.5 at cosine 0.50, 0.8 at 0.55, monotonic, within [0, 1]', () => {
    expect(similarityToConfidence(0.5)).toBe(0.5);
    expect(similarityToConfidence(0.55)).toBeCloseTo(0.8, 3);
    let previous = -1;
    for (let c = -1; c <= 1; c += 0.01) {
      const v = similarityToConfidence(c);
      expect(v).toBeGreaterThanOrEqual(previous);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      previous = v;
    }
    expect(similarityToConfidence(0.37)).toBeLessThan(0.05); // typical different-person cosine
    expect(similarityToConfidence(0.66)).toBeGreaterThan(0.95); // typical different photos of one person
  });

  it('cosine similarity ignores scale and rejects mismatched embeddings', () => {
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 0], [-1, 0])).toBe(-1);
    expect(() => cosineSimilarity([1], [1, 2])).toThrow();
  });
});

describe('VisionDecisionEngine (fake analyses)', () => {
  const session = (over: Partial<Session> = {}): Session => ({
    kind: 'livenessWithVerify', apiVersion: 'v1.2', maxAttempts: 3, isAbuseMonitoringEnabled: false,
    sessionId: 's1', authToken: 't', livenessOperationMode: 'Passive', modelVersion: 'm', deviceCorrelationId: 'd1',
    deviceCorrelationIdSetInClient: false, authTokenTimeToLiveInSeconds: 600, enableSessionImage: false,
    returnVerifyImageHash: false, verifyConfidenceThreshold: 0.5, createdAtMs: 0, status: 'NotStarted',
    verifyReferences: [], attempts: [], sessionImageIds: [], deleted: false, verifyEmbedding: [1, 0, 0], ...over,
  });
  const attempt = (embedding?: number[]): AttemptInput => {
    const analysis: ImageAnalysis = {
      decodable: true,
      faces: embedding ? [{ rect: { top: 0, left: 0, width: 10, height: 10 }, quality: 'high', score: 1, embedding }] : [],
    };
    return { attemptId: 1, content: new Uint8Array(), metadata: '', analysis };
  };

  it('scores the capture against the verify embedding, realface by default', () => {
    const engine = new VisionDecisionEngine(new ScriptedDecisionEngine());
    expect(engine.decide(session(), attempt([2, 0, 0]))).toEqual({ livenessDecision: 'realface', matchConfidence: 1 });
    const orthogonal = engine.decide(session(), attempt([0, 1, 0]));
    expect(orthogonal.matchConfidence).toBeLessThan(0.01);
  });

  it('fails the attempt when the capture has no face', () => {
    const engine = new VisionDecisionEngine(new ScriptedDecisionEngine());
    expect(engine.decide(session(), attempt()).error).toEqual(NO_FACE_IN_CAPTURE);
  });

  it('lets scripts override field by field: session script beats device script', () => {
    const scripts = new ScriptedDecisionEngine();
    const engine = new VisionDecisionEngine(scripts);
    scripts.addScript({ deviceCorrelationId: 'd1', livenessDecision: 'spoofface' });
    expect(engine.decide(session(), attempt([1, 0, 0]))).toEqual({ livenessDecision: 'spoofface', matchConfidence: 1 });
    scripts.addScript({ sessionId: 's1', matchConfidence: 0.42 });
    expect(engine.decide(session(), attempt([1, 0, 0]))).toEqual({ livenessDecision: 'realface', matchConfidence: 0.42 });
    scripts.addScript({ sessionId: 's1', attemptError: { code: 'FaceWithMaskDetected', message: 'Mask detected on face image.' } });
    expect(engine.decide(session(), attempt([1, 0, 0])).error?.code).toBe('FaceWithMaskDetected');
  });
});

describe('FaceRes embeddings on the fixtures (in-process)', () => {
  let analyzer: MemoizingImageAnalyzer;
  beforeAll(async () => { analyzer = await createImageAnalyzer('human', { embeddings: true }); });

  async function embedding(bytes: Buffer): Promise<number[]> {
    const analysis = await analyzer.analyze(bytes);
    expect(analysis.faces).toHaveLength(1);
    const e = analysis.faces[0]!.embedding;
    expect(e).toBeDefined();
    return e!;
  }

  it('scores the same person above the app threshold and a different person below 0.5', async () => {
    const grace = await embedding(GRACE);
    const astronaut = await embedding(ASTRONAUT);
    for (const [variant, bytes] of Object.entries(await captureOf(GRACE))) {
      const score = similarityToConfidence(cosineSimilarity(grace, await embedding(bytes)));
      expect(score, `Grace Hopper vs ${variant}`).toBeGreaterThanOrEqual(APP_THRESHOLD);
      const other = similarityToConfidence(cosineSimilarity(astronaut, await embedding(bytes)));
      expect(other, `astronaut vs Grace Hopper ${variant}`).toBeLessThan(0.5);
    }
    for (const [variant, bytes] of Object.entries(await captureOf(ASTRONAUT))) {
      expect(similarityToConfidence(cosineSimilarity(astronaut, await embedding(bytes))), `astronaut vs ${variant}`).toBeGreaterThanOrEqual(APP_THRESHOLD);
    }
    expect(similarityToConfidence(cosineSimilarity(grace, astronaut))).toBeLessThan(0.5);
  });

  it('caches embeddings by SHA-256: the same bytes are embedded once', async () => {
    const misses = analyzer.misses;
    const a = await embedding(Buffer.from(GRACE));
    const b = await embedding(Buffer.from(GRACE));
    expect(a).toBe(b);
    expect(analyzer.misses - misses).toBeLessThanOrEqual(1);
  });
});

describe('vision emulator over HTTP', () => {
  const key = 'vision-key';
  let emulator: RunningFaceEmulator;
  beforeAll(async () => { emulator = await startFaceEmulator({ port: 0, apiKey: key, decisions: 'vision' }); });
  afterAll(async () => { await emulator?.close(); });

  async function create(verifyImage: Buffer, extra: Record<string, string> = {}): Promise<{ sessionId: string; authToken: string }> {
    const form = new FormData();
    form.append('livenessOperationMode', 'Passive');
    form.append('deviceCorrelationId', extra.deviceCorrelationId ?? 'vision-device');
    for (const [k, v] of Object.entries(extra)) if (k !== 'deviceCorrelationId') form.append(k, v);
    form.append('verifyImage', new Blob([new Uint8Array(verifyImage)]), 'verify.jpg');
    const res = await fetch(`${emulator.url}/face/v1.2/detectLivenessWithVerify-sessions`, { method: 'POST', headers: { 'ocp-apim-subscription-key': key }, body: form });
    expect(res.status).toBe(200);
    return await res.json() as { sessionId: string; authToken: string };
  }

  interface WireAttempt { attemptStatus: string; result?: { livenessDecision: string; verifyResult?: { matchConfidence: number; isIdentical: boolean } }; error?: { code: string } }
  async function attemptWith(verifyImage: Buffer, capture: Buffer, extra: Record<string, string> = {}): Promise<WireAttempt> {
    const session = await create(verifyImage, extra);
    expect((await performDeviceAttempt(emulator.url, session.authToken, capture)).status).toBe(204);
    const res = await fetch(`${emulator.url}/face/v1.2/detectLivenessWithVerify-sessions/${session.sessionId}`, { headers: { 'ocp-apim-subscription-key': key } });
    expect(res.status).toBe(200);
    const body = await res.json() as { results: { attempts: WireAttempt[] } };
    return body.results.attempts[0]!;
  }

  it('reports vision decisions in health', async () => {
    const health = await (await fetch(`${emulator.url}/emulator/health`)).json() as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', decisionEngine: 'vision', engine: 'human-blazeface-facemesh-faceres-wasm' });
  });

  it('passes the same person: verify image Grace Hopper, capture a cropped, re-encoded Grace Hopper', async () => {
    const capture = (await captureOf(GRACE))['crop + resize + JPEG q70']!;
    const attempt = await attemptWith(GRACE, capture);
    expect(attempt.attemptStatus).toBe('Succeeded');
    expect(attempt.result?.livenessDecision).toBe('realface');
    expect(attempt.result?.verifyResult?.matchConfidence).toBeGreaterThanOrEqual(APP_THRESHOLD);
    expect(attempt.result?.verifyResult?.isIdentical).toBe(true);
  });

  it('fails a different person: verify image Grace Hopper, capture the astronaut', async () => {
    const attempt = await attemptWith(GRACE, ASTRONAUT);
    expect(attempt.attemptStatus).toBe('Succeeded');
    expect(attempt.result?.verifyResult?.matchConfidence).toBeLessThan(0.5);
    expect(attempt.result?.verifyResult?.isIdentical).toBe(false);
  });

  it('applies verifyConfidenceThreshold to the vision score', async () => {
    // A different person (cosine ≈ 0.38, confidence ≈ 0.03) counts as identical only under a near-zero threshold.
    const attempt = await attemptWith(GRACE, ASTRONAUT, { verifyConfidenceThreshold: '0.001' });
    expect(attempt.result?.verifyResult?.matchConfidence).toBeLessThan(0.5);
    expect(attempt.result?.verifyResult?.isIdentical).toBe(true);
  });

  it('fails the attempt with NoFaceDetected when the capture has no face', async () => {
    const attempt = await attemptWith(GRACE, COFFEE);
    expect(attempt.attemptStatus).toBe('Failed');
    expect(attempt.error?.code).toBe(NO_FACE_IN_CAPTURE.code);
  });

  it('a per-session script still overrides the vision score and liveness', async () => {
    const session = await create(GRACE, { deviceCorrelationId: 'vision-scripted' });
    const script = await fetch(`${emulator.url}/emulator/scripts`, {
      method: 'POST', headers: { 'ocp-apim-subscription-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: session.sessionId, livenessDecision: 'spoofface', matchConfidence: 0.3 }),
    });
    expect(script.status).toBe(201);
    expect((await performDeviceAttempt(emulator.url, session.authToken, GRACE)).status).toBe(204);
    const got = await (await fetch(`${emulator.url}/face/v1.2/detectLivenessWithVerify-sessions/${session.sessionId}`, { headers: { 'ocp-apim-subscription-key': key } })).json() as { results: { attempts: WireAttempt[] } };
    expect(got.results.attempts[0]!.result).toMatchObject({ livenessDecision: 'spoofface', verifyResult: { matchConfidence: 0.3, isIdentical: false } });
  });
});

describe('decision mode selection', () => {
  it('startFaceEmulator stays scripted by default and refuses vision without embeddings', async () => {
    const scripted = await startFaceEmulator({ port: 0, apiKey: 'k', engine: 'stub' });
    try {
      expect(await (await fetch(`${scripted.url}/emulator/health`)).json()).toMatchObject({ decisionEngine: 'scripted' });
    } finally {
      await scripted.close();
    }
    await expect(startFaceEmulator({ port: 0, apiKey: 'k', engine: 'stub', decisions: 'vision' })).rejects.toThrow(/human engine/);
  });
});
