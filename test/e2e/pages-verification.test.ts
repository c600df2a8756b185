// Verification links in Chromium, with a fake camera playing a fixture photo, against the dev host, Azurite and a Face
// emulator that compares faces for real (vision decisions). The test plays the relying party: it creates a
// verification over HTTP (its token with the app role), then a fresh browser with no sign-in opens the link,
// consents, runs the check and lands on the returnUrl with the verificationId and a coarse status; the webhook
// receiver got the decided event for that verification, and the read shows the outcome. A link used once is a page
// a person understands.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BACKOFFICE_AUDIENCE } from '../../dev/oidc-issuer/issuer.js';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';
import type { RunningPages } from '../../dev/pages/server.js';
import { startWebhookReceiver, type RunningWebhookReceiver } from '../../dev/webhook-receiver/receiver.js';
import { fakeCameraFile, launchBrowser, reservePagesOrigin, servePages } from '../support/browser.js';
import { bearer, CONSENT_VERSION, eventually, fixture, getJson, issueToken, startStack, type Stack } from '../support/liveness.js';

const GRACE = fixture('face-grace-hopper.jpg');
const ASTRONAUT = fixture('face-astronaut.png');
const rpToken = () => issueToken({ sub: 'rp-shop', aud: BACKOFFICE_AUDIENCE, roles: ['Verifications.Create'] });

describe('verification links in the device page (Chromium, fake camera, vision emulator)', () => {
  const key = 'pages-verification-key';
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let emulatorServer: RunningFaceEmulator;
  let receiver: RunningWebhookReceiver;
  let stack: Stack;
  let pages: RunningPages;
  let origin: string;
  let dir: string;
  let graceCamera: string;
  let astronautCamera: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pages-verification-'));
    [graceCamera, astronautCamera] = await Promise.all([fakeCameraFile(GRACE, dir, 'grace.y4m'), fakeCameraFile(ASTRONAUT, dir, 'astronaut.y4m')]);
    emulatorServer = await startFaceEmulator({ port: 0, apiKey: key, decisions: 'vision' });
    receiver = await startWebhookReceiver({ secrets: [secret], print: () => undefined });
    const reserved = await reservePagesOrigin();
    origin = reserved.origin;
    stack = await startStack({
      DEVHOST_CORS: origin, PAGES_ORIGIN: origin, VERIFICATION_RETURN_URLS: `${origin}/shop`,
      WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, WEBHOOK_OUTBOX_RECOVERY_SECONDS: '0',
    }, { endpoint: emulatorServer.url, key });
    pages = await servePages(reserved.port, stack.api, inject('issuerUrl'), emulatorServer.url);
  }, 180_000);

  afterAll(async () => {
    await pages?.close();
    await stack?.stop();
    await receiver?.close();
    await emulatorServer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function createVerification(reference: Uint8Array, clientReferenceId: string): Promise<{ verificationId: string; url: string }> {
    const form = new FormData();
    form.set('externalUserId', `shopper-${randomBytes(4).toString('hex')}`);
    form.set('clientReferenceId', clientReferenceId);
    form.set('returnUrl', `${origin}/shop/done?order=${clientReferenceId}`);
    form.set('referenceImage', new File([reference], 'reference.jpg', { type: 'image/jpeg' }));
    const res = await getJson(`${stack.api}/verifications`, { method: 'POST', headers: bearer(await rpToken()), body: form });
    expect(res.status).toBe(201);
    return res.body as { verificationId: string; url: string };
  }

  /** Opens the link in a fresh browser, consents and starts the check; resolves with where the page sent the person. */
  async function runLink(url: string, cameraFile: string): Promise<URL> {
    const browser = await launchBrowser({ cameraFile, cameraAllowed: true });
    try {
      const { page } = browser;
      await page.goto(url);
      await page.getByText(`Consent text version ${CONSENT_VERSION}`).waitFor();
      // No sign-in at all, and the link token is gone from the address bar (and so from the history) at once.
      expect(await page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(false);
      expect(page.url()).not.toContain('#');
      expect(page.url()).not.toContain('vlt_');
      await page.getByLabel('I have read this and agree').check();
      await page.getByRole('button', { name: 'Start check' }).click();
      await page.waitForURL((u) => u.pathname === '/shop/done', { timeout: 90_000 });
      return new URL(page.url());
    } finally {
      await browser.close();
    }
  }

  const decidedFor = (verificationId: string) => eventually(async () => receiver.deliveries.find((d) => d.verified
    && d.payload?.type === 'liveness.session.decided' && d.payload.data.verificationId === verificationId), `the decided event of ${verificationId}`, 30_000);

  it('the person passes with their own face and lands on the returnUrl with status=pass; the webhook and the read say pass', async () => {
    const created = await createVerification(GRACE, 'order-pass');
    const landed = await runLink(created.url, graceCamera);
    expect(Object.fromEntries(landed.searchParams)).toEqual({ order: 'order-pass', verificationId: created.verificationId, status: 'pass' });
    const event = await decidedFor(created.verificationId);
    expect(event.payload!.data).toMatchObject({ outcome: 'pass', clientReferenceId: 'order-pass' });
    const read = await getJson(`${stack.api}/verifications/${created.verificationId}`, { headers: bearer(await rpToken()) });
    expect(read.body).toMatchObject({ status: 'pass', linkState: 'used', outcome: 'pass' });

    // The same link a second time: a page a person understands, no check.
    const browser = await launchBrowser({ cameraFile: graceCamera, cameraAllowed: true });
    try {
      await browser.page.goto(created.url);
      await browser.page.getByRole('alert').filter({ hasText: 'This link has already been used' }).waitFor();
      expect(await browser.page.locator('#check').isVisible()).toBe(false);
    } finally {
      await browser.close();
    }
  }, 180_000);

  it("another face against the relying party's reference fails, and the person lands on the returnUrl with status=fail", async () => {
    const created = await createVerification(GRACE, 'order-fail');
    const landed = await runLink(created.url, astronautCamera);
    expect(landed.searchParams.get('status')).toBe('fail');
    expect(landed.searchParams.get('verificationId')).toBe(created.verificationId);
    const event = await decidedFor(created.verificationId);
    expect(event.payload!.data).toMatchObject({ outcome: 'fail', clientReferenceId: 'order-fail' });
    const read = await getJson(`${stack.api}/verifications/${created.verificationId}`, { headers: bearer(await rpToken()) });
    expect(read.body).toMatchObject({ status: 'fail', outcome: 'fail' });
  }, 180_000);
});
