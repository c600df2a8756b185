// Webhooks in process: Standard Webhooks signing (checked with the standardwebhooks verifier), the sender's
// safety rules against a local HTTP server (timeout, no redirects, capped answer), the retry schedule, one delivery
// try with fakes, and the session outbox (an event written with its change survives a failed enqueue, and the sweep
// sends it). Storage is an in-memory repository that behaves like the Table one (ETags, sweep times).
import { InMemoryVerificationStore } from '../fakes/verifications.js';
import { InMemoryEvidenceLog, InMemorySubjectActivity, MemoryEvidenceSigner } from '../fakes/evidence.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { HttpWebhookSender, MAX_RESPONSE_BYTES, webhookHeaders } from '../../src/adapters/webhooks/http-webhook-sender.js';
import { isLoopbackHost, parseConfig } from '../../src/config/config.js';
import { noAttemptLimits } from '../../src/core/attempt-limits.js';
import { noSubjectQuota } from '../../src/core/quota.js';
import { updateSession, type LivenessDeps, type LivenessSettings } from '../../src/core/deps.js';
import { deleteSession } from '../../src/core/delete-session.js';
import { newEvent, publishPendingEvents, sessionDecidedEvent, withEvent } from '../../src/core/events.js';
import type { SessionDecidedEvent } from '../../src/contract/types.js';
import type {
  DeadLetter, DeliveryAttempt, DeliveryLog, DeliveryMessage, LivenessEvent, Page, SessionChange, SessionRepository,
  WebhookSender,
} from '../../src/core/ports.js';
import { nextSweepTime } from '../../src/core/retention.js';
import { awaitingReview, type LivenessSession } from '../../src/core/session.js';
import { sweepSessions } from '../../src/core/sweep.js';
import { deliverEvent, nextRetryDelaySeconds, redeliverEvent, retrySchedule, type WebhookDeps } from '../../src/core/webhook-delivery.js';
import { MemorySubjects } from '../fakes/subjects-memory.js';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const event = (at = new Date('2026-01-01T00:05:00.000Z')): LivenessEvent =>
  newEvent<SessionDecidedEvent>('liveness.session.decided', at, {
    sessionId: '11111111-1111-4111-8111-111111111111', status: 'ResultAvailable', outcome: 'pass', reasons: [], reviewRequired: false,
    attemptId: 1, decidedDateTime: at.toISOString(), policyVersion: 'v1',
  });

