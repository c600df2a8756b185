// The subject rules of the core, in process with in-memory fakes: consent before anything is read or stored, an
// enrolled reference that cannot be swapped, review settlement, erasure (complete, idempotent, resumable after a
// crash, by a repeat call or the sweep) with its receipt, and the relying-party events.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { subjectKeyer } from '../../src/adapters/storage/table-subject-store.js';
import { deviceOutcome } from '../../src/core/decision.js';
import { eraseSubject, resumeErasures } from '../../src/core/erase-subject.js';
import { settleReview } from '../../src/core/review.js';
import type { LivenessSession } from '../../src/core/session.js';
import { startSession } from '../../src/core/start-session.js';
import { privacyNotice } from '../../src/core/consent.js';
import { enrolReference, promoteReference } from '../../src/core/references.js';
import { exportSubject } from '../../src/core/subject-export.js';
import { linkedExport } from '../../src/functions/subjects.js';
import { subjectFakes, type SubjectFakes } from '../fakes/subjects-memory.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const face = readFileSync(path.join(here, '../fixtures/images/face-grace-hopper.jpg'));
const other = readFileSync(path.join(here, '../fixtures/images/face-astronaut.png'));
const notAnImage = Buffer.from('not an image '.repeat(200));

const start = (f: SubjectFakes, subject: string, verifyImage?: Uint8Array, fields: Record<string, unknown> = { consentVersion: 'v2' }) =>
  startSession(f.deps, { caller: { subject }, fields, verifyImage });

/** A session the policy sent to review (as a collection would leave it). */
async function inReview(f: SubjectFakes, subject: string): Promise<LivenessSession> {
  const started = await start(f, subject, face);
  return (await f.sessions.mutate(started.sessionId, (s) => ({
    ...s, status: 'ResultAvailable',
    decision: {
      outcome: 'review', reasons: ['MatchConfidenceInReviewBand'], matchConfidence: 0.7, attemptId: 1, verifyImageHashMatches: true,
      policyVersion: 'p1', decidedDateTime: '2026-03-01T10:01:00.000Z',
    },
  })))!;
}

describe('subject keys', () => {
  it('are keyed hashes: stable per secret, different across secrets, never the subject itself', () => {
    const a = subjectKeyer('secret-number-one');
    const b = subjectKeyer('secret-number-two');
    expect(a('alice')).toMatch(/^[0-9a-f]{64}$/);
    expect(a('alice')).toBe(a('alice'));
    expect(a('alice')).not.toBe(b('alice'));
    expect(a('alice')).not.toBe(a('alice '));
    expect(a('alice')).not.toContain('alice');
  });
});

describe('consent', () => {
  it.each([
    ['missing', {}],
    ['an old version', { consentVersion: 'v1' }],
    ['an unknown version', { consentVersion: 'v3' }],
  ])('%s: 400 ConsentRequired before the image is looked at, nothing stored, no Face call', async (_name, fields) => {
    const f = subjectFakes();
    await expect(start(f, 'alice', notAnImage, fields)).rejects.toMatchObject({ code: 'ConsentRequired' });
    expect(f.images.puts).toBe(0);
    expect(f.sessions.rows.size).toBe(0);
    expect(f.subjects.records.size).toBe(0);
    expect(f.face.creates).toBe(0);
  });

  it('records the version and time with the subject and the session; off by setting', async () => {
    const f = subjectFakes();
    const started = await start(f, 'alice', face);
    const key = f.subjects.keyOf('alice');
    expect(await f.subjects.listConsents(key)).toEqual([{ version: 'v2', givenDateTime: '2026-03-01T10:00:00.000Z' }]);
    expect((await f.sessions.get(started.sessionId))?.consentVersion).toBe('v2');
    const off = subjectFakes({ privacy: { ...f.deps.settings.privacy, consentRequired: false } });
    await expect(start(off, 'bob', face, {})).resolves.toMatchObject({ sessionId: expect.any(String) });
  });

  it('publishes the versions and the retention schedule from the settings', () => {
    const notice = privacyNotice(subjectFakes({ imageRetentionHours: 6, recordRetentionDays: 14 }).deps.settings);
    expect(notice.consent).toMatchObject({ required: true, currentVersion: 'v2' });
    expect(notice.retention.find((r) => r.data === 'verifyAndSessionImages')).toMatchObject({ hoursAfterTokenExpiry: 6 });
    expect(notice.retention.find((r) => r.data === 'sessionRecords')).toMatchObject({ daysAfterTokenExpiry: 14 });
  });
});

