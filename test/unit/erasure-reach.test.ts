// Erasure reaches everything, retention reaches the delivery log, and idle subjects expire (BIPA), in process: after
// an erasure no delivery attempt, dead letter or index row holds the subject's key, raw id or session ids; dead
// letters never hold the raw subject (redelivery reads it back from the session); old attempts go by key range; a
// subject idle past the setting is erased by the sweep, with a receipt and an evidence record, and one seen since
// is not.
import { describe, expect, it } from 'vitest';
import { handleCompletionMessage } from '../../src/core/collect-result.js';
import { eraseSubject, IDLE_ERASURE_ACTOR } from '../../src/core/erase-subject.js';
import { sweepSessions } from '../../src/core/sweep.js';
import { deliverEvent, redeliverEvent, type WebhookDeps } from '../../src/core/webhook-delivery.js';
import { DEFAULT_WEBHOOK_RETRY, deviceFields, fakeWorld, fixtureImage, startFor, type FakeWorld } from '../fakes/index.js';
import { parseStartSessionForm } from '../../src/contract/requests.js';
import { startSession } from '../../src/core/start-session.js';
import { createVerification, exchangeLink, linkCaller } from '../../src/core/verifications.js';

async function decided(w: FakeWorld, subject: string) {
  const s = await startFor(w, subject);
  await w.sessions.mutate(s.sessionId, (c) => ({ ...c, status: 'Started', completionRequestedDateTime: w.clock.now().toISOString() }));
  w.face.addSucceededAttempt(s.faceSessionId, { matchConfidence: 0.93 });
  expect(await handleCompletionMessage(w.deps, { sessionId: s.sessionId, try: 1 })).toBe('collected');
  return s;
}

function webhookDeps(w: FakeWorld, settings = DEFAULT_WEBHOOK_RETRY): WebhookDeps {
  return { sender: w.receiver, queue: w.webhookQueue, log: w.deliveryLog, sessions: w.sessions, clock: w.clock, logger: w.logger, settings };
}

/** Delivers what is queued once; the receiver answers 500 to each (so every event ends dead-lettered with no retry window). */
async function deliverFailing(w: FakeWorld): Promise<void> {
  for (const { message } of w.webhookQueue.drain()) {
    w.receiver.results.push({ delivered: false, statusCode: 500, error: 'HttpStatus', durationMs: 1 });
    await deliverEvent(webhookDeps(w, { ...DEFAULT_WEBHOOK_RETRY, retryWindowSeconds: 0 }), message);
  }
}

describe('erasure and the webhook delivery log', () => {
  it('dead letters keep the subject key, never the raw subject; redelivery reads the subject back from the session', async () => {
    const w = fakeWorld({ webhooks: true });
    const s = await decided(w, 'alice');
    await deliverFailing(w);
    const [dead] = (await w.deliveryLog.listDeadLetters(10)).items;
    expect(dead!.event.data).not.toHaveProperty('subject');
    expect(dead!.event.subjectKey).toBe(s.subjectKey);
    await redeliverEvent(webhookDeps(w), dead!.event.id);
    const [again] = w.webhookQueue.events();
    expect(again!.data.subject).toBe('alice');
  });

  it('after an erasure no attempt, dead letter or index row holds the subject key, its raw id or a session id', async () => {
    const w = fakeWorld({ webhooks: true });
    const a = await decided(w, 'alice');
    const a2 = await decided(w, 'alice');
    const b = await decided(w, 'bob');
    await deliverFailing(w);
    const before = w.deliveryLog.dump();
    for (const id of [a.sessionId, a2.sessionId, b.sessionId, a.subjectKey]) expect(before).toContain(id);

    const receipt = await eraseSubject(w.deps, a.subjectKey, 'admin-key');
    expect(receipt.deleted).toMatchObject({ deliveryAttempts: 2, deadLetters: 2 });
    const after = w.deliveryLog.dump();
    for (const id of [a.sessionId, a2.sessionId, a.subjectKey, '"alice"']) expect(after).not.toContain(id);
    // Bob's stay.
    expect(after).toContain(b.sessionId);
    // The attempts route finds nothing of Alice's events any more.
    const events = (await w.deliveryLog.listDeadLetters(10)).items.map((d) => d.event.id);
    expect(events).toHaveLength(1);
  });

  it('the sweep deletes delivery attempts past their retention, and only those', async () => {
    const w = fakeWorld({ webhooks: true, now: '2026-01-01T00:00:00.000Z', settings: { deliveryAttemptRetentionDays: 30 } });
    const old = await decided(w, 'alice');
    for (const { message } of w.webhookQueue.drain()) await deliverEvent(webhookDeps(w), message);
    w.clock.advance({ days: 20 });
    const recent = await decided(w, 'bob');
    for (const { message } of w.webhookQueue.drain()) await deliverEvent(webhookDeps(w), message);
    w.clock.advance({ days: 11 });
    const report = await sweepSessions(w.deps);
    expect(report.deliveryAttemptsDeleted).toBe(1);
    const left = w.deliveryLog.dump();
    expect(left).not.toContain(old.sessionId);
    expect(left).toContain(recent.sessionId);
  });
});

