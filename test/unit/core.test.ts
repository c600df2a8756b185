// Pure rules of the domain core and the edge: the decision policy, retention times, image checks, config parsing,
// log redaction. No network, no storage.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, parseConfig } from '../../src/config/config.js';
import { decide, deviceOutcome, policyVersion } from '../../src/core/decision.js';
import { nextSweepTime } from '../../src/core/retention.js';
import type { AuditEntry, LivenessSession } from '../../src/core/session.js';
import { checkVerifyImage } from '../../src/core/verify-image.js';
import { redactFields, redactText } from '../../src/shared/logger.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => readFileSync(path.join(here, '../fixtures/images', name));
const HASH = 'A'.repeat(64);

function session(overrides: Partial<LivenessSession> = {}): LivenessSession {
  return {
    sessionId: '11111111-1111-4111-8111-111111111111', createdDateTime: '2026-01-01T00:00:00.000Z',
    authTokenTimeToLiveInSeconds: 600, authTokenExpiresDateTime: '2026-01-01T00:10:00.000Z', livenessOperationMode: 'Passive',
    enableSessionImage: false, status: 'Started', verifyImage: {}, subject: 'alice',
    storedVerifyImage: { blobName: 'b', contentType: 'image/jpeg', sizeInBytes: 2000, sha256: HASH },
    faceSessionDeleted: false, imagesDeleted: false, sessionImageBlobs: [], deleting: false, ...overrides,
  };
}

function entry(body: AuditEntry['response']['body'], overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { id: 2, sessionId: 's', attemptStatus: 'Succeeded', digest: 'D'.repeat(64), verifyImageHash: HASH, response: { body }, collectedDateTime: '2026-01-01T00:01:00.000Z', ...overrides };
}

const policy = { matchThreshold: 0.8, reviewLowerBound: 0.6 };
const now = new Date('2026-01-01T00:02:00.000Z');
const real = (matchConfidence: number) => ({ livenessDecision: 'realface', modelVersionUsed: 'm1', verifyResult: { matchConfidence, isIdentical: matchConfidence >= 0.5, verifyImage: {} } });

describe('decision policy', () => {
  it.each([
    [real(0.95), 'pass', []],
    [real(0.8), 'pass', []],
    [real(0.7), 'review', ['MatchConfidenceInReviewBand']],
    [real(0.3), 'fail', ['MatchConfidenceBelowThreshold']],
    [{ ...real(0.95), livenessDecision: 'spoofface' }, 'fail', ['Liveness:spoofface']],
    [{ ...real(0.95), livenessDecision: 'uncertain' }, 'retry', ['LivenessUncertain']],
    [{ ...real(0.95), livenessDecision: 'realFace' }, 'pass', []], // the spec's own example spelling
    [{ livenessDecision: 'realface', modelVersionUsed: 'm1' }, 'fail', ['MatchConfidenceMissing']],
  ])('%j -> %s', (body, outcome, reasons) => {
    const d = decide(session(), entry(body), policy, now);
    expect(d).toMatchObject({ outcome, reasons, attemptId: 2, digest: 'D'.repeat(64), modelVersion: 'm1', verifyImageHashMatches: true });
  });

  it('binds the evidence: a missing or different verify image hash fails the check', () => {
    expect(decide(session(), entry(real(0.99), { verifyImageHash: undefined }), policy, now)).toMatchObject({ outcome: 'fail', reasons: ['VerifyImageHashMissing'] });
    expect(decide(session(), entry(real(0.99), { verifyImageHash: 'B'.repeat(64) }), policy, now)).toMatchObject({ outcome: 'fail', reasons: ['VerifyImageHashMismatch'], verifyImageHashMatches: false });
    expect(decide(session(), entry(real(0.99), { verifyImageHash: HASH.toLowerCase() }), policy, now).outcome).toBe('pass');
  });

  it('asks for a retry when the attempt itself failed', () => {
    const d = decide(session(), entry({ error: { code: 'FaceWithMaskDetected', message: 'm' } }, { attemptStatus: 'Failed' }), policy, now);
    expect(d).toMatchObject({ outcome: 'retry', reasons: ['AttemptFailed:FaceWithMaskDetected'] });
  });

  it('versions the policy by its settings unless a version is given', () => {
    expect(policyVersion(policy)).toBe(policyVersion({ ...policy }));
    expect(policyVersion(policy)).not.toBe(policyVersion({ ...policy, matchThreshold: 0.81 }));
    expect(policyVersion({ ...policy, version: '2026-01' })).toBe('2026-01');
  });

  it('tells the device only pending, pass, fail or retry', () => {
    const base = decide(session(), entry(real(0.9)), policy, now);
    const decided = (outcome: 'pass' | 'fail' | 'review' | 'retry') => session({ status: 'ResultAvailable', decision: { ...base, outcome } });
    expect(deviceOutcome(session({ status: 'NotStarted' }))).toBe('pending');
    expect(deviceOutcome(decided('pass'))).toBe('pass');
    expect(deviceOutcome(decided('fail'))).toBe('fail');
    expect(deviceOutcome(decided('review'))).toBe('pending');
    expect(deviceOutcome(decided('retry'))).toBe('retry');
    expect(deviceOutcome(session({ status: 'Expired' }))).toBe('retry');
  });
});