describe('enrolled references', () => {
  it('a create without an image verifies against the reference: its bytes go to Face, its hash is stored', async () => {
    const f = subjectFakes();
    const key = f.subjects.keyOf('alice');
    const reference = await enrolReference(f.deps, key, face, 'admin-key');
    const started = await start(f, 'alice');
    const session = (await f.sessions.get(started.sessionId))!;
    expect(session.reference).toEqual({ referenceId: reference.referenceId, sha256: reference.sha256 });
    expect(session.storedVerifyImage.sha256).toBe(reference.sha256);
    const sent = f.face.sessions.get(session.faceSessionId!)!;
    expect(Buffer.from(sent.verifyImage.bytes).equals(face)).toBe(true);
  });

  it('refuses a device image while one is enrolled (ReferenceEnrolled), before anything is stored', async () => {
    const f = subjectFakes();
    await enrolReference(f.deps, f.subjects.keyOf('alice'), face, 'admin-key');
    const putsBefore = f.images.puts;
    await expect(start(f, 'alice', other)).rejects.toMatchObject({ code: 'ReferenceEnrolled' });
    expect(f.images.puts).toBe(putsBefore);
    expect(f.face.creates).toBe(0);
  });

  it('without an enrolled reference, the setting decides whether a device may bring one', async () => {
    const f = subjectFakes();
    await expect(start(f, 'alice')).rejects.toMatchObject({ code: 'MissingVerifyImage' });
    const strict = subjectFakes({ privacy: { ...f.deps.settings.privacy, deviceReferenceAllowed: false } });
    await expect(start(strict, 'alice', face)).rejects.toMatchObject({ code: 'DeviceReferenceNotAllowed' });
    await expect(start(strict, 'alice')).rejects.toMatchObject({ code: 'ReferenceRequired' });
    await enrolReference(strict.deps, strict.subjects.keyOf('alice'), face, 'admin-key');
    await expect(start(strict, 'alice')).resolves.toMatchObject({ sessionId: expect.any(String) });
  });

  it('refuses enrolment of bytes that are no image, and promotion of a session that did not pass', async () => {
    const f = subjectFakes();
    const key = f.subjects.keyOf('alice');
    await expect(enrolReference(f.deps, key, notAnImage, 'admin-key')).rejects.toMatchObject({ code: 'InvalidImageFormat' });
    const session = await inReview(f, 'alice');
    await expect(promoteReference(f.deps, key, session.sessionId, 'admin-key')).rejects.toMatchObject({ code: 'SessionNotPassed' });
    await settleReview(f.deps, session.sessionId, { outcome: 'pass', reason: 'ok' }, 'reviewer-1');
    const promoted = await promoteReference(f.deps, key, session.sessionId, 'reviewer-1');
    expect(promoted).toMatchObject({ source: 'session', sourceSessionId: session.sessionId, sha256: session.storedVerifyImage.sha256 });
    await expect(promoteReference(f.deps, f.subjects.keyOf('mallory'), session.sessionId, 'x')).rejects.toMatchObject({ code: 'SessionNotFound' });
  });
});

describe('the export', () => {
  it('the core names the images; the HTTP edge links them on the route the caller used, and no name reaches a URL unescaped', async () => {
    const f = subjectFakes();
    const key = f.subjects.keyOf('alice');
    const session = await inReview(f, 'alice');
    await enrolReference(f.deps, key, face, 'admin-key');
    const exported = await exportSubject(f.deps, key);
    expect(JSON.stringify(exported)).not.toContain('/api/');
    expect(exported.reference?.image.name).toMatch(new RegExp(`^references/${key}/`));
    expect(exported.sessions[0]!.images[0]).toMatchObject({ kind: 'verify', name: session.storedVerifyImage.blobName });

    const viaEntra = linkedExport(exported, `https://app.example/api/backoffice/subjects/${key}`);
    const viaKey = linkedExport(exported, `http://localhost:7071/api/subjects/${key}/`);
    const expected = (base: string, name: string) => `${base}/subjects/${key}/images?name=${encodeURIComponent(name)}`;
    expect(viaEntra.reference?.image).toEqual({ href: expected('/api/backoffice', exported.reference!.image.name), contentType: exported.reference!.image.contentType });
    expect(viaKey.sessions[0]!.images[0]).toMatchObject({ kind: 'verify', href: expected('/api', session.storedVerifyImage.blobName) });
    expect(viaKey.sessions[0]!.images[0]).not.toHaveProperty('name');
    expect(viaKey.sessions[0]!.images[0]!.href).toContain('%2F'); // blob names have slashes: escaped into the query
  });
});

