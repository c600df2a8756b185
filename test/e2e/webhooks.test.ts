// Result webhooks end to end: the dev host delivers Standard Webhooks to a local receiver started here, which verifies
// every signature with the standardwebhooks package. Retry delays are made tiny (1 s, a 3 s window) so that retries,
// dead letters and redelivery happen within a test; nothing waits a fixed time: every step polls for the state it
// expects (the receiver's deliveries, the app's attempt log, the session row's outbox, the queue).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../dev/azurite.js';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { startWebhookReceiver, type ReceivedDelivery, type RunningWebhookReceiver } from '../../dev/webhook-receiver/receiver.js';
import {
  reviewSettledEventSchema, sessionDecidedEventSchema, sessionErasedEventSchema, sessionExpiredEventSchema,
  subjectErasedEventSchema,
} from '../../src/contract/webhooks.js';
import { createStorageClients } from '../../src/adapters/storage/clients.js';
import type { LivenessSession } from '../../src/core/session.js';
import {
  complete, createSession, deviceToken, emulator, eventually, fixture, getJson, startStack, type CreatedSession, type Stack,
} from '../support/liveness.js';
import { azuritePorts, startStorageFaultProxy, type StorageFaultProxy } from '../support/storage-fault-proxy.js';

const face = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const ADMIN = { 'x-functions-key': 'unused' }; // the test host enforces no keys; the header documents the caller

const FAST_RETRIES = {
  WEBHOOK_RETRY_BASE_SECONDS: '1',
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
  WEBHOOK_RETRY_WINDOW_SECONDS: '3',
  WEBHOOK_OUTBOX_RECOVERY_SECONDS: '0',
  WEBHOOK_TIMEOUT_MS: '3000',
};

/** A session the device finished with a live, matching capture: its decision (pass) is being collected. */
async function decidedSession(stack: Stack, fields: Record<string, string> = {}): Promise<CreatedSession> {
  const created = await createSession(stack, face, fields, await deviceToken());
  await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
  expect((await complete(stack, created)).status).toBe(202);
  return created;
}

async function delivered(receiver: RunningWebhookReceiver, sessionId: string, type: string, timeoutMs = 15_000): Promise<ReceivedDelivery> {
  return eventually(async () => receiver.deliveries.find((d) => d.verified && d.status < 300
    && d.payload?.type === type && d.payload.data.sessionId === sessionId), `a verified ${type} delivery for ${sessionId}`, timeoutMs);
}

async function attempts(stack: Stack, eventId: string): Promise<Array<Record<string, any>>> {
  const res = await getJson(`${stack.api}/webhook-events/${eventId}/attempts`, { headers: ADMIN });
  return res.status === 200 ? res.body.value : [];
}

async function failures(stack: Stack): Promise<Array<Record<string, any>>> {
  const res = await getJson(`${stack.api}/webhook-failures?top=1000`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return res.body.value;
}

/** No try is pending on the stack's webhook queue (visible, delayed or in flight: all count until deleted). */
async function noPendingTries(stack: Stack): Promise<boolean> {
  const queue = createStorageClients({ kind: 'connectionString', connectionString: inject('storageConnectionString') })
    .queueService.getQueueClient(`${stack.prefix.toLowerCase()}-completions-webhooks`);
  return ((await queue.getProperties()).approximateMessagesCount ?? 0) === 0;
}

async function sweep(stack: Stack): Promise<void> {
  const before = stack.logs().length;
  const res = await fetch(`${stack.api.replace(/\/api$/, '')}/admin/functions/liveness-sweep`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":""}',
  });
  expect(res.status).toBe(202);
  await eventually(async () => (/sweep finished/.test(stack.logs().slice(before)) ? true : undefined), 'the sweep to finish');
}

/** Moves a session's token expiry (and its sweep index row) into the past, as time passing would. */
async function age(stack: Stack, sessionId: string, ms: number): Promise<LivenessSession> {
  const shift = (iso: string) => new Date(Date.parse(iso) - ms).toISOString();
  return (await stack.repository.mutate(sessionId, (s) => ({
    ...s,
    authTokenExpiresDateTime: shift(s.authTokenExpiresDateTime),
    nextSweepDateTime: s.nextSweepDateTime ? shift(s.nextSweepDateTime) : undefined,
  })))!;
}