describe('signing', () => {
  it('signs id.timestamp.body so that the standardwebhooks verifier accepts it, and nothing else', () => {
    const key = secret();
    const body = JSON.stringify(event());
    const headers = webhookHeaders([key], 'evt_1', new Date(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(key).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(key).verify(body.replace('pass', 'fail'), headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(key).verify(body, { ...headers, 'webhook-id': 'evt_2' })).toThrow(/No matching signature/);
    const stale = webhookHeaders([key], 'evt_1', new Date(Date.now() - 10 * 60_000), body);
    expect(() => new Webhook(key).verify(body, stale)).toThrow(/too old/);
  });

  it('sends one signature per secret during a rotation; a receiver holding either verifies', () => {
    const [current, previous] = [secret(), secret()];
    const body = '{"a":1}';
    const headers = webhookHeaders([current, previous], 'evt_1', new Date(), body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual({ a: 1 });
    expect(new Webhook(previous).verify(body, headers)).toEqual({ a: 1 });
    expect(() => new Webhook(secret()).verify(body, headers)).toThrow();
  });
});

describe('settings', () => {
  const minimal = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true', FACE_ENDPOINT: 'http://127.0.0.1:7081',
    DEVICE_AUTH_ISSUER: 'http://127.0.0.1:7082', DEVICE_AUTH_AUDIENCE: 'api://x',
  };
  it('needs https outside loopback, a whsec_ secret with the URL, and no credentials in the URL', () => {
    const key = secret();
    expect(parseConfig({ ...minimal, WEBHOOK_URL: 'https://rp.example/hooks', WEBHOOK_SECRET: key }).webhooks).toMatchObject({ url: 'https://rp.example/hooks', secrets: [key] });
    expect(parseConfig({ ...minimal, WEBHOOK_URL: 'http://127.0.0.1:7084/webhooks', WEBHOOK_SECRET: key }).webhooks.url).toBe('http://127.0.0.1:7084/webhooks');
    expect(() => parseConfig({ ...minimal, WEBHOOK_URL: 'http://rp.example/hooks', WEBHOOK_SECRET: key })).toThrow(/WEBHOOK_URL: must be https/);
    expect(() => parseConfig({ ...minimal, WEBHOOK_URL: 'https://u:p@rp.example/hooks', WEBHOOK_SECRET: key })).toThrow(/credentials/);
    expect(() => parseConfig({ ...minimal, WEBHOOK_URL: 'https://rp.example/hooks' })).toThrow(/WEBHOOK_SECRET: required/);
    expect(() => parseConfig({ ...minimal, WEBHOOK_SECRET: 'whsec_c2hvcnQ=' })).toThrow(/WEBHOOK_SECRET/);
    expect(() => parseConfig({ ...minimal, WEBHOOK_SECRET: 'not-a-secret' })).toThrow(/WEBHOOK_SECRET/);
    expect(parseConfig({ ...minimal, WEBHOOK_URL: '' }).webhooks.url).toBeUndefined();
  });
  it('knows the loopback hosts', () => {
    for (const h of ['localhost', '127.0.0.1', '127.10.0.3', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['10.0.0.1', 'localhost.example', '128.0.0.1', '0.0.0.0']) expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('the sender against a local receiver', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });
  async function serve(handler: http.RequestListener): Promise<string> {
    server = http.createServer(handler);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  }

  it('delivers a signed POST and reports the status', async () => {
    const key = secret();
    let seen: { body: string; headers: http.IncomingHttpHeaders } | undefined;
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { seen = { body, headers: req.headers }; res.writeHead(200).end('ok'); });
    });
    const e = event();
    const result = await new HttpWebhookSender({ url, secrets: [key], timeoutMs: 5000 }).send(e);
    expect(result).toMatchObject({ delivered: true, statusCode: 200 });
    expect(seen!.headers['content-type']).toBe('application/json');
    expect(new Webhook(key).verify(seen!.body, seen!.headers as Record<string, string>)).toEqual(e);
  });

  it('gives up on a receiver slower than the timeout', async () => {
    const url = await serve(() => { /* never answers */ });
    expect(await new HttpWebhookSender({ url, secrets: [secret()], timeoutMs: 300 }).send(event())).toMatchObject({ delivered: false, error: 'Timeout' });
  });

  it('does not follow a redirect', async () => {
    let followed = 0;
    const url = await serve((req, res) => {
      if (req.url === '/elsewhere') { followed++; res.writeHead(200).end(); return; }
      res.writeHead(302, { location: '/elsewhere' }).end();
    });
    expect(await new HttpWebhookSender({ url, secrets: [secret()], timeoutMs: 5000 }).send(event())).toMatchObject({ delivered: false, statusCode: 302, error: 'Redirect' });
    expect(followed).toBe(0);
  });

  it('reads only a few KB of an endless answer and does not wait for it to end', async () => {
    let written = 0;
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(1024, 120);
      const timer = setInterval(() => { written += chunk.length; res.write(chunk); }, 5);
      res.on('close', () => clearInterval(timer));
    });
    const result = await new HttpWebhookSender({ url, secrets: [secret()], timeoutMs: 30_000 }).send(event());
    expect(result).toMatchObject({ delivered: true, statusCode: 200 });
    expect(result.error).toBeUndefined();
    // Resolved while the receiver was still writing: the answer was cut off, not read to its (never coming) end.
    expect(written).toBeGreaterThanOrEqual(MAX_RESPONSE_BYTES);
    expect(result.durationMs).toBeLessThan(30_000);
  });

  it('reports a receiver that is not there', async () => {
    const url = await serve(() => undefined);
    server!.closeAllConnections();
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    expect(await new HttpWebhookSender({ url, secrets: [secret()], timeoutMs: 5000 }).send(event())).toMatchObject({ delivered: false, error: 'NetworkError' });
  });
});