describe('review decisions', () => {
  it('records the human decision next to the automated one; the device follows; twice is a 409', async () => {
    const f = subjectFakes();
    const session = await inReview(f, 'alice');
    expect(deviceOutcome(session)).toBe('pending');
    expect((await f.sessions.listAwaitingReview(10)).items.map((s) => s.sessionId)).toEqual([session.sessionId]);
    f.clock.at = new Date('2026-03-01T11:00:00.000Z');
    const view = await settleReview(f.deps, session.sessionId, { outcome: 'fail', reason: 'Different person.' }, 'object-id-1');
    expect(view).toMatchObject({
      decision: { outcome: 'review', matchConfidence: 0.7 },
      review: { outcome: 'fail', reason: 'Different person.', reviewer: 'object-id-1', reviewedDateTime: '2026-03-01T11:00:00.000Z' },
      reviewRequired: false,
    });
    expect(deviceOutcome((await f.sessions.get(session.sessionId))!)).toBe('fail');
    expect((await f.sessions.listAwaitingReview(10)).items).toEqual([]);
    await expect(settleReview(f.deps, session.sessionId, { outcome: 'pass', reason: 'again' }, 'x')).rejects.toMatchObject({ code: 'ReviewAlreadySettled' });
    const plain = await start(f, 'alice', face);
    await expect(settleReview(f.deps, plain.sessionId, { outcome: 'pass', reason: 'x' }, 'x')).rejects.toMatchObject({ code: 'NotAwaitingReview' });
  });

  it("publishes 'liveness.review.settled' without scores, images or tokens", async () => {
    const f = subjectFakes();
    const session = await inReview(f, 'alice');
    await settleReview(f.deps, session.sessionId, { outcome: 'pass', reason: 'ok' }, 'object-id-1');
    expect(f.events.events).toEqual([{
      id: expect.stringMatching(/^evt_[0-9a-f-]{36}$/),
      type: 'liveness.review.settled',
      timestamp: '2026-03-01T10:00:00.000Z',
      data: {
        sessionId: session.sessionId, subject: 'alice', outcome: 'pass', reasons: ['Review:pass', 'MatchConfidenceInReviewBand'],
        reviewedDateTime: '2026-03-01T10:00:00.000Z', decidedDateTime: '2026-03-01T10:00:00.000Z', policyVersion: 'p1',
      },
    }]);
    expect(JSON.stringify(f.events.events)).not.toMatch(/"matchConfidence"|authToken|0\.7|sha256/i);
    // No event queue wired: the use case works the same.
    const quiet = subjectFakes();
    delete quiet.deps.events;
    const s2 = await inReview(quiet, 'bob');
    await expect(settleReview(quiet.deps, s2.sessionId, { outcome: 'pass', reason: 'ok' }, 'x')).resolves.toBeDefined();
  });
});