describe('retention', () => {
  const retention = { imageRetentionHours: 2, recordRetentionDays: 30, eventRecoverySeconds: 60 };
  it('looks first at token expiry, then at image retention, then at record retention', () => {
    expect(nextSweepTime(session(), retention)?.toISOString()).toBe('2026-01-01T00:10:00.000Z');
    expect(nextSweepTime(session({ faceSessionDeleted: true }), retention)?.toISOString()).toBe('2026-01-01T02:10:00.000Z');
    expect(nextSweepTime(session({ faceSessionDeleted: true, imagesDeleted: true }), retention)?.toISOString()).toBe('2026-01-31T00:10:00.000Z');
  });
});

describe('verify image checks', () => {
  it('accepts real JPEG and PNG bytes whatever their name', async () => {
    expect(await checkVerifyImage(fixture('face-grace-hopper.jpg'))).toEqual({ contentType: 'image/jpeg', extension: 'jpg' });
    expect(await checkVerifyImage(fixture('face-astronaut.png'))).toEqual({ contentType: 'image/png', extension: 'png' });
  });
  it('refuses too small, too large and non-image bytes', async () => {
    await expect(checkVerifyImage(new Uint8Array(1023))).rejects.toMatchObject({ code: 'InvalidImageSize' });
    await expect(checkVerifyImage(new Uint8Array(6 * 1024 * 1024 + 1))).rejects.toMatchObject({ code: 'InvalidImageSize' });
    await expect(checkVerifyImage(Buffer.from('%PDF-1.7 '.repeat(200)))).rejects.toMatchObject({ code: 'InvalidImageFormat' });
  });
});

describe('configuration', () => {
  const minimal = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true', FACE_ENDPOINT: 'https://face.example.com',
    DEVICE_AUTH_ISSUER: 'https://login.example.com', DEVICE_AUTH_AUDIENCE: 'api://x',
  };
  it('parses a minimal local configuration with defaults', () => {
    const c = parseConfig(minimal);
    expect(c.storage).toEqual({ kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' });
    expect(c.liveness).toMatchObject({ authTokenTtlSeconds: 600, operationMode: 'Passive', recordRetentionDays: 30 });
    expect(c.names).toEqual({
      sweepSchedule: '0 */5 * * * *', tablePrefix: '', container: 'liveness-images', completionQueue: 'liveness-completions', webhookQueue: 'liveness-completions-webhooks',
    });
    expect(c.webhooks).toMatchObject({ secrets: [], retry: { retryWindowSeconds: 86_400 } });
    expect(c.liveness.eventsIncludeScores).toBe(false);
    expect(c.webhooks.url).toBeUndefined();
    expect(c.auth.backOffice).toBeUndefined();
  });
  it('uses identity-based storage settings when there is no connection string', () => {
    const { AzureWebJobsStorage: _cs, ...rest } = minimal;
    const c = parseConfig({
      ...rest, AzureWebJobsStorage__blobServiceUri: 'https://s.blob.core.windows.net', AzureWebJobsStorage__queueServiceUri: 'https://s.queue.core.windows.net',
      AzureWebJobsStorage__tableServiceUri: 'https://s.table.core.windows.net', AzureWebJobsStorage__clientId: 'cid',
    });
    expect(c.storage).toMatchObject({ kind: 'identity', clientId: 'cid' });
    expect(c.face.clientId).toBe('cid');
  });
  it('names every missing or malformed setting', () => {
    let error: ConfigurationError | undefined;
    try {
      parseConfig({ AzureWebJobsStorage: 'x', FACE_ENDPOINT: 'not a url', LIVENESS_AUTH_TOKEN_TTL_SECONDS: '5', LIVENESS_COMPLETION_QUEUE: 'Bad_Name' });
    } catch (e) {
      error = e as ConfigurationError;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    for (const name of ['FACE_ENDPOINT', 'LIVENESS_AUTH_TOKEN_TTL_SECONDS', 'LIVENESS_COMPLETION_QUEUE', 'DEVICE_AUTH_ISSUER', 'DEVICE_AUTH_AUDIENCE']) {
      expect(error!.message).toContain(name);
    }
  });
  it('refuses a review band above the threshold and half a back-office setup', () => {
    expect(() => parseConfig({ ...minimal, DECISION_REVIEW_LOWER_BOUND: '0.9' })).toThrow(/DECISION_REVIEW_LOWER_BOUND/);
    expect(() => parseConfig({ ...minimal, BACKOFFICE_AUTH_ISSUER: 'https://login.example.com' })).toThrow(/BACKOFFICE_AUTH_AUDIENCE/);
  });
});

describe('log redaction', () => {
  it('removes tokens, keys and bytes', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    expect(redactText(`token ${jwt} end`)).toBe('token [redacted-jwt] end');
    expect(redactText('AccountKey=abc123==;BlobEndpoint=x')).toBe('AccountKey=[redacted];BlobEndpoint=x');
    expect(redactText('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
    expect(redactFields({ authToken: 'x', apiKey: 'y', image: new Uint8Array(3), sessionId: 's' })).toEqual({ authToken: '[redacted]', apiKey: '[redacted]', image: '[redacted]', sessionId: 's' });
    expect(redactFields({ payload: new Uint8Array(5) })).toEqual({ payload: '[5 bytes]' });
  });
});