describe('retry schedule', () => {
  const defaults = { retryBaseSeconds: 10, retryMaxDelaySeconds: 14_400, retryWindowSeconds: 86_400 };
  it('backs off exponentially up to the cap and keeps trying for at least the window', () => {
    const times = retrySchedule(defaults);
    const delays = times.slice(1).map((t, i) => t - times[i]!);
    expect(delays.slice(0, 4)).toEqual([10, 20, 40, 80]);
    expect(Math.max(...delays)).toBe(14_400);
    expect(times.at(-1)!).toBeGreaterThanOrEqual(86_400); // the last try is at or after 24 h
    expect(times.at(-2)!).toBeLessThan(86_400);
    expect(times).toHaveLength(17);
    expect(times.at(-1)).toBe(92_470); // ≈ 25.7 h
  });
  it('stops when the window is used up', () => {
    const first = new Date(0);
    expect(nextRetryDelaySeconds(3, first, new Date(2_000), { retryBaseSeconds: 1, retryMaxDelaySeconds: 1, retryWindowSeconds: 3 })).toBe(1);
    expect(nextRetryDelaySeconds(4, first, new Date(3_000), { retryBaseSeconds: 1, retryMaxDelaySeconds: 1, retryWindowSeconds: 3 })).toBeUndefined();
  });
});

class MemoryDeliveryLog implements DeliveryLog {
  attempts: DeliveryAttempt[] = [];
  dead = new Map<string, DeadLetter>();
  async recordAttempt(a: DeliveryAttempt) { this.attempts.push(a); }
  async listAttempts(id: string) { return this.attempts.filter((a) => a.eventId === id); }
  async putDeadLetter(d: DeadLetter) { this.dead.set(d.event.id, d); }
  async getDeadLetter(id: string) { return this.dead.get(id); }
  async deleteDeadLetter(id: string) { this.dead.delete(id); }
  async listDeadLetters(): Promise<Page<DeadLetter>> { return { items: [...this.dead.values()] }; }
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('one delivery try', () => {
  function deps(results: Array<Awaited<ReturnType<WebhookSender['send']>>>, now: Date) {
    const queued: Array<{ message: DeliveryMessage; delay?: number }> = [];
    const log = new MemoryDeliveryLog();
    const d: WebhookDeps = {
      sender: { send: async () => results.shift()! },
      queue: { enqueue: async (message, delay) => { queued.push({ message, delay }); } },
      log, clock: { now: () => now }, logger: silent,
      settings: { retryBaseSeconds: 10, retryMaxDelaySeconds: 100, retryWindowSeconds: 1000 },
    };
    return { d, queued, log };
  }

  it('logs a delivered try', async () => {
    const { d, queued, log } = deps([{ delivered: true, statusCode: 204, durationMs: 12 }], new Date('2026-01-01T00:00:00Z'));
    expect(await deliverEvent(d, { event: event(), attempt: 1 })).toBe('delivered');
    expect(queued).toEqual([]);
    expect(log.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 204, durationMs: 12, result: 'delivered' })]);
  });

  it('schedules the next try with the same event and first-try time, and logs when it is due', async () => {
    const e = event();
    const { d, queued, log } = deps([{ delivered: false, statusCode: 503, error: 'HttpStatus', durationMs: 5 }], new Date('2026-01-01T00:00:40Z'));
    expect(await deliverEvent(d, { event: e, attempt: 3, firstAttemptDateTime: '2026-01-01T00:00:00.000Z' })).toBe('retry-scheduled');
    expect(queued).toEqual([{ message: { event: e, attempt: 4, firstAttemptDateTime: '2026-01-01T00:00:00.000Z' }, delay: 40 }]);
    expect(log.attempts[0]).toMatchObject({ result: 'retry-scheduled', nextAttemptDateTime: '2026-01-01T00:01:20.000Z' });
  });

  it('dead-letters after the window, and a redelivery queues the same event afresh', async () => {
    const e = event();
    const { d, queued, log } = deps([{ delivered: false, error: 'Timeout', durationMs: 10_000 }], new Date('2026-01-01T01:00:00Z'));
    expect(await deliverEvent(d, { event: e, attempt: 9, firstAttemptDateTime: '2026-01-01T00:00:00.000Z' })).toBe('dead-lettered');
    expect(queued).toEqual([]);
    expect(log.dead.get(e.id)).toMatchObject({ attempts: 9, lastError: 'Timeout' });
    await redeliverEvent(d, e.id);
    expect(queued).toEqual([{ message: { event: e, attempt: 1 }, delay: undefined }]);
    expect(log.dead.size).toBe(0);
    await expect(redeliverEvent(d, e.id)).rejects.toMatchObject({ code: 'DeliveryNotFound' });
  });

  it('throws when the next try cannot be stored, so the host retries this one', async () => {
    const { d, log } = deps([{ delivered: false, statusCode: 500, error: 'HttpStatus', durationMs: 1 }], new Date('2026-01-01T00:00:00Z'));
    d.queue = { enqueue: async () => { throw new Error('queue down'); } };
    await expect(deliverEvent(d, { event: event(), attempt: 1 })).rejects.toThrow('queue down');
    expect(log.attempts).toEqual([]);
  });
});