describe('erasure', () => {
  async function populated(f: SubjectFakes, subject: string) {
    const key = f.subjects.keyOf(subject);
    const a = await start(f, subject, face);
    const b = await inReview(f, subject);
    const c = await start(f, subject, other);
    await f.audit.upsert([{ id: 1, sessionId: b.sessionId, attemptStatus: 'Succeeded', response: { body: {} }, collectedDateTime: '2026-03-01T10:01:00.000Z' }]);
    f.records.limits.seed({ kind: 'subject', id: key, subjectKey: key }, { kind: 'subject', failures: [1] });
    f.records.limits.seed({ kind: 'device', id: 'phone', subjectKey: key }, { kind: 'device', failures: [1] });
    f.records.quotas.seed({ subjectKey: key }, { open: [], creates: [1] });
    f.records.idempotencyKeys.seed({ subjectKey: key, key: 'k' }, { requestHash: 'h', state: 'done', sessionId: a.sessionId, createdDateTime: '2026-03-01T10:00:00.000Z' });
    return { key, ids: [a.sessionId, b.sessionId, c.sessionId] };
  }

  it('deletes everything of the subject, leaves a receipt, publishes once; a repeat call answers the same receipt', async () => {
    const f = subjectFakes();
    const { key, ids } = await populated(f, 'alice');
    await enrolReference(f.deps, key, other, 'admin-key');
    const bystander = await start(f, 'bob', face);
    const receipt = await eraseSubject(f.deps, key, 'object-id-9');
    expect(receipt).toMatchObject({
      subjectKey: key, requestedBy: 'object-id-9',
      deleted: { sessions: 3, faceSessions: 3, images: 3, auditEntries: 1, references: 1, consents: 1, lockouts: 2, quotas: 1, idempotencyKeys: 1 },
    });
    for (const id of ids) expect(await f.sessions.get(id)).toBeUndefined();
    expect(f.face.sessions.size).toBe(1); // bob's
    expect([...f.images.blobs.keys()]).toEqual([(await f.sessions.get(bystander.sessionId))!.storedVerifyImage.blobName]);
    expect(f.subjects.records.has(key)).toBe(false);
    expect(f.subjects.erasing.size).toBe(0);
    expect(JSON.stringify(receipt)).not.toContain('alice');
    expect(f.events.events.map((e) => e.type)).toEqual(['liveness.subject.erased']);
    expect(f.events.events[0]!.data).toMatchObject({ subjectKey: key, receiptId: receipt.receiptId, deleted: receipt.deleted });

    const again = await eraseSubject(f.deps, key, 'object-id-9');
    expect(again).toEqual(receipt);
    expect(await f.subjects.listReceipts(key)).toHaveLength(1);
    expect((await exportSubject(f.deps, key)).sessions).toEqual([]);
  });

  it('refuses new sessions and enrolments while erasing; an interrupted erasure is finished by a repeat call with all counts', async () => {
    const f = subjectFakes();
    const { key, ids } = await populated(f, 'alice');
    f.face.failDeleteAfter = 1; // the host "dies" at the second Face delete
    await expect(eraseSubject(f.deps, key, 'admin-key')).rejects.toThrow('host died');
    expect(f.subjects.records.get(key)?.erasure?.counts).toMatchObject({ sessions: 1 });
    expect((await Promise.all(ids.map((id) => f.sessions.get(id)))).filter(Boolean)).toHaveLength(2);
    await expect(start(f, 'alice', face)).rejects.toMatchObject({ code: 'SubjectErasing' });
    await expect(enrolReference(f.deps, key, face, 'admin-key')).rejects.toMatchObject({ code: 'SubjectErasing' });
    f.face.failDeleteAfter = undefined;
    const receipt = await eraseSubject(f.deps, key, 'someone-else');
    expect(receipt.deleted).toMatchObject({ sessions: 3, faceSessions: 3 });
    expect(receipt.requestedBy).toBe('admin-key'); // the erasure that was asked for first
    for (const id of ids) expect(await f.sessions.get(id)).toBeUndefined();
  });

  it('the sweep finishes an interrupted erasure', async () => {
    const f = subjectFakes();
    const { key, ids } = await populated(f, 'alice');
    f.face.failDeleteAfter = 0;
    await expect(eraseSubject(f.deps, key, 'admin-key')).rejects.toThrow('host died');
    f.face.failDeleteAfter = undefined;
    expect(await resumeErasures(f.deps)).toBe(1);
    for (const id of ids) expect(await f.sessions.get(id)).toBeUndefined();
    expect(f.subjects.records.has(key)).toBe(false);
    expect(await f.subjects.listReceipts(key)).toEqual([expect.objectContaining({ deleted: expect.objectContaining({ sessions: 3 }) })]);
    expect(await resumeErasures(f.deps)).toBe(0);
  });
});