describe('webhooks: one receiver, one secret', () => {
  let stack: Stack;
  let receiver: RunningWebhookReceiver;
  const key = secret();

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secrets: [key], print: () => undefined });
    stack = await startStack({ WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: key, DECISION_REVIEW_LOWER_BOUND: '0.6', ...FAST_RETRIES });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('a decision produces exactly one verified delivery, in the documented shape', async () => {
    const created = await decidedSession(stack, { deviceCorrelationId: 'webhook-phone-1' });
    const delivery = await delivered(receiver, created.sessionId, 'liveness.session.decided');
    const event = sessionDecidedEventSchema.parse(delivery.payload); // strict: nothing undocumented, no scores
    expect(event.data).toMatchObject({ sessionId: created.sessionId, outcome: 'pass', deviceCorrelationId: 'webhook-phone-1', reviewRequired: false });
    expect(event.data.scores).toBeUndefined();
    expect(delivery.webhookId).toBe(event.id);
    expect(delivery.signatures).toBe(1);

    // Done means: the outbox is empty, the attempt log says delivered, and no try is queued. Then one is all there is.
    await eventually(async () => ((await stack.repository.get(created.sessionId))?.pendingEvents?.length ? undefined : true), 'an empty outbox');
    await eventually(async () => ((await attempts(stack, event.id)).some((a) => a.result === 'delivered') ? true : undefined), 'the delivered log line');
    await eventually(async () => ((await noPendingTries(stack)) ? true : undefined), 'an empty webhook queue');
    expect(receiver.deliveries.filter((d) => d.webhookId === event.id)).toHaveLength(1);
    const log = await attempts(stack, event.id);
    expect(log).toEqual([expect.objectContaining({ attempt: 1, statusCode: 204, result: 'delivered', eventType: 'liveness.session.decided', sessionId: created.sessionId })]);
    expect(stack.logs()).not.toContain(key);
  });

  it('a receiver answering 500 then 200 gets the event on the retry', async () => {
    receiver.script({ status: 500 });
    const created = await decidedSession(stack);
    const delivery = await delivered(receiver, created.sessionId, 'liveness.session.decided');
    const copies = receiver.deliveries.filter((d) => d.webhookId === delivery.webhookId);
    expect(copies.map((d) => d.status)).toEqual([500, 204]); // same webhook-id both times
    const log = await eventually(async () => {
      const lines = await attempts(stack, delivery.webhookId!);
      return lines.length === 2 ? lines : undefined;
    }, 'two attempt log lines');
    expect(log[0]).toMatchObject({ attempt: 1, statusCode: 500, error: 'HttpStatus', result: 'retry-scheduled' });
    expect(Date.parse(log[0]!.nextAttemptDateTime)).toBeGreaterThan(Date.parse(log[0]!.attemptedDateTime));
    expect(log[1]).toMatchObject({ attempt: 2, statusCode: 204, result: 'delivered' });
  });

  it('does not follow a redirect: a 3xx is a failed try, and the place it points to is never called', async () => {
    receiver.script({ status: 307, location: `${receiver.url}/elsewhere` });
    const created = await decidedSession(stack);
    const delivery = await delivered(receiver, created.sessionId, 'liveness.session.decided');
    const log = await eventually(async () => {
      const lines = await attempts(stack, delivery.webhookId!);
      return lines.length === 2 ? lines : undefined;
    }, 'two attempt log lines');
    expect(log[0]).toMatchObject({ statusCode: 307, error: 'Redirect', result: 'retry-scheduled' });
    expect(receiver.deliveries.filter((d) => d.path.endsWith('/elsewhere'))).toEqual([]);
  });

  it('a receiver with the wrong secret refuses the delivery (signature check fails), and the app retries', async () => {
    receiver.setSecrets([secret()]);
    try {
      const created = await decidedSession(stack);
      const refused = await eventually(async () => receiver.deliveries.find((d) => !d.verified && d.status === 401
        && d.webhookId !== undefined && !receiver.deliveries.some((v) => v.verified && v.webhookId === d.webhookId)), 'a refused delivery');
      expect(refused.failure).toMatch(/No matching signature/);
      expect(refused.payload).toBeUndefined();
      // The app saw a 401, and schedules another try.
      await eventually(async () => ((await attempts(stack, refused.webhookId!)).some((a) => a.statusCode === 401 && a.result !== 'delivered') ? true : undefined), 'a 401 in the attempt log');
      receiver.setSecrets([key]);
      await delivered(receiver, created.sessionId, 'liveness.session.decided');
    } finally {
      receiver.setSecrets([key]);
    }
  });

  it('a receiver down for good ends in a dead letter, listed for the back office, and redelivery then works', async () => {
    // A second receiver on its own port: down (not listening) while the app tries, up for the redelivery.
    const port = await freePort();
    const downStack = await startStack({ WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks`, WEBHOOK_SECRET: key, ...FAST_RETRIES });
    let late: RunningWebhookReceiver | undefined;
    try {
      const created = await decidedSession(downStack);
      const dead = await eventually(async () => (await failures(downStack)).find((f) => f.sessionId === created.sessionId), 'a dead letter', 30_000);
      expect(dead).toMatchObject({ type: 'liveness.session.decided', lastError: 'NetworkError' });
      expect(dead.attempts).toBeGreaterThanOrEqual(3); // 1 s apart over a 3 s window
      const log = await attempts(downStack, dead.eventId);
      expect(log.at(-1)).toMatchObject({ result: 'dead-lettered', error: 'NetworkError' });
      expect(log.slice(0, -1).every((a) => a.result === 'retry-scheduled')).toBe(true);

      late = await startWebhookReceiver({ port, secrets: [key], print: () => undefined });
      const res = await getJson(`${downStack.api}/webhook-events/${dead.eventId}/redeliver`, { method: 'POST', headers: ADMIN });
      expect(res).toMatchObject({ status: 202, body: { eventId: dead.eventId, status: 'Enqueued' } });
      const delivery = await delivered(late, created.sessionId, 'liveness.session.decided');
      expect(delivery.webhookId).toBe(dead.eventId); // same id: the receiver can tell it is not a new event
      expect((await failures(downStack)).map((f) => f.eventId)).not.toContain(dead.eventId);
      // A second redeliver of a delivered event has nothing to redeliver.
      const again = await getJson(`${downStack.api}/webhook-events/${dead.eventId}/redeliver`, { method: 'POST', headers: ADMIN });
      expect(again).toMatchObject({ status: 404, body: { error: { code: 'DeliveryNotFound' } } });
    } finally {
      await downStack.stop();
      await late?.close();
    }
  });

  it('announces an erasure after the records are gone, and an expiry without a result', async () => {
    const decided = await decidedSession(stack);
    await delivered(receiver, decided.sessionId, 'liveness.session.decided');
    const del = await fetch(`${stack.api}/liveness-sessions/${decided.sessionId}`, { method: 'DELETE', headers: ADMIN });
    expect(del.status).toBe(204);
    const erased = sessionErasedEventSchema.parse((await delivered(receiver, decided.sessionId, 'liveness.session.erased')).payload);
    expect(erased.data.sessionId).toBe(decided.sessionId);
    expect(await stack.repository.get(decided.sessionId)).toBeUndefined();

    const idle = await createSession(stack, face);
    await age(stack, idle.sessionId, 11 * 60_000);
    await sweep(stack);
    const expired = sessionExpiredEventSchema.parse((await delivered(receiver, idle.sessionId, 'liveness.session.expired')).payload);
    expect(expired.data).toMatchObject({ status: 'Expired', reason: 'NoFinishedAttemptBeforeExpiry' });
    await sweep(stack); // a second sweep announces nothing new
    expect(receiver.deliveries.filter((d) => d.payload?.data.sessionId === idle.sessionId)).toHaveLength(1);
  });

  it('announces a settled review and an erased subject, verified, in the documented shapes', async () => {
    const subject = `webhook-subject-${randomBytes(4).toString('hex')}`;
    const token = await deviceToken(subject);
    const created = await createSession(stack, face, {}, token);
    // A match confidence in the review band (DECISION_REVIEW_LOWER_BOUND is set for this stack).
    expect((await emulator(stack, 'POST', '/emulator/scripts', { sessionId: created.faceSessionId, livenessDecision: 'realface', matchConfidence: 0.7 })).status).toBe(201);
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    expect((await complete(stack, created)).status).toBe(202);
    const decided = sessionDecidedEventSchema.parse((await delivered(receiver, created.sessionId, 'liveness.session.decided')).payload);
    expect(decided.data.outcome).toBe('review');

    const settle = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}/review`, {
      method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ outcome: 'pass', reason: 'Same person.' }),
    });
    expect(settle.status).toBe(200);
    const settled = reviewSettledEventSchema.parse((await delivered(receiver, created.sessionId, 'liveness.review.settled')).payload);
    expect(settled.data).toMatchObject({ sessionId: created.sessionId, subject, outcome: 'pass' });
    expect(settled.data.reasons[0]).toBe('Review:pass');

    const key = await getJson(`${stack.api}/subject-keys`, {
      method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ subject }),
    });
    const subjectKey = key.body.subjectKey as string;
    const erase = await getJson(`${stack.api}/subjects/${subjectKey}`, { method: 'DELETE', headers: ADMIN });
    expect(erase.status).toBe(200);
    const erased = await eventually(async () => receiver.deliveries.find((d) => d.verified && d.status < 300
      && d.payload?.type === 'liveness.subject.erased' && d.payload.data.subjectKey === subjectKey), 'a verified subject erased delivery');
    const event = subjectErasedEventSchema.parse(erased.payload);
    expect(event.data.receiptId).toBe(erase.body.receiptId);
    expect(JSON.stringify(event)).not.toContain(subject); // the raw subject never travels with an erasure
  });

  it('refuses unknown event ids and bad queries on the back-office routes', async () => {
    expect(await getJson(`${stack.api}/webhook-events/not-an-id/attempts`, { headers: ADMIN })).toMatchObject({ status: 404, body: { error: { code: 'DeliveryNotFound' } } });
    expect(await getJson(`${stack.api}/webhook-events/evt_019ac1f2-8d10-7a2b-9c3d-4e5f60718293/redeliver`, { method: 'POST', headers: ADMIN }))
      .toMatchObject({ status: 404, body: { error: { code: 'DeliveryNotFound' } } });
    expect(await getJson(`${stack.api}/webhook-failures?top=0`, { headers: ADMIN })).toMatchObject({ status: 400, body: { error: { code: 'BadArgument' } } });
  });
});

