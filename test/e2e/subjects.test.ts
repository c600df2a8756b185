// Subjects end to end through the dev host, Azurite and the Face emulator: consent, enrolled references (upload and
// promotion), review decisions, export, and erasure (complete, with a receipt; interrupted by killing the host and
// finished by a repeat call or by the sweep).
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';
import { tableNames } from '../../src/adapters/storage/table-names.js';
import { subjectKeyer } from '../../src/adapters/storage/table-subject-store.js';
import { DEV_SUBJECT_KEY_SECRET } from '../../src/config/config.js';
import type { LivenessSession } from '../../src/core/session.js';
import {
  bearer, blobNames, CONSENT_VERSION, createSession, deviceToken, emulator, eventually, faceSessionIds, fixture, getJson,
  checkedFetch, sha256Upper, startForm, startStack, type CreatedSession, type Stack,
} from '../support/liveness.js';

const face = fixture('face-grace-hopper.jpg');
const otherFace = fixture('face-astronaut.png');
const capture = fixture('face-astronaut.png');
const MASTER_KEY = 'subjects-master-key';
const admin = { 'x-functions-key': MASTER_KEY };
const FACE_KEY = 'subjects-face-key';

let stack: Stack;
let privateFace: RunningFaceEmulator;

beforeAll(async () => {
  // A private emulator: the interrupted-erasure test slows its calls down, which must not reach other suites.
  privateFace = await startFaceEmulator({ port: 0, apiKey: FACE_KEY });
  stack = await startStack({
    DEVHOST_MASTER_KEY: MASTER_KEY,
    DECISION_REVIEW_LOWER_BOUND: '0.5',
    LIVENESS_MAX_OPEN_SESSIONS_PER_SUBJECT: '20',
    LIVENESS_MAX_CREATES_PER_SUBJECT: '50',
    ATTEMPT_LIMIT_MAX_FAILURES: '50',
  }, { endpoint: privateFace.url, key: FACE_KEY });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await privateFace?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const json = (body: unknown) => ({ ...admin, 'content-type': 'application/json', body: JSON.stringify(body) });
const post = (url: string, body: unknown) => { const { body: b, ...headers } = json(body); return getJson(url, { method: 'POST', headers, body: b }); };

async function subjectKeyOf(subject: string): Promise<string> {
  const res = await post(`${stack.api}/subject-keys`, { subject });
  expect(res.status).toBe(200);
  return res.body.subjectKey as string;
}

/** A device subject with its token and subject key. */
async function newSubject(label: string) {
  const subject = `${label}-${Math.random().toString(36).slice(2, 10)}`;
  return { subject, token: await deviceToken(subject), key: await subjectKeyOf(subject) };
}

async function enrol(key: string, image: Uint8Array) {
  const form = new FormData();
  form.set('referenceImage', new File([image], 'reference.jpg', { type: 'image/jpeg' }));
  return getJson(`${stack.api}/subjects/${key}/reference`, { method: 'PUT', headers: admin, body: form });
}

const createRaw = (token: string, form: FormData, headers: Record<string, string> = {}) =>
  getJson(`${stack.api}/liveness-sessions`, { method: 'POST', body: form, headers: { ...bearer(token), ...headers } });

async function script(created: CreatedSession, outcome: Record<string, unknown>) {
  expect((await emulator(stack, 'POST', '/emulator/scripts', { sessionId: created.faceSessionId, ...outcome })).status).toBe(201);
}

/** The device captures (scripted outcome) and completes; resolves with the stored session once it has a result. */
async function runCheck(created: CreatedSession, outcome: Record<string, unknown>): Promise<LivenessSession> {
  await script(created, outcome);
  expect((await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture)).status).toBeLessThan(300);
  expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/complete`, { method: 'POST', headers: bearer(created.deviceToken) })).status).toBe(202);
  return eventually(async () => {
    const s = await stack.repository.get(created.sessionId);
    return s?.decision ? s : undefined;
  }, `the decision of ${created.sessionId}`);
}

const deviceStatus = async (created: CreatedSession) =>
  (await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/status`, { headers: bearer(created.deviceToken) })).body.status as string;

