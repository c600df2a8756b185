// Verification links over HTTP against the dev host, Azurite and the Face emulator: the relying party creates a
// verification (its Entra-style token with the app role, from the dev issuer), the page's part is played with fetch
// (exchange the link token, start the check with the access token, capture against the emulator, complete, poll),
// the receiver gets the decided event with the verificationId and clientReferenceId, and the read shows pass. And the
// attacks: a reused link, a foreign returnUrl, the wrong kind of token, another relying party's token, tokens in logs.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKOFFICE_AUDIENCE, DEVICE_AUDIENCE } from '../../dev/oidc-issuer/issuer.js';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { startWebhookReceiver, type RunningWebhookReceiver } from '../../dev/webhook-receiver/receiver.js';
import { sessionDecidedEventSchema } from '../../src/contract/webhooks.js';
import {
  backOfficeToken, bearer, checkedFetch, CONSENT_VERSION, deviceToken, eventually, fixture, issueToken, startStack, type Stack,
} from '../support/liveness.js';

const reference = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
const ROLE = 'Verifications.Create';
const RETURN = 'http://127.0.0.1:7999/shop/done';
const rpToken = (sub = 'rp-app-1', roles = [ROLE]) => issueToken({ sub, aud: BACKOFFICE_AUDIENCE, roles });

function createForm(fields: Record<string, string>, image: Uint8Array | undefined = reference): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  if (image) form.set('referenceImage', new File([image], 'ref.jpg', { type: 'image/jpeg' }));
  return form;
}

