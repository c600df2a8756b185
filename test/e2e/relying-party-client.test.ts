// The relying parties' TypeScript client (clients/typescript) against the local stack, played the way a relying
// party's back end uses it: a client-credentials token with the role Verifications.Create (here from the dev OIDC
// issuer), create a verification with the client, read it, cancel it; a webhook receiver that accepts only what
// verifyWebhook verifies; and the whole path of one verification: the person's page exchanges the link and runs the
// check (played over HTTP here; the Chromium test of the page is test/e2e/pages-verification.test.ts), the receiver
// verifies the decided event for that verificationId, and the read shows pass.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerificationsClient, verifyWebhook, VerificationsApiError, WebhookVerificationError, type VerificationsClient, type WebhookEvent,
} from '../../clients/typescript/index.js';
import { BACKOFFICE_AUDIENCE } from '../../dev/oidc-issuer/issuer.js';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import {
  bearer, deviceToken, eventually, fixture, getJson, issueToken, startForm, startStack, type Stack,
} from '../support/liveness.js';

const face = fixture('face-grace-hopper.jpg');
const RP_ROLE = 'Verifications.Create';
const PAGES_ORIGIN = 'http://localhost:7983'; // links point here; nothing needs to listen for these tests
const RETURN_URL = 'http://127.0.0.1:7984/verify/done';