const table = (name: string) => TableClient.fromConnectionString(inject('storageConnectionString'), name, { allowInsecureConnection: true });

/** Every row of every table of this stack that mentions one of `needles` (keys or values). */
async function rowsMentioning(needles: string[], except: string[] = []): Promise<string[]> {
  const found: string[] = [];
  for (const name of Object.values(tableNames(stack.prefix))) {
    if (except.includes(name)) continue;
    try {
      for await (const e of table(name).listEntities()) {
        const text = JSON.stringify(e);
        if (needles.some((n) => text.includes(n))) found.push(`${name}: ${text.slice(0, 200)}`);
      }
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error; // a table never created holds nothing
    }
  }
  return found;
}

async function subjectRecordRow(key: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await table(tableNames(stack.prefix).subjects).getEntity(key, 'subject');
  } catch {
    return undefined;
  }
}

async function fireSweep(): Promise<void> {
  const before = stack.logs().length;
  const res = await fetch(`${stack.api.replace(/\/api$/, '')}/admin/functions/liveness-sweep`, {
    method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: '{"input":""}',
  });
  expect(res.status).toBe(202);
  await eventually(async () => (/sweep finished/.test(stack.logs().slice(before)) ? true : undefined), 'the sweep to finish');
}

// ---------------------------------------------------------------------------------------------------------------

describe('privacy notice and consent', () => {
  it('publishes the consent versions and the retention schedule anonymously', async () => {
    const res = await getJson(`${stack.api}/privacy`);
    expect(res.status).toBe(200);
    expect(res.body.consent).toMatchObject({ required: true, currentVersion: CONSENT_VERSION });
    expect(res.body.consent.versions.map((v: { version: string }) => v.version)).toContain(CONSENT_VERSION);
    expect(res.body.retention.map((r: { data: string }) => r.data)).toEqual(expect.arrayContaining(['verifyAndSessionImages', 'sessionRecords', 'enrolledReference']));
  });

  it('refuses a create without the current consent (400 ConsentRequired) and stores nothing', async () => {
    const { token, key } = await newSubject('no-consent');
    const blobsBefore = (await blobNames(stack)).length;
    const faceBefore = (await faceSessionIds(stack)).size;
    const missing = await createRaw(token, startForm(face, {}, 'verify.jpg', { noConsent: true }));
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('ConsentRequired');
    const old = await createRaw(token, startForm(face, { consentVersion: '2020-01' }));
    expect(old.status).toBe(400);
    expect(old.body.error.code).toBe('ConsentRequired');
    // Consent is judged before the image is looked at: with bytes that are no image, the answer is still about consent.
    const notAnImage = Buffer.from('not an image '.repeat(200));
    for (const form of [startForm(notAnImage, { consentVersion: 'not-current' }), startForm(notAnImage, {}, 'x.jpg', { noConsent: true })]) {
      const res = await createRaw(token, form);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('ConsentRequired');
    }
    expect(await rowsMentioning([key])).toEqual([]);
    expect((await blobNames(stack)).length).toBe(blobsBefore);
    expect((await faceSessionIds(stack)).size).toBe(faceBefore);
  });

  it('keeps the consent the person gave with the subject and the session', async () => {
    const { token, key } = await newSubject('consent');
    const created = await createSession(stack, face, {}, token);
    expect((await stack.repository.get(created.sessionId))?.consentVersion).toBe(CONSENT_VERSION);
    const exported = await getJson(`${stack.api}/subjects/${key}`, { headers: admin });
    expect(exported.status).toBe(200);
    expect(exported.body.consents).toEqual([{ version: CONSENT_VERSION, givenDateTime: expect.any(String) }]);
  });
});

