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

/** The stack one describe runs against: its own emulator (vision decisions), webhook receiver, dev host and pages. */
interface RelyingPartyWorld {
  emulatorServer: RunningFaceEmulator;
  receiver: RunningWebhookReceiver;
  stack: Stack;
  origin: string;
  dir: string;
  close(): Promise<void>;
  /** The relying party's create: this reference, this clientReferenceId, back to `<origin>/shop/done?order=<id>`. */
  createVerification(reference: Uint8Array, clientReferenceId: string): Promise<{ verificationId: string; url: string }>;
  /** The decided event the receiver got for a verification (polled). */
  decidedFor(verificationId: string): ReturnType<typeof eventually<RunningWebhookReceiver['deliveries'][number]>>;
}

async function startRelyingPartyWorld(name: string, settings: (emulatorUrl: string) => Record<string, string> = () => ({})): Promise<RelyingPartyWorld> {
  const key = `${name}-key`;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const emulatorServer = await startFaceEmulator({ port: 0, apiKey: key, decisions: 'vision' });
  const receiver = await startWebhookReceiver({ secrets: [secret], print: () => undefined });
  const reserved = await reservePagesOrigin();
  const origin = reserved.origin;
  const stack = await startStack({
    DEVHOST_CORS: origin, PAGES_ORIGIN: origin, VERIFICATION_RETURN_URLS: `${origin}/shop`,
    WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, WEBHOOK_OUTBOX_RECOVERY_SECONDS: '0',
    ...settings(emulatorServer.url),
  }, { endpoint: emulatorServer.url, key });
  const pages: RunningPages = await servePages(reserved.port, stack.api, inject('issuerUrl'), emulatorServer.url);
  return {
    emulatorServer, receiver, stack, origin, dir,
    async close() {
      await pages.close();
      await stack.stop();
      await receiver.close();
      await emulatorServer.close();
      await rm(dir, { recursive: true, force: true });
    },
    async createVerification(reference, clientReferenceId) {
      const form = new FormData();
      form.set('externalUserId', `shopper-${randomBytes(4).toString('hex')}`);
      form.set('clientReferenceId', clientReferenceId);
      form.set('returnUrl', `${origin}/shop/done?order=${clientReferenceId}`);
      form.set('referenceImage', new File([reference], 'reference.jpg', { type: 'image/jpeg' }));
      const res = await getJson(`${stack.api}/verifications`, { method: 'POST', headers: bearer(await rpToken()), body: form });
      expect(res.status).toBe(201);
      return res.body as { verificationId: string; url: string };
    },
    decidedFor: (verificationId) => eventually(async () => receiver.deliveries.find((d) => d.verified
      && d.payload?.type === 'liveness.session.decided' && d.payload.data.verificationId === verificationId), `the decided event of ${verificationId}`, 30_000),
  };
}

describe('verification links in the device page (Chromium, fake camera, vision emulator)', () => {
  let world: RelyingPartyWorld;
  let graceCamera: string;
  let astronautCamera: string;

  beforeAll(async () => {
    world = await startRelyingPartyWorld('pages-verification');
    [graceCamera, astronautCamera] = await Promise.all([
      fakeCameraFile(GRACE, world.dir, 'grace.y4m'), fakeCameraFile(ASTRONAUT, world.dir, 'astronaut.y4m'),
    ]);
  }, 180_000);

  afterAll(async () => { await world?.close(); });

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


  it('the person passes with their own face and lands on the returnUrl with status=pass; the webhook and the read say pass', async () => {
    const created = await world.createVerification(GRACE, 'order-pass');
    const landed = await runLink(created.url, graceCamera);
    expect(Object.fromEntries(landed.searchParams)).toEqual({ order: 'order-pass', verificationId: created.verificationId, status: 'pass' });
    const event = await world.decidedFor(created.verificationId);
    expect(event.payload!.data).toMatchObject({ outcome: 'pass', clientReferenceId: 'order-pass' });
    const read = await getJson(`${world.stack.api}/verifications/${created.verificationId}`, { headers: bearer(await rpToken()) });
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
    const created = await world.createVerification(GRACE, 'order-fail');
    const landed = await runLink(created.url, astronautCamera);
    expect(landed.searchParams.get('status')).toBe('fail');
    expect(landed.searchParams.get('verificationId')).toBe(created.verificationId);
    const event = await world.decidedFor(created.verificationId);
    expect(event.payload!.data).toMatchObject({ outcome: 'fail', clientReferenceId: 'order-fail' });
    const read = await getJson(`${world.stack.api}/verifications/${created.verificationId}`, { headers: bearer(await rpToken()) });
    expect(read.body).toMatchObject({ status: 'fail', outcome: 'fail' });
  }, 180_000);
});