/** Sessions in memory, with the Table repository's contract: ETag-conditional writes, sweep by nextSweepDateTime. */
class MemorySessions implements SessionRepository {
  rows = new Map<string, LivenessSession>();
  private version = 0;
  async create(s: LivenessSession) { const row = { ...s, etag: String(++this.version) }; this.rows.set(s.sessionId, row); return row; }
  async get(id: string) { return this.rows.get(id); }
  async findByFaceSessionId(faceSessionId: string) { return [...this.rows.values()].find((s) => s.faceSessionId === faceSessionId); }
  async mutate(target: string | LivenessSession, change: SessionChange) {
    const id = typeof target === 'string' ? target : target.sessionId;
    const current = this.rows.get(id);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    const row = { ...next, etag: String(++this.version) };
    this.rows.set(id, row);
    return row;
  }
  async delete(s: LivenessSession) { this.rows.delete(s.sessionId); }
  async list() { return { items: [] }; }
  async listDue(now: Date) {
    return { items: [...this.rows.values()].filter((s) => s.nextSweepDateTime && Date.parse(s.nextSweepDateTime) <= now.getTime()) };
  }
  async listBySubject(subjectKey: string) { return [...this.rows.values()].filter((s) => s.subjectKey === subjectKey); }
  async listAwaitingReview() { return { items: [...this.rows.values()].filter(awaitingReview) }; }
}

