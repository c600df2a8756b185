// Face answers are parsed with schemas: what does not fit is a FaceAnswerInvalidError (a Face failure), never data.
import { describe, expect, it } from 'vitest';
import { createdSessionSchema, parseFaceAnswer, sessionStateSchema } from '../../src/adapters/face/face-answers.js';
import { FaceAnswerInvalidError, FaceUnavailableError } from '../../src/core/errors.js';

const SESSION = '0b5f8ad5-8a0b-4a3d-9d7e-5c1f3a2b4c6d';
const attempt = (patch: Record<string, unknown> = {}, result: Record<string, unknown> = {}) => ({
  attemptId: 1,
  attemptStatus: 'Succeeded',
  result: {
    livenessDecision: 'realface', digest: 'A'.repeat(64), sessionImageId: 'img-1', verifyImageHash: 'B'.repeat(64),
    targets: { color: { faceRectangle: { top: 1, left: 2, width: 30, height: 40 } } },
    verifyResult: { matchConfidence: 0.91, isIdentical: true },
    ...result,
  },
  ...patch,
});
const state = (attempts: unknown[], patch: Record<string, unknown> = {}) => ({ sessionId: SESSION, status: 'Succeeded', modelVersion: '2024-11-15', results: { attempts, verifyReferences: [] }, ...patch });

describe('Face answer schemas', () => {
  it('accepts a well-formed session (the spec example\'s "realFace" spelling too)', () => {
    const parsed = parseFaceAnswer(sessionStateSchema, state([attempt(), attempt({ attemptId: 2 }, { livenessDecision: 'realFace' })]), 'get');
    expect(parsed.results?.attempts).toHaveLength(2);
    expect(parsed.results?.attempts?.[1]?.result?.livenessDecision).toBe('realFace');
  });

  it.each([
    ['attemptId with a path', attempt({ attemptId: '../x' })],
    ['attemptId 0', attempt({ attemptId: 0 })],
    ['attemptId fractional', attempt({ attemptId: 1.5 })],
    ['attemptId negative', attempt({ attemptId: -1 })],
    ['matchConfidence true', attempt({}, { verifyResult: { matchConfidence: true, isIdentical: true } })],
    ['matchConfidence above 1', attempt({}, { verifyResult: { matchConfidence: 1.5, isIdentical: true } })],
    ['matchConfidence as text', attempt({}, { verifyResult: { matchConfidence: '0.99', isIdentical: true } })],
    ['unknown decision', attempt({}, { livenessDecision: 'probablyreal' })],
    ['unknown attempt status', attempt({ attemptStatus: 'Done' })],
    ['sessionImageId with a path', attempt({}, { sessionImageId: '../../other' })],
    ['digest with spaces', attempt({}, { digest: 'a b' })],
    ['huge digest', attempt({}, { digest: 'A'.repeat(10_000) })],
    ['verifyImageHash not hex', attempt({}, { verifyImageHash: 'zz'.repeat(32) })],
  ])('refuses %s as a Face failure', (_name, bad) => {
    let error: unknown;
    try { parseFaceAnswer(sessionStateSchema, state([bad]), 'get'); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(FaceAnswerInvalidError);
    expect(error).toBeInstanceOf(FaceUnavailableError); // so it is retried and answered like any Face failure
    expect((error as Error).message).not.toContain('../');
  });

  it.each([
    ['an unknown session status', state([], { status: 'Whatever' })],
    ['a session id that is not a GUID', state([], { sessionId: '../sessions' })],
    ['no body', undefined],
  ])('refuses a session with %s', (_name, body) => {
    expect(() => parseFaceAnswer(sessionStateSchema, body, 'get')).toThrow(FaceAnswerInvalidError);
  });

  it('a created session needs a GUID id and a bounded token', () => {
    expect(parseFaceAnswer(createdSessionSchema, { sessionId: SESSION, authToken: 'eyJ.abc.def' }, 'create').sessionId).toBe(SESSION);
    expect(() => parseFaceAnswer(createdSessionSchema, { sessionId: SESSION, authToken: 'a b' }, 'create')).toThrow(FaceAnswerInvalidError);
    expect(() => parseFaceAnswer(createdSessionSchema, { sessionId: 42, authToken: 'x' }, 'create')).toThrow(FaceAnswerInvalidError);
    expect(() => parseFaceAnswer(createdSessionSchema, { sessionId: SESSION, authToken: 'x'.repeat(9000) }, 'create')).toThrow(FaceAnswerInvalidError);
  });
});