/** A relying party's webhook endpoint: it keeps what arrives as it arrived and accepts only what verifyWebhook verifies. */
interface RawDelivery { body: string; headers: Record<string, string>; event?: WebhookEvent; status: number }
async function startRelyingPartyReceiver(secret: string): Promise<{ url: string; deliveries: RawDelivery[]; close(): Promise<void> }> {
  const deliveries: RawDelivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
      try {
        const event = verifyWebhook(body, req.headers, secret);
        deliveries.push({ body, headers, event, status: 204 });
        res.writeHead(204).end();
      } catch {
        deliveries.push({ body, headers, status: 401 });
        res.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The token a relying party's back end gets with client credentials (Entra ID in production; the dev issuer here). */
const relyingPartyToken = (sub = 'rp-shop-backend', roles = [RP_ROLE]) => issueToken({ sub, aud: BACKOFFICE_AUDIENCE, roles });

describe("relying parties' client (clients/typescript) against the local stack", () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let stack: Stack;
  let receiver: Awaited<ReturnType<typeof startRelyingPartyReceiver>>;
  let client: VerificationsClient;
  let tokenRequests = 0;

  beforeAll(async () => {
    receiver = await startRelyingPartyReceiver(secret);
    stack = await startStack({
      PAGES_ORIGIN, VERIFICATION_RETURN_URLS: 'http://127.0.0.1:7984/verify', WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret,
    });
    client = createVerificationsClient({
      baseUrl: stack.api,
      getAccessToken: async () => { tokenRequests++; return relyingPartyToken(); },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('creates a verification (pending, link sent), reads it, cancels it (then cancelled, its link dead); an unknown one reads 404', async () => {
    const before = tokenRequests;
    const created = await client.createVerification({
      externalUserId: `user-${randomBytes(4).toString('hex')}`, clientReferenceId: 'order-7731', returnUrl: RETURN_URL, locale: 'en',
      referenceImage: face,
    });
    expect(tokenRequests).toBe(before + 1); // the token is asked for per call, so the caller's cache decides
    expect(created.verificationId).toMatch(/^[0-9a-f-]{36}$/);
    const url = new URL(created.url);
    expect(url.origin).toBe(PAGES_ORIGIN);
    expect(url.pathname).toBe('/device/');
    expect(url.searchParams.get('verification')).toBe(created.verificationId);
    expect(url.hash).toMatch(/^#link=[A-Za-z0-9_-]{40,}/); // the token rides in the fragment, never to a server
    expect(Date.parse(created.expiresDateTime)).toBeGreaterThan(Date.now());

    const read = await client.getVerification(created.verificationId);
    expect(read).toMatchObject({ verificationId: created.verificationId, status: 'pending', linkState: 'sent', clientReferenceId: 'order-7731' });
    expect(JSON.stringify(read)).not.toMatch(/user-|subject|score|confidence/i);

    // Cancelled: the record stays (status cancelled, until its retention ends); the link is dead.
    await client.cancelVerification(created.verificationId);
    expect(await client.getVerification(created.verificationId)).toMatchObject({ verificationId: created.verificationId, status: 'cancelled' });
    // One the caller never created reads 404, as a typed error with the API's code.
    const unknown = await client.getVerification('019ac1f2-7a3b-7c4d-8e5f-0123456789ab').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(VerificationsApiError);
    expect(unknown).toMatchObject({ status: 404 });
    expect((unknown as VerificationsApiError).code).toMatch(/NotFound/);
    const exchange = await getJson(`${stack.api}/verification-links/exchange`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: url.hash.slice('#link='.length) }),
    });
    expect(exchange.status).toBe(410);
  });

  it('sends idempotencyKey as Idempotency-Key: a retry gets the same verification (with a new link), another request under the key 422', async () => {
    const input = { externalUserId: `user-${randomBytes(4).toString('hex')}`, clientReferenceId: 'order-retry', referenceImage: face, idempotencyKey: `key-${randomBytes(4).toString('hex')}` };
    const first = await client.createVerification(input);
    const retry = await client.createVerification(input);
    expect(retry.verificationId).toBe(first.verificationId);
    const other = await client.createVerification({ ...input, clientReferenceId: 'another-order' }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(VerificationsApiError);
    expect(other).toMatchObject({ status: 422, code: 'IdempotencyKeyReused' });
  });

  it("refuses a device token and a token without the role with 403, as a typed error carrying the API's code", async () => {
    for (const getAccessToken of [() => deviceToken(), () => relyingPartyToken('rp-without-role', [])]) {
      const other = createVerificationsClient({ baseUrl: stack.api, getAccessToken });
      const refused = await other.createVerification({ externalUserId: 'someone', referenceImage: face }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(VerificationsApiError);
      expect(refused).toMatchObject({ status: 403 });
      expect((refused as VerificationsApiError).code).toMatch(/^[A-Za-z]+$/);
    }
  });

  it('verifyWebhook refuses a wrong signature, a wrong secret and a changed body, and accepts what the app signed', () => {
    const event = { id: 'evt_test', type: 'liveness.session.decided', timestamp: new Date().toISOString(), data: { sessionId: 'x' } };
    const body = JSON.stringify(event);
    const now = new Date();
    const signed = (key: string, payload = body) => ({
      'webhook-id': 'evt_test', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(key).sign('evt_test', now, payload),
    });
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    expect(() => verifyWebhook(body, signed(other), secret)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(body, { ...signed(secret), 'webhook-signature': 'v1,AAAA' }, secret)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(body.replace('"x"', '"y"'), signed(secret), secret)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(body, {}, secret)).toThrow(WebhookVerificationError);
    // During a rotation either secret verifies; Fetch Headers and bytes work as well as Node's objects and strings.
    expect(verifyWebhook(new TextEncoder().encode(body), new Headers(signed(secret)), [other, secret])).toEqual(event);
  });

  it('the whole path: link exchanged, check run, the receiver verifies the decided event for the verificationId, the read shows pass', async () => {
    const clientReferenceId = `order-${randomBytes(3).toString('hex')}`;
    const created = await client.createVerification({
      externalUserId: `user-${randomBytes(4).toString('hex')}`, clientReferenceId, returnUrl: RETURN_URL, referenceImage: face,
    });

    // The person's page: the token from the fragment, exchanged for an access token; then the ordinary device routes.
    const token = new URL(created.url).hash.slice('#link='.length);
    const exchanged = await getJson(`${stack.api}/verification-links/exchange`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }),
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).toMatchObject({ verificationId: created.verificationId, returnUrl: RETURN_URL });
    const access = bearer(exchanged.body.accessToken as string);
    const started = await getJson(`${stack.api}/liveness-sessions`, { method: 'POST', headers: access, body: startForm(undefined) });
    expect(started.status).toBe(201);
    expect((await performDeviceAttempt(stack.faceEndpoint, started.body.authToken as string, face)).status).toBe(204);
    const completed = await fetch(`${stack.api}/liveness-sessions/${started.body.sessionId}/complete`, { method: 'POST', headers: access });
    expect(completed.status).toBe(202);

    // The relying party's receiver verified the decided event (with verifyWebhook), which names the verification.
    const delivery = await eventually(async () => receiver.deliveries.find((d) =>
      d.event?.type === 'liveness.session.decided' && d.event.data.verificationId === created.verificationId), // typed: no cast
    `the decided event of ${created.verificationId}`, 60_000);
    expect(delivery.status).toBe(204);
    expect(delivery.event!.data).toMatchObject({ verificationId: created.verificationId, clientReferenceId, outcome: 'pass' });
    // The very bytes the app sent verify; the same delivery with one byte changed does not.
    expect(verifyWebhook(delivery.body, delivery.headers, secret)).toEqual(delivery.event);
    expect(() => verifyWebhook(delivery.body.replace('"pass"', '"fail"'), delivery.headers, secret)).toThrow(WebhookVerificationError);
    expect(receiver.deliveries.every((d) => d.status === 204)).toBe(true);

    const read = await eventually(async () => {
      const v = await client.getVerification(created.verificationId);
      return v.status === 'pass' ? v : undefined;
    }, 'the verification to read pass');
    expect(read).toMatchObject({ status: 'pass', outcome: 'pass', linkState: 'used', clientReferenceId });
    expect(read.decidedDateTime).toBeDefined();
  }, 120_000);
});