describe("verification links through Face Quick Link (FACE_QUICK_LINK=on; the emulator's hosted page)", () => {
  let world: RelyingPartyWorld;
  let graceCamera: string;

  beforeAll(async () => {
    world = await startRelyingPartyWorld('pages-quicklink', (emulatorUrl) => ({ FACE_QUICK_LINK: 'on', FACE_QUICK_LINK_ENDPOINT: emulatorUrl }));
    graceCamera = await fakeCameraFile(GRACE, world.dir, 'grace.y4m');
  }, 180_000);

  afterAll(async () => { await world?.close(); });

  it("consent on our page, the capture on Face's hosted page, the callback, the result, the returnUrl", async () => {
    const { emulatorServer, origin, stack } = world;
    const created = await world.createVerification(GRACE, 'order-quick');

    const browser = await launchBrowser({ cameraFile: graceCamera, cameraAllowed: true });
    const visited: string[] = [];
    try {
      const { page } = browser;
      page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) visited.push(frame.url()); });
      await page.goto(created.url);
      await page.getByText(`Consent text version ${CONSENT_VERSION}`).waitFor();
      await page.getByLabel('I have read this and agree').check();
      await page.getByRole('button', { name: 'Start check' }).click();
      await page.waitForURL((u) => u.pathname === '/shop/done', { timeout: 90_000 });
      const landed = new URL(page.url());
      expect(landed.searchParams.get('status')).toBe('pass');
      expect(landed.searchParams.get('verificationId')).toBe(created.verificationId);
    } finally {
      await browser.close();
    }
    // The person went through the emulator's hosted page and came back through the callback.
    expect(visited.some((u) => u.startsWith(`${emulatorServer.url}/?s=`))).toBe(true);
    expect(visited.some((u) => u.startsWith(`${origin}/device/?verification=${created.verificationId}&quickLink=done`))).toBe(true);
    const event = await world.decidedFor(created.verificationId);
    expect(event.payload!.data).toMatchObject({ outcome: 'pass', clientReferenceId: 'order-quick' });
    const read = await getJson(`${stack.api}/verifications/${created.verificationId}`, { headers: bearer(await rpToken()) });
    expect(read.body).toMatchObject({ status: 'pass', outcome: 'pass' });
    // The callback's secret (in the callbackUrl handed to Face's page) is in no log line of the dev host.
    const hosted = new URL(visited.find((u) => u.startsWith(`${emulatorServer.url}/?s=`))!);
    const callback = new URL(hosted.searchParams.get('callbackUrl')!);
    expect(callback.pathname).toBe(`/api/verifications/${created.verificationId}/quick-link-callback`);
    const callbackSecret = callback.searchParams.get('secret')!;
    expect(callbackSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stack.logs()).not.toContain(callbackSecret);
  }, 180_000);

  it('a callback without the right secret is a 404 and triggers nothing', async () => {
    const id = '019ac1f2-7a3b-7c4d-8e5f-0123456789ab';
    const res = await fetch(`${world.stack.api}/verifications/${id}/quick-link-callback?secret=${'A'.repeat(43)}`, { redirect: 'manual' });
    expect(res.status).toBe(404);
    const post = await fetch(`${world.stack.api}/verifications/${id}/quick-link-callback`, { method: 'POST', redirect: 'manual' });
    expect(post.status).toBe(404);
  });
});