describe('BIPA: subjects idle past the setting', () => {
  it('are erased by the sweep like an operator erasure (receipt, evidence record); a subject seen since is kept', async () => {
    const w = fakeWorld({ now: '2026-01-01T00:00:00.000Z', settings: { subjectIdleErasureDays: 1095, recordRetentionDays: 5000 } });
    const idle = await decided(w, 'alice');
    const active = await decided(w, 'bob');
    w.clock.advance({ days: 1000 });
    await startFor(w, 'bob'); // Bob comes back
    w.clock.advance({ days: 96 });
    const report = await sweepSessions(w.deps);
    expect(report.idleSubjectsErased).toBe(1);
    expect(await w.subjects.get(idle.subjectKey)).toBeUndefined();
    expect(w.sessions.peek(idle.sessionId)).toBeUndefined();
    const [receipt] = await w.subjects.listReceipts(idle.subjectKey);
    expect(receipt).toMatchObject({ requestedBy: IDLE_ERASURE_ACTOR, deleted: { sessions: 1 }, evidence: { recordHash: expect.any(String) } });
    expect(w.evidence.all().some((r) => r.hash === receipt!.evidence!.recordHash && r.record.type === 'subject.erased')).toBe(true);
    // Bob was seen 96 days ago: kept, and so are his sessions.
    expect(await w.subjects.get(active.subjectKey)).toBeDefined();
    expect(w.sessions.peek(active.sessionId)).toBeDefined();
    // Nothing of Alice is left in the activity index; a second sweep erases nobody.
    expect([...w.activity.rows.keys()].some((k) => k.endsWith(idle.subjectKey))).toBe(false);
    expect((await sweepSessions(w.deps)).idleSubjectsErased).toBe(0);
  });

  it('finds idle subjects by key range: a subject never idle long enough is not even read', async () => {
    const w = fakeWorld({ now: '2026-01-01T00:00:00.000Z', settings: { subjectIdleErasureDays: 1095 } });
    await decided(w, 'carol');
    w.clock.advance({ days: 1094 });
    expect(await w.deps.activity.listIdle(new Date(w.clock.now().getTime() - 1095 * 86_400_000), 10)).toEqual([]);
    w.clock.advance({ days: 2 });
    expect(await w.deps.activity.listIdle(new Date(w.clock.now().getTime() - 1095 * 86_400_000), 10)).toHaveLength(1);
  });
});

describe('erasure and verification links', () => {
  it("reaches the person's verifications, their link sessions, reference images and the expiry events' delivery rows", async () => {
    const w = fakeWorld({ webhooks: true });
    const image = fixtureImage();
    const used = await createVerification(w.deps, { owner: 'rp', fields: { externalUserId: 'carol', clientReferenceId: 'c-1' }, referenceImage: image });
    const { accessToken } = await exchangeLink(w.deps, used.linkToken);
    const started = await startSession(w.deps, { caller: await linkCaller(w.deps, accessToken), fields: parseStartSessionForm(deviceFields(w)) });
    const unused = await createVerification(w.deps, { owner: 'rp', fields: { externalUserId: 'carol' }, referenceImage: image });
    w.clock.advance({ minutes: 16 });
    await sweepSessions(w.deps); // the unused link expires: its event is queued under carol's key
    await deliverFailing(w);
    expect(w.deliveryLog.dump()).toContain(unused.verificationId);

    const key = w.subjects.keyOf('carol');
    const receipt = await eraseSubject(w.deps, key, 'admin-key');
    expect(receipt.deleted).toMatchObject({ verifications: 2, sessions: 1 });
    expect(w.verifications.rows.size).toBe(0);
    expect(w.sessions.peek(started.sessionId)).toBeUndefined();
    expect(w.images.names()).toEqual([]);
    expect(w.deliveryLog.dump()).not.toContain(unused.verificationId);
    expect(w.deliveryLog.dump()).not.toContain(key);
  });
});