describe('the session outbox', () => {
  const settings = {
    imageRetentionHours: 0, recordRetentionDays: 30, eventRecoverySeconds: 60, sweepPageSize: 10, sweepConcurrency: 2,
  } as LivenessSettings;
  const base: LivenessSession = {
    sessionId: '11111111-1111-4111-8111-111111111111', createdDateTime: '2026-01-01T00:00:00.000Z',
    authTokenTimeToLiveInSeconds: 600, authTokenExpiresDateTime: '2026-01-01T00:10:00.000Z', livenessOperationMode: 'Passive',
    enableSessionImage: false, status: 'ResultAvailable', verifyImage: {}, subject: 'alice',
    storedVerifyImage: { blobName: 'b', contentType: 'image/jpeg', sizeInBytes: 2000, sha256: 'A'.repeat(64) },
    faceSessionDeleted: true, imagesDeleted: true, sessionImageBlobs: [], deleting: false,
    decision: {
      outcome: 'pass', reasons: [], livenessDecision: 'realface', matchConfidence: 0.93, isIdentical: true, attemptId: 1,
      verifyImageHashMatches: true, policyVersion: 'p1', decidedDateTime: '2026-01-01T00:05:00.000Z',
    },
  };

  function world(now: Date) {
    const sessions = new MemorySessions();
    const sent: LivenessEvent[] = [];
    let failures = 0;
    const queue = { enqueue: async (e: LivenessEvent) => { if (failures > 0) { failures--; throw new Error('queue down'); } sent.push(e); } };
    const deps = {
      sessions, settings, clock: { now: () => now }, logger: silent, events: queue,
      face: { delete: async () => undefined }, images: { delete: async () => undefined }, audit: { deleteAll: async () => undefined },
      quota: noSubjectQuota, limiter: noAttemptLimits,
      // The sweep also finishes interrupted erasures (none here): it reads the erasing index of the subject store.
      subjects: new MemorySubjects(),
      evidence: new InMemoryEvidenceLog(), evidenceSigner: new MemoryEvidenceSigner(),
      deliveries: { erase: async () => ({ deliveryAttempts: 0, deadLetters: 0 }), pruneAttempts: async () => 0 },
      activity: new InMemorySubjectActivity(),
      // The sweep also expires verification links (none here).
      verifications: new InMemoryVerificationStore(),
      metrics: { sessionCreated: () => undefined, decisionRecorded: () => undefined, timeToResult: () => undefined, sweepDeletions: () => undefined },
    } as unknown as LivenessDeps;
    return { sessions, sent, deps, failNext: (n: number) => { failures = n; } };
  }

  it('leaves out scores unless the setting is on', () => {
    const at = new Date('2026-01-01T00:05:00.000Z');
    expect(sessionDecidedEvent(base, false, at).data).not.toHaveProperty('scores');
    expect(sessionDecidedEvent(base, true, at).data.scores).toEqual({ livenessDecision: 'realface', matchConfidence: 0.93, isIdentical: true });
    expect(JSON.stringify(sessionDecidedEvent(base, false, at))).not.toMatch(/0\.93|realface|sha256|blob/i);
  });

  it('makes a session with a pending event due for the sweep soon after the event', () => {
    const at = new Date('2026-01-01T00:05:00.000Z');
    const withPending = { ...base, pendingEvents: [sessionDecidedEvent(base, false, at)] };
    expect(nextSweepTime(withPending, settings)?.toISOString()).toBe('2026-01-01T00:06:00.000Z');
    expect(nextSweepTime(base, settings)?.toISOString()).toBe('2026-01-31T00:10:00.000Z');
  });

  it('keeps an event whose enqueue failed on the row, and the sweep sends it once', async () => {
    const at = new Date('2026-01-01T00:05:00.000Z');
    const w = world(at);
    await w.sessions.create(base);
    // The change that records the decision writes the event with it (as collect-result.ts does).
    const written = (await updateSession(w.deps, base.sessionId, (s) => withEvent(w.deps, { ...s, status: 'ResultAvailable' }, sessionDecidedEvent(s, false, at))))!;
    expect(written.nextSweepDateTime).toBe('2026-01-01T00:06:00.000Z'); // event time + eventRecoverySeconds
    w.failNext(1); // the crash window: the decision is written, the enqueue does not happen
    const first = await publishPendingEvents(w.deps, written);
    expect(first.unsent).toBe(1);
    expect(w.sent).toEqual([]);
    expect((await w.sessions.get(base.sessionId))!.pendingEvents).toHaveLength(1);

    // A minute later the sweep finds it due and sends it; the outbox is then empty and the session not due again soon.
    const later = world(new Date('2026-01-01T00:06:00.000Z'));
    later.sessions.rows = w.sessions.rows;
    const report = await sweepSessions(later.deps);
    expect(report).toMatchObject({ eventsRecovered: 1, failures: 0 });
    expect(later.sent.map((e) => e.type)).toEqual(['liveness.session.decided']);
    expect(later.sent[0]!.id).toBe(written.pendingEvents![0]!.id);
    const after = (await later.sessions.get(base.sessionId))!;
    expect(after.pendingEvents ?? []).toEqual([]);
    expect(after.nextSweepDateTime).toBe('2026-01-31T00:10:00.000Z');
    await sweepSessions(later.deps); // nothing due: nothing sent twice
    expect(later.sent).toHaveLength(1);
  });

  it('does not remove an erased session while its event is unsent; a later sweep sends it and finishes', async () => {
    const w = world(new Date('2026-01-02T00:00:00.000Z'));
    await w.sessions.create(base);
    w.failNext(1);
    await expect(deleteSession(w.deps, base.sessionId)).rejects.toMatchObject({ code: 'StorageUnavailable' });
    const row = (await w.sessions.get(base.sessionId))!;
    expect(row).toMatchObject({ deleting: true, pendingEvents: [expect.objectContaining({ type: 'liveness.session.erased' })] });
    expect(row.nextSweepDateTime).toBe('2026-01-02T00:01:00.000Z');

    const later = world(new Date('2026-01-02T00:01:00.000Z'));
    later.sessions.rows = w.sessions.rows;
    await sweepSessions(later.deps);
    expect(later.sent.map((e) => e.type)).toEqual(['liveness.session.erased']);
    expect(await later.sessions.get(base.sessionId)).toBeUndefined();
  });

  it('makes no events when no webhook is configured', async () => {
    const w = world(new Date('2026-01-01T00:05:00.000Z'));
    expect(w.deps.events).toBeDefined();
    expect(withEvent({ events: undefined }, base, event()).pendingEvents).toBeUndefined();
  });
});