describe('verification links (relying parties)', () => {
  let stack: Stack;
  let receiver: RunningWebhookReceiver;
  const key = `whsec_${randomBytes(32).toString('base64')}`;

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secrets: [key], print: () => undefined });
    stack = await startStack({
      WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: key, WEBHOOK_OUTBOX_RECOVERY_SECONDS: '0',
      PAGES_ORIGIN: 'http://127.0.0.1:7998', VERIFICATION_RETURN_URLS: 'http://127.0.0.1:7999/shop',
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const create = async (fields: Record<string, string>, token?: string, image?: Uint8Array | null) =>
    checkedFetch(`${stack.api}/verifications`, {
      method: 'POST', headers: bearer(token ?? await rpToken()), body: createForm(fields, image === null ? undefined : image ?? reference),
    });

  it('create → link → exchange → check → pass → webhook → read, with no token in any log line', async () => {
    const created = await create({ externalUserId: `user-${randomBytes(4).toString('hex')}`, clientReferenceId: 'order-7731', returnUrl: `${RETURN}?x=1` });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { verificationId: string; url: string; expiresDateTime: string };
    expect(created.headers.get('location')).toBe(`/api/verifications/${body.verificationId}`);
    const url = new URL(body.url);
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:7998/device/');
    expect(url.searchParams.get('verification')).toBe(body.verificationId);
    const linkToken = new URLSearchParams(url.hash.slice(1)).get('link')!;
    expect(linkToken).toMatch(/^vlt_/);

    const exchanged = await checkedFetch(`${stack.api}/verification-links/exchange`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: linkToken }),
    });
    expect(exchanged.status).toBe(200);
    const access = (await exchanged.json()) as { verificationId: string; accessToken: string; returnUrl: string; consent: { currentVersion: string } };
    expect(access).toMatchObject({ verificationId: body.verificationId, returnUrl: `${RETURN}?x=1`, consent: { currentVersion: CONSENT_VERSION } });

    // The link is single use: a person-readable 410.
    const again = await checkedFetch(`${stack.api}/verification-links/exchange`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: linkToken }),
    });
    expect(again.status).toBe(410);
    expect(((await again.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'LinkUsed', message: expect.stringMatching(/already been used/) });

    // The check, with the access token on the ordinary device routes; a device image is refused.
    const withImage = new FormData();
    withImage.set('consentVersion', CONSENT_VERSION);
    withImage.set('verifyImage', new File([reference], 'v.jpg', { type: 'image/jpeg' }));
    const refused = await checkedFetch(`${stack.api}/liveness-sessions`, { method: 'POST', headers: bearer(access.accessToken), body: withImage });
    expect(refused.status).toBe(400);
    const form = new FormData();
    form.set('consentVersion', CONSENT_VERSION);
    const started = await checkedFetch(`${stack.api}/liveness-sessions`, { method: 'POST', headers: bearer(access.accessToken), body: form });
    expect(started.status).toBe(201);
    const session = (await started.json()) as { sessionId: string; authToken: string };
    const second = await checkedFetch(`${stack.api}/liveness-sessions`, { method: 'POST', headers: bearer(access.accessToken), body: (() => { const f = new FormData(); f.set('consentVersion', CONSENT_VERSION); return f; })() });
    expect(second.status).toBe(409);
    await performDeviceAttempt(stack.faceEndpoint, session.authToken, capture);
    const completed = await checkedFetch(`${stack.api}/liveness-sessions/${session.sessionId}/complete`, { method: 'POST', headers: bearer(access.accessToken) });
    expect(completed.status).toBe(202);
    await eventually(async () => {
      const res = await checkedFetch(`${stack.api}/liveness-sessions/${session.sessionId}/status`, { headers: bearer(access.accessToken) });
      const status = ((await res.json()) as { status: string }).status;
      return status === 'pending' ? undefined : status;
    }, 'the outcome', 30_000);

    const delivery = await eventually(async () => receiver.deliveries.find((d) => d.verified && d.payload?.type === 'liveness.session.decided'
      && d.payload.data.sessionId === session.sessionId), 'the decided event', 20_000);
    const event = sessionDecidedEventSchema.parse(delivery.payload);
    expect(event.data).toMatchObject({ verificationId: body.verificationId, clientReferenceId: 'order-7731', outcome: 'pass' });
    expect(event.data.subject).toBeUndefined();

    const read = await checkedFetch(`${stack.api}/verifications/${body.verificationId}`, { headers: bearer(await rpToken()) });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ verificationId: body.verificationId, status: 'pass', linkState: 'used', outcome: 'pass', clientReferenceId: 'order-7731' });

    // The back office sees it in its list, with its session.
    const list = await checkedFetch(`${stack.api}/backoffice/verifications`, { headers: bearer(await backOfficeToken()) });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { value: Array<Record<string, unknown>> }).value).toContainEqual(expect.objectContaining({
      verificationId: body.verificationId, status: 'pass', linkState: 'used', origin: 'link', sessionId: session.sessionId,
    }));

    // Neither token is in any log line of the dev host.
    const logs = stack.logs();
    expect(logs).not.toContain(linkToken.split('.')[1]);
    expect(logs).not.toContain(access.accessToken.split('.')[1]);
  }, 90_000);

  it('refuses a returnUrl outside the allow-list (400), before anything is stored', async () => {
    for (const returnUrl of ['https://evil.example/shop', 'http://127.0.0.1:7999/shopping', 'http://127.0.0.1:8000/shop', 'http://u:p@127.0.0.1:7999/shop']) {
      const res = await create({ externalUserId: 'user-r', returnUrl });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ReturnUrlNotAllowed');
    }
  });

  it('no token 401; a device token, a token without the role, a back-office token 403; a link access token 403', async () => {
    const none = await checkedFetch(`${stack.api}/verifications`, { method: 'POST', body: createForm({ externalUserId: 'u' }) });
    expect(none.status).toBe(401);
    expect((await create({ externalUserId: 'u' }, await deviceToken())).status).toBe(403);
    expect((await create({ externalUserId: 'u' }, await rpToken('rp-app-1', []))).status).toBe(403);
    expect((await create({ externalUserId: 'u' }, await backOfficeToken())).status).toBe(403);
    expect((await create({ externalUserId: 'u' }, await issueToken({ sub: 'x', aud: DEVICE_AUDIENCE, roles: [ROLE] }))).status).toBe(403);
    expect((await create({ externalUserId: 'u' }, `vla_${'0'.repeat(10)}`)).status).toBe(403);
  });

  it("another relying party's token reading or cancelling a verification gets 404; cancel makes the link 410", async () => {
    const created = (await (await create({ externalUserId: 'user-c' })).json()) as { verificationId: string; url: string };
    const other = await rpToken('rp-app-2');
    expect((await checkedFetch(`${stack.api}/verifications/${created.verificationId}`, { headers: bearer(other) })).status).toBe(404);
    expect((await checkedFetch(`${stack.api}/verifications/${created.verificationId}`, { method: 'DELETE', headers: bearer(other) })).status).toBe(404);
    expect((await checkedFetch(`${stack.api}/verifications/${created.verificationId}`, { method: 'DELETE', headers: bearer(await rpToken()) })).status).toBe(204);
    const token = new URLSearchParams(new URL(created.url).hash.slice(1)).get('link');
    const res = await checkedFetch(`${stack.api}/verification-links/exchange`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }),
    });
    expect(res.status).toBe(410);
    const read = await checkedFetch(`${stack.api}/verifications/${created.verificationId}`, { headers: bearer(await rpToken()) });
    expect(await read.json()).toMatchObject({ status: 'cancelled' });
  });

  it('the back office issues a new link; the old one is then 410', async () => {
    const created = (await (await create({ externalUserId: 'user-q' })).json()) as { verificationId: string; url: string };
    const res = await checkedFetch(`${stack.api}/backoffice/verifications/${created.verificationId}/link`, { method: 'POST', headers: bearer(await backOfficeToken()) });
    expect(res.status).toBe(200);
    const fresh = (await res.json()) as { url: string };
    const tokenOf = (u: string) => new URLSearchParams(new URL(u).hash.slice(1)).get('link');
    const exchange = (token: string | null) => checkedFetch(`${stack.api}/verification-links/exchange`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }),
    });
    expect((await exchange(tokenOf(created.url))).status).toBe(410);
    expect((await exchange(tokenOf(fresh.url))).status).toBe(200);
  });
});

describe('verification links: expiry (a dev host with 3-second links)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ PAGES_ORIGIN: 'http://127.0.0.1:7998', VERIFICATION_LINK_TTL_MINUTES: '0.05' });
  });
  afterAll(async () => { await stack?.stop(); });

  it('an expired link is 410 LinkExpired, in words a person understands', async () => {
    const form = createForm({ externalUserId: 'user-late' });
    const created = await checkedFetch(`${stack.api}/verifications`, { method: 'POST', headers: bearer(await rpToken()), body: form });
    expect(created.status).toBe(201);
    const { verificationId, url } = (await created.json()) as { verificationId: string; url: string };
    // The read turns expired when the lifetime ends (nothing is exchanged meanwhile: that would use the link).
    await eventually(async () => {
      const read = await checkedFetch(`${stack.api}/verifications/${verificationId}`, { headers: bearer(await rpToken()) });
      const body = (await read.json()) as { status: string; linkState: string };
      return body.status === 'expired' && body.linkState === 'expired' ? true : undefined;
    }, 'the link to expire', 20_000);
    const res = await checkedFetch(`${stack.api}/verification-links/exchange`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: new URLSearchParams(new URL(url).hash.slice(1)).get('link') }),
    });
    expect(res.status).toBe(410);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'LinkExpired', message: expect.stringMatching(/expired/) });
  }, 60_000);
});