describe('enrolled references', () => {
  it('a check without an image passes against the enrolled reference; a device image is then refused', async () => {
    const { subject, token, key } = await newSubject('enrolled');
    expect(key).toBe(subjectKeyer(DEV_SUBJECT_KEY_SECRET)(subject)); // the dev stack uses the development secret
    const enrolled = await enrol(key, face);
    expect(enrolled.status).toBe(200);
    expect(enrolled.body).toMatchObject({ sha256: sha256Upper(face), source: 'upload', enrolledBy: 'admin-key', contentType: 'image/jpeg' });

    const refused = await createRaw(token, startForm(otherFace, {}, 'mine.png'));
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('ReferenceEnrolled');

    const res = await createRaw(token, startForm(undefined));
    expect(res.status).toBe(201);
    const stored = (await stack.repository.get(res.body.sessionId))!;
    expect(stored.reference).toEqual({ referenceId: enrolled.body.referenceId, sha256: sha256Upper(face) });
    expect(stored.storedVerifyImage.sha256).toBe(sha256Upper(face));
    const created: CreatedSession = { ...res.body, deviceToken: token, faceSessionId: stored.faceSessionId! };
    const decided = await runCheck(created, { livenessDecision: 'realface', matchConfidence: 0.95 });
    // Face compared against the enrolled reference's bytes: its hash binds the evidence to the reference.
    expect(decided.result?.verifyImageHash).toBe(sha256Upper(face));
    expect(decided.decision).toMatchObject({ outcome: 'pass', verifyImageHashMatches: true });
    expect(await deviceStatus(created)).toBe('pass');

    const session = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`, { headers: admin });
    expect(session.body.reference).toEqual({ referenceId: enrolled.body.referenceId, sha256: sha256Upper(face) });
  });

  it("promotes a passed session's verify image, replaces and removes the reference", async () => {
    const { token, key } = await newSubject('promote');
    const created = await createSession(stack, face, {}, token);
    await runCheck(created, { livenessDecision: 'realface', matchConfidence: 0.93 });
    const promoted = await post(`${stack.api}/subjects/${key}/reference/promote`, { sessionId: created.sessionId });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ source: 'session', sourceSessionId: created.sessionId, sha256: sha256Upper(face) });
    const other = await newSubject('promote-other');
    expect((await post(`${stack.api}/subjects/${other.key}/reference/promote`, { sessionId: created.sessionId })).status).toBe(404);

    const replaced = await enrol(key, otherFace);
    expect(replaced.status).toBe(200);
    const blobs = await blobNames(stack);
    expect(blobs.filter((b) => b.startsWith(`references/${key}/`))).toEqual([expect.stringContaining(replaced.body.referenceId)]);

    expect((await getJson(`${stack.api}/subjects/${key}/reference`, { method: 'DELETE', headers: admin })).status).toBe(204);
    expect((await blobNames(stack)).filter((b) => b.startsWith(`references/${key}/`))).toEqual([]);
    expect((await getJson(`${stack.api}/subjects/${key}/reference`, { method: 'DELETE', headers: admin })).status).toBe(404);
    // Without a reference, the device brings its own image again (the default setting).
    expect((await createRaw(token, startForm(otherFace, {}, 'mine.png'))).status).toBe(201);
  });
});

describe('review decisions', () => {
  it('lists sessions awaiting review oldest first, settles one, refuses a second settlement; the device follows', async () => {
    const { token } = await newSubject('review');
    const first = await createSession(stack, face, {}, token);
    const second = await createSession(stack, face, {}, token);
    const passed = await createSession(stack, face, {}, token);
    expect((await runCheck(first, { livenessDecision: 'realface', matchConfidence: 0.7 })).decision?.outcome).toBe('review');
    expect((await runCheck(second, { livenessDecision: 'realface', matchConfidence: 0.6 })).decision?.outcome).toBe('review');
    await runCheck(passed, { livenessDecision: 'realface', matchConfidence: 0.95 });
    expect(await deviceStatus(first)).toBe('pending');

    const queue = await getJson(`${stack.api}/review-queue?top=1000`, { headers: admin });
    expect(queue.status).toBe(200);
    const ids = queue.body.value.map((s: { id: string }) => s.id);
    expect(ids).toEqual(expect.arrayContaining([first.sessionId, second.sessionId]));
    expect(ids).not.toContain(passed.sessionId);
    expect(ids.indexOf(first.sessionId)).toBeLessThan(ids.indexOf(second.sessionId)); // oldest first
    const created = queue.body.value.map((s: { createdDateTime: string }) => s.createdDateTime);
    expect(created).toEqual([...created].sort());

    const settled = await post(`${stack.api}/liveness-sessions/${first.sessionId}/review`, { outcome: 'pass', reason: 'Same person, new glasses.' });
    expect(settled.status).toBe(200);
    expect(settled.body).toMatchObject({
      reviewRequired: false,
      decision: { outcome: 'review', reasons: ['MatchConfidenceInReviewBand'] }, // the automated decision stays
      review: { outcome: 'pass', reason: 'Same person, new glasses.', reviewer: 'admin-key' },
    });
    expect(Date.parse(settled.body.review.reviewedDateTime)).toBeGreaterThan(0);
    expect(await deviceStatus(first)).toBe('pass');

    const again = await post(`${stack.api}/liveness-sessions/${first.sessionId}/review`, { outcome: 'fail', reason: 'Changed my mind.' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ReviewAlreadySettled');
    const notInReview = await post(`${stack.api}/liveness-sessions/${passed.sessionId}/review`, { outcome: 'fail', reason: 'x' });
    expect(notInReview.status).toBe(409);
    expect(notInReview.body.error.code).toBe('NotAwaitingReview');
    expect(await deviceStatus(passed)).toBe('pass');

    const failed = await post(`${stack.api}/liveness-sessions/${second.sessionId}/review`, { outcome: 'fail', reason: 'Different person.' });
    expect(failed.status).toBe(200);
    expect(await deviceStatus(second)).toBe('fail');
    const after = await getJson(`${stack.api}/review-queue?top=1000`, { headers: admin });
    expect(after.body.value.map((s: { id: string }) => s.id)).not.toEqual(expect.arrayContaining([first.sessionId]));
    expect(after.body.value.map((s: { id: string }) => s.id)).not.toContain(second.sessionId);
  });
});

describe('export and erasure', () => {
  /** A subject with sessions in every state, a reference, consents, lockout rows and an Idempotency-Key. */
  async function populatedSubject(label: string) {
    const s = await newSubject(label);
    const collected = await createSession(stack, face, { deviceCorrelationId: `${label}-phone`, enableSessionImage: 'true' }, s.token);
    await runCheck(collected, { livenessDecision: 'realface', matchConfidence: 0.95 });
    const spoofed = await createSession(stack, face, { deviceCorrelationId: `${label}-phone` }, s.token);
    await runCheck(spoofed, { livenessDecision: 'spoofface' }); // a failed attempt: lockout rows
    const review = await createSession(stack, face, {}, s.token);
    await runCheck(review, { livenessDecision: 'realface', matchConfidence: 0.7 });
    const keyed = await createRaw(s.token, startForm(face), { 'idempotency-key': `key-${label}` });
    expect(keyed.status).toBe(201);
    const open = await createSession(stack, face, {}, s.token); // NotStarted: its Face session is alive
    expect(open.faceSessionId).toBeTruthy();
    expect((await enrol(s.key, otherFace)).status).toBe(200);
    // A create that died in flight: its row is still Creating (written as the app writes it), with its blob.
    const creatingId = '01' + Date.now().toString(16).padStart(10, '0').slice(-10);
    const row = (await stack.repository.get(open.sessionId))!;
    const creating: LivenessSession = {
      ...row, sessionId: `${creatingId.slice(0, 8)}-${creatingId.slice(8, 12)}-7abc-8def-0123456789ab`, faceSessionId: undefined,
      status: 'Creating', storedVerifyImage: { ...row.storedVerifyImage, blobName: `verify-images/${creatingId.slice(0, 8)}-${creatingId.slice(8, 12)}-7abc-8def-0123456789ab.jpg` },
      etag: undefined,
    };
    await stack.repository.create(creating);
    await stack.blobs.getContainerClient(stack.container).getBlockBlobClient(creating.storedVerifyImage.blobName).uploadData(face);
    const sessionIds = [collected.sessionId, spoofed.sessionId, review.sessionId, keyed.body.sessionId as string, open.sessionId, creating.sessionId];
    const faceIds = await Promise.all(sessionIds.map(async (id) => (await stack.repository.get(id))?.faceSessionId)).then((ids) => ids.filter((x): x is string => !!x));
    return { ...s, sessionIds, faceIds, open, collected };
  }

  async function expectNothingLeft(subject: { subject: string; key: string; sessionIds: string[]; faceIds: string[] }) {
    const receiptsTable = tableNames(stack.prefix).deletionReceipts;
    expect(await rowsMentioning([subject.key, subject.subject, ...subject.sessionIds], [receiptsTable])).toEqual([]);
    const blobs = await blobNames(stack);
    expect(blobs.filter((b) => b.includes(subject.key) || subject.sessionIds.some((id) => b.includes(id)))).toEqual([]);
    const alive = await faceSessionIds(stack);
    expect(subject.faceIds.filter((id) => alive.has(id))).toEqual([]);
    for (const id of subject.sessionIds) {
      expect((await getJson(`${stack.api}/liveness-sessions/${id}`, { headers: admin })).status).toBe(404);
    }
  }

  it('exports everything of a subject, then erases it all and leaves a receipt', async () => {
    const s = await populatedSubject('erase');
    const exported = await getJson(`${stack.api}/subjects/${s.key}`, { headers: admin });
    expect(exported.status).toBe(200);
    const body = exported.body;
    expect(body.subjectKey).toBe(s.key);
    expect(body.sessions).toHaveLength(5); // the Creating row is not a session yet
    expect(body.reference).toMatchObject({ sha256: sha256Upper(otherFace), image: { href: expect.stringContaining(`/api/subjects/${s.key}/images?name=`) } });
    expect(body.consents).toEqual([{ version: CONSENT_VERSION, givenDateTime: expect.any(String) }]);
    expect(body.lockouts.length).toBeGreaterThanOrEqual(1);
    expect(body.quota.recentCreates).toBeGreaterThanOrEqual(5);
    expect(body.idempotencyKeys).toEqual([expect.objectContaining({ state: 'done', sessionId: s.sessionIds[3] })]);
    const collected = body.sessions.find((x: { session: { id: string } }) => x.session.id === s.collected.sessionId);
    expect(collected.auditEntries).toHaveLength(1);
    expect(collected.images.map((i: { kind: string }) => i.kind)).toEqual(['verify', 'session']);
    expect(JSON.stringify(body)).not.toContain(s.subject); // the raw subject is not in the export's keys or links
    // The image links work, and only for this subject.
    const link = await fetch(`${stack.api.replace(/\/api$/, '')}${body.reference.image.href}`, { headers: admin });
    expect(link.status).toBe(200);
    expect(sha256Upper(Buffer.from(await link.arrayBuffer()))).toBe(sha256Upper(otherFace));
    const other = await newSubject('other');
    const bent = await checkedFetch(`${stack.api}/subjects/${other.key}/images?name=${encodeURIComponent(collected.images[0].href.split('name=')[1] ? decodeURIComponent(collected.images[0].href.split('name=')[1]) : '')}`, { headers: admin });
    expect(bent.status).toBe(404);

    const erased = await getJson(`${stack.api}/subjects/${s.key}`, { method: 'DELETE', headers: admin });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ subjectKey: s.key, requestedBy: 'admin-key' });
    expect(erased.body.deleted).toMatchObject({ sessions: 6, references: 1, consents: 1, quotas: 1, idempotencyKeys: 1 });
    expect(erased.body.deleted.lockouts).toBeGreaterThanOrEqual(1);
    expect(erased.body.deleted.faceSessions).toBeGreaterThanOrEqual(1);
    expect(erased.body.deleted.auditEntries).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(erased.body)).not.toContain(s.subject);
    await expectNothingLeft(s);

    // The receipt stays (keyed hash only); a repeat call is idempotent and answers it again.
    const receipts = [];
    for await (const r of table(tableNames(stack.prefix).deletionReceipts).listEntities({ queryOptions: { filter: `PartitionKey eq '${s.key}'` } })) receipts.push(r);
    expect(receipts).toHaveLength(1);
    const repeat = await getJson(`${stack.api}/subjects/${s.key}`, { method: 'DELETE', headers: admin });
    expect(repeat.status).toBe(200);
    expect(repeat.body.receiptId).toBe(erased.body.receiptId);
    const afterwards = await getJson(`${stack.api}/subjects/${s.key}`, { headers: admin });
    expect(afterwards.body).toMatchObject({ sessions: [], consents: [], deletionReceipts: [expect.objectContaining({ receiptId: erased.body.receiptId })] });
    expect(afterwards.body.reference).toBeUndefined();
  }, 120_000);

  it('an erasure killed half-way is finished by a repeat call, and another by the sweep', async () => {
    for (const finisher of ['repeat call', 'sweep'] as const) {
      const s = await newSubject(`crash-${finisher === 'sweep' ? 'sweep' : 'repeat'}`);
      const sessions: CreatedSession[] = [];
      for (let i = 0; i < 6; i++) sessions.push(await createSession(stack, face, {}, s.token));
      const full = { ...s, sessionIds: sessions.map((x) => x.sessionId), faceIds: sessions.map((x) => x.faceSessionId) };
      // Each Face call now takes 400 ms, so the erasure is still running when its progress is first seen.
      await emulator(stack, 'PUT', '/emulator/faults', { latencyMs: 400 });
      try {
        const erasing = fetch(`${stack.api}/subjects/${s.key}`, { method: 'DELETE', headers: admin }).catch(() => undefined);
        await eventually(async () => {
          const row = await subjectRecordRow(s.key);
          const counts = row?.erasureJson ? JSON.parse(String(row.erasureJson)).counts as Record<string, number> : undefined;
          return (counts?.sessions ?? 0) >= 1 ? true : undefined;
        }, 'the erasure to make progress');
        process.kill(stack.pid()!, 'SIGKILL');
        await erasing;
      } finally {
        await emulator(stack, 'PUT', '/emulator/faults', { latencyMs: 0 });
      }
      // Half-way: marked erasing, some sessions gone, some left.
      const row = await subjectRecordRow(s.key);
      expect(row?.erasureJson).toBeTruthy();
      const left = (await Promise.all(full.sessionIds.map((id) => stack.repository.get(id)))).filter(Boolean);
      expect(left.length).toBeGreaterThan(0);
      expect(left.length).toBeLessThan(6);
      await stack.restart();
      // While erasing, the subject cannot start a check.
      const blocked = await createRaw(s.token, startForm(face));
      expect(blocked.status).toBe(409);
      expect(blocked.body.error.code).toBe('SubjectErasing');

      if (finisher === 'repeat call') {
        const repeat = await getJson(`${stack.api}/subjects/${s.key}`, { method: 'DELETE', headers: admin });
        expect(repeat.status).toBe(200);
        expect(repeat.body.deleted.sessions).toBeGreaterThanOrEqual(left.length); // the counts carried over the crash
      } else {
        await fireSweep();
      }
      await expectNothingLeft(full);
      expect(await subjectRecordRow(s.key)).toBeUndefined();
      const receipts = (await getJson(`${stack.api}/subjects/${s.key}`, { headers: admin })).body.deletionReceipts;
      expect(receipts).toHaveLength(1);
    }
  }, 180_000);
});