describe('webhooks: secret rotation and a lost enqueue', () => {
  let stack: Stack;
  let receiver: RunningWebhookReceiver;
  let proxy: StorageFaultProxy;
  const oldKey = secret();
  const newKey = secret();

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secrets: [oldKey], print: () => undefined });
    // The app reaches the queue service through a fault proxy (blobs and tables directly).
    const storage = inject('storageConnectionString');
    proxy = await startStorageFaultProxy(azuritePorts(storage).queue);
    const appStorage = storage.replace(/QueueEndpoint=http:\/\/127\.0\.0\.1:\d+/, `QueueEndpoint=http://127.0.0.1:${proxy.port}`);
    stack = await startStack({
      WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: newKey, WEBHOOK_SECRET_SECONDARY: oldKey, ...FAST_RETRIES,
    }, undefined, appStorage);
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    await proxy?.close();
  });

  it('signs with both secrets during a rotation: a receiver with either one verifies', async () => {
    const created = await decidedSession(stack);
    const withOld = await delivered(receiver, created.sessionId, 'liveness.session.decided');
    expect(withOld.signatures).toBe(2);
    receiver.setSecrets([newKey]);
    const next = await decidedSession(stack);
    const withNew = await delivered(receiver, next.sessionId, 'liveness.session.decided');
    expect(withNew.signatures).toBe(2);
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
  });

  it('does not lose the event when the enqueue after the decision fails: the sweep sends it from the outbox', async () => {
    const queuePath = `/${stack.prefix.toLowerCase()}-completions-webhooks/messages`;
    proxy.failNext((method, url) => method === 'POST' && url.includes(queuePath), 1);
    const created = await decidedSession(stack);
    // The decision is recorded, its event is still in the outbox, and nothing reached the receiver.
    const row = await eventually(async () => {
      const s = await stack.repository.get(created.sessionId);
      return s?.decision && s.pendingEvents?.length ? s : undefined;
    }, 'a decided session holding its event');
    expect(row.pendingEvents).toEqual([expect.objectContaining({ type: 'liveness.session.decided' })]);
    expect(Date.parse(row.nextSweepDateTime!)).toBeLessThanOrEqual(Date.parse(row.pendingEvents![0]!.timestamp)); // recovery 0 s: due now
    await eventually(async () => (/could not enqueue events for the webhook/.test(stack.logs()) ? true : undefined), 'the failed enqueue');
    expect(receiver.deliveries.filter((d) => d.payload?.data.sessionId === created.sessionId)).toEqual([]);

    await sweep(stack);
    const delivery = await delivered(receiver, created.sessionId, 'liveness.session.decided');
    expect(delivery.webhookId).toBe(row.pendingEvents![0]!.id);
    await eventually(async () => ((await stack.repository.get(created.sessionId))?.pendingEvents?.length ? undefined : true), 'an empty outbox');
    expect(receiver.deliveries.filter((d) => d.payload?.data.sessionId === created.sessionId)).toHaveLength(1);
  });
});
