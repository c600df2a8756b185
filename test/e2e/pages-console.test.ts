// The operator console in Chromium: an operator signs in at the dev issuer (a token with the back-office role), sees
// a finished session in the sessions table and the dashboard, and opens its detail with decision, attempts, evidence
// and both images (read through the API with the token). An operator finds a subject, enrols a reference, and erases
// the subject after a confirmation, after which the console shows nothing of them. Failed webhook deliveries are
// listed with their attempts, and Redeliver sends them again. A signed-in person without the role is told so.
// Verifications (relying parties' links) are listed with origin and link state; a new link is issued after a confirm
// step and shown as a URL and a QR code that decodes to it; the new link works once and the old one is dead (410);
// a session started from a link shows its origin and verification in the sessions table and detail.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import jsQRModule from 'jsqr';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../dev/azurite.js';
import { BACKOFFICE_AUDIENCE } from '../../dev/oidc-issuer/issuer.js';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import type { RunningPages } from '../../dev/pages/server.js';
import { startWebhookReceiver, type RunningWebhookReceiver } from '../../dev/webhook-receiver/receiver.js';
import { launchBrowser, reservePagesOrigin, screenshotDir, servePages, signInAt } from '../support/browser.js';
import {
  backOfficeToken, bearer, complete, createSession, deviceToken, eventually, fixture, getJson, issueToken, startForm, startStack,
  type CreatedSession, type Stack,
} from '../support/liveness.js';

// Code passed to page.evaluate runs in the browser: its globals, typed loosely here (no DOM lib for Node code).
declare const document: any;

const face = fixture('face-grace-hopper.jpg');
// jsqr is CommonJS: its function is the module itself at run time, `default` in its types.
const jsQR = ((jsQRModule as any).default ?? jsQRModule) as typeof jsQRModule.default;

/** A session the device finished (capture and completion); its result is being collected. */
async function finishedSession(stack: Stack, token?: string, fields: Record<string, string> = {}): Promise<CreatedSession> {
  const created = await createSession(stack, face, fields, token);
  expect((await performDeviceAttempt(stack.faceEndpoint, created.authToken, face)).status).toBe(204);
  expect((await complete(stack, created)).status).toBe(202);
  return created;
}

async function collected(stack: Stack, sessionId: string) {
  const officer = bearer(await backOfficeToken());
  return eventually(async () => {
    const r = await getJson(`${stack.api}/backoffice/liveness-sessions/${sessionId}`, { headers: officer });
    return r.body?.status === 'ResultAvailable' ? r.body : undefined;
  }, `the result of ${sessionId} to be collected`);
}

describe('operator console (Chromium)', () => {
  let stack: Stack;
  let pages: RunningPages;
  let finished: CreatedSession;
  let open: CreatedSession;

  beforeAll(async () => {
    const { port, origin } = await reservePagesOrigin();
    stack = await startStack({ DEVHOST_CORS: origin, PAGES_ORIGIN: origin });
    pages = await servePages(port, stack.api, inject('issuerUrl'), stack.faceEndpoint);
    finished = await finishedSession(stack, undefined, { deviceCorrelationId: 'console-phone' });
    await collected(stack, finished.sessionId);
    open = await createSession(stack, face, { deviceCorrelationId: 'console-phone-2' });
  }, 120_000);

  afterAll(async () => {
    await pages?.close();
    await stack?.stop();
  });

  it('lists the sessions newest first (rows contain the session id) and filters them by status', async () => {
    const browser = await launchBrowser({ cameraAllowed: false });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}console/`);
      await signInAt(page, 'operator');
      const rows = page.getByRole('table', { name: 'Sessions' }).getByRole('row');
      await rows.filter({ hasText: finished.sessionId }).waitFor();
      const texts = await rows.allInnerTexts();
      const [newer, older] = [texts.findIndex((t) => t.includes(open.sessionId)), texts.findIndex((t) => t.includes(finished.sessionId))];
      expect(newer).toBeGreaterThan(0);
      expect(newer).toBeLessThan(older);
      expect(texts[older]).toContain('ResultAvailable');
      expect(texts[older]).toContain('pass');
      // The dashboard counted both sessions of the last 24 hours, one passed.
      await page.getByText('2 sessions in the last 24 hours: 1 passed').waitFor();
      expect(await page.locator('#chart-outcomes svg rect').count()).toBeGreaterThan(0);
      expect(await page.locator('#summary-time').innerText()).toMatch(/^1 result: median/);
      await page.screenshot({ path: path.join(screenshotDir, 'console-sessions.png'), fullPage: true });

      await page.getByLabel('Status').selectOption('NotStarted');
      await rows.filter({ hasText: finished.sessionId }).waitFor({ state: 'detached' }); // the table reloads
      await rows.filter({ hasText: open.sessionId }).waitFor(); // with the filtered page
      expect(await rows.filter({ hasText: finished.sessionId }).count()).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it("opens a session's detail: decision with reasons and policy, attempts, evidence binding, verify and session images", async () => {
    const browser = await launchBrowser({ cameraAllowed: false });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}console/`);
      await signInAt(page, 'operator');
      await page.getByRole('link', { name: finished.sessionId }).click();
      await page.getByRole('heading', { name: `Session ${finished.sessionId}` }).waitFor();
      const detail = page.locator('#detail');
      await detail.getByText('Policy version').waitFor();
      expect(await detail.innerText()).toMatch(/Verify image hash matches\s+yes/);
      const imageLoaded = async (alt: string) => {
        const image = page.getByAltText(alt);
        await image.waitFor();
        await page.waitForFunction((a) => {
          const img = [...document.querySelectorAll('img')].find((i) => i.alt === a);
          return !!img && img.complete && img.naturalWidth > 0;
        }, alt);
        return image.getAttribute('src');
      };
      for (const alt of ['Verify image (reference photo)', 'Session image of attempt 1']) {
        expect(await imageLoaded(alt)).toMatch(/^blob:/); // from the API with the token, never a storage URL
      }
      await page.screenshot({ path: path.join(screenshotDir, 'console-detail.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('an operator finds a subject, enrols a reference, and erases the subject after confirming; the console then shows nothing of them', async () => {
    const subject = `erase-me-${randomBytes(4).toString('hex')}`;
    const token = await deviceToken(subject);
    const first = await finishedSession(stack, token);
    await collected(stack, first.sessionId);
    const second = await createSession(stack, face, {}, token); // still open: its Face session goes too
    const browser = await launchBrowser({ cameraAllowed: false });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}console/`);
      await signInAt(page, 'operator');
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Subjects' }).click();
      await page.getByLabel('Subject, as your sign-in provider knows them').fill(subject);
      await page.getByRole('button', { name: 'Find subject' }).click();
      const sessions = page.getByRole('table', { name: 'Subject sessions' });
      for (const id of [first.sessionId, second.sessionId]) await sessions.getByRole('row').filter({ hasText: id }).waitFor();
      expect(page.url()).not.toContain(subject); // only the subject key goes in the address
      expect(await page.locator('#subject-body').innerText()).toMatch(/version 2026-01/);

      // Enrol a reference (upload), see it, remove it, enrol it again.
      await page.getByLabel('Reference photo').setInputFiles({ name: 'grace.jpg', mimeType: 'image/jpeg', buffer: face });
      await page.getByRole('button', { name: 'Enrol reference' }).click();
      const reference = page.getByAltText('Enrolled reference photo');
      await reference.waitFor();
      await page.waitForFunction(() => {
        const img = [...document.querySelectorAll('img')].find((i) => i.alt === 'Enrolled reference photo');
        return !!img && img.complete && img.naturalWidth > 0;
      });
      expect(await reference.getAttribute('src')).toMatch(/^blob:/); // through the API, never a storage URL
      await page.getByRole('button', { name: 'Remove reference' }).click();
      await page.getByText('None enrolled').waitFor();
      await page.getByLabel('Reference photo').setInputFiles({ name: 'grace.jpg', mimeType: 'image/jpeg', buffer: face });
      await page.getByRole('button', { name: 'Enrol reference' }).click();
      await reference.waitFor();

      // Erase: the first button only asks; Cancel leaves everything; the confirmation's own button erases.
      await page.getByRole('button', { name: 'Erase subject…' }).click();
      const confirmation = page.getByRole('group', { name: 'Confirm erasure' });
      await confirmation.waitFor();
      expect(await confirmation.innerText()).toMatch(/2 sessions[\s\S]*cannot be undone/);
      await page.screenshot({ path: path.join(screenshotDir, 'console-subject-erase-confirm.png'), fullPage: true });
      await confirmation.getByRole('button', { name: 'Cancel' }).click();
      await confirmation.waitFor({ state: 'hidden' });
      expect(await sessions.getByRole('row').filter({ hasText: first.sessionId }).count()).toBe(1);
      await page.getByRole('button', { name: 'Erase subject…' }).click();
      await confirmation.getByRole('button', { name: 'Yes, erase everything' }).click();
      const receipt = page.getByRole('status').filter({ hasText: 'Erased: deletion receipt' });
      await receipt.waitFor();
      expect(await receipt.innerText()).toMatch(/2 sessions/);
      expect(await receipt.innerText()).toMatch(/1 references/);
      await page.getByText('The app holds nothing about this person (only the deletion receipts below').waitFor();
      expect(await sessions.innerText()).toContain('No sessions.');
      await page.screenshot({ path: path.join(screenshotDir, 'console-subject-erased.png'), fullPage: true });

      // Nothing of the subject anywhere in the console: not in the sessions table, not in the review queue.
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Sessions' }).click();
      const rows = page.getByRole('table', { name: 'Sessions' }).getByRole('row');
      await rows.filter({ hasText: finished.sessionId }).waitFor();
      const texts = (await rows.allInnerTexts()).join('\n');
      expect(texts).not.toContain(first.sessionId);
      expect(texts).not.toContain(second.sessionId);
      // The API agrees: the sessions are gone, and the export holds only the deletion receipt.
      const officer = bearer(await backOfficeToken());
      for (const id of [first.sessionId, second.sessionId]) {
        expect((await getJson(`${stack.api}/backoffice/liveness-sessions/${id}`, { headers: officer })).status).toBe(404);
      }
      const key = (await getJson(`${stack.api}/backoffice/subject-keys`, {
        method: 'POST', headers: { ...officer, 'content-type': 'application/json' }, body: JSON.stringify({ subject }),
      })).body.subjectKey;
      const exported = await getJson(`${stack.api}/backoffice/subjects/${key}`, { headers: officer });
      expect(exported.body).toMatchObject({ sessions: [], consents: [] });
      expect(exported.body.reference).toBeUndefined();
      expect(exported.body.subject).toBeUndefined();
      expect(exported.body.deletionReceipts).toHaveLength(1);
    } finally {
      await browser.close();
    }
  });

  it('lists verifications with link state; a new link (after a confirm step) is shown with a QR code of it; the new link works once, the old one is dead', async () => {
    // A relying party's back end creates a verification over HTTP.
    const relyingParty = bearer(await issueToken({ sub: 'rp-console-test', aud: BACKOFFICE_AUDIENCE, roles: ['Verifications.Create'] }));
    const form = new FormData();
    form.set('externalUserId', `person-${randomBytes(4).toString('hex')}`);
    form.set('clientReferenceId', 'console-order-1');
    form.set('referenceImage', new File([face], 'reference.jpg', { type: 'image/jpeg' }));
    const created = await getJson(`${stack.api}/verifications`, { method: 'POST', headers: relyingParty, body: form });
    expect(created.status).toBe(201);
    const verificationId = created.body.verificationId as string;
    const tokenOf = (url: string) => new URL(url).hash.slice('#link='.length);
    const exchange = (token: string) => getJson(`${stack.api}/verification-links/exchange`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }),
    });

    const browser = await launchBrowser({ cameraAllowed: false });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}console/`);
      await signInAt(page, 'operator');
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Verifications' }).click();
      const row = page.getByRole('table', { name: 'Verifications' }).getByRole('row').filter({ hasText: verificationId });
      await row.waitFor();
      expect(await row.innerText()).toMatch(/link\s+sent\s+pending\s+console-order-1/);
      await page.screenshot({ path: path.join(screenshotDir, 'console-verifications.png'), fullPage: true });

      // The detail: the first button only asks; Cancel issues nothing (the first link still works afterwards).
      await row.getByRole('link', { name: verificationId }).click();
      await page.getByRole('heading', { name: `Verification ${verificationId}` }).waitFor();
      await page.getByRole('button', { name: 'Issue a new link…' }).click();
      const confirmation = page.getByRole('group', { name: 'Confirm new link' });
      await confirmation.waitFor();
      await confirmation.getByRole('button', { name: 'Cancel' }).click();
      await confirmation.waitFor({ state: 'hidden' });
      await page.getByRole('button', { name: 'Issue a new link…' }).click();
      await confirmation.getByRole('button', { name: 'Yes, issue a new link' }).click();
      await page.getByRole('status').filter({ hasText: 'A new link was issued' }).waitFor();
      const shown = await page.getByRole('textbox', { name: 'New link', exact: true }).inputValue();
      expect(new URL(shown).searchParams.get('verification')).toBe(verificationId);
      expect(tokenOf(shown)).not.toBe(tokenOf(created.body.url as string));

      // The QR code is an SVG that decodes (from the pixels Chromium drew) to exactly the URL shown.
      const qr = page.getByRole('img', { name: 'QR code of the new link' });
      await qr.waitFor();
      expect(await qr.evaluate((e: any) => e.tagName.toLowerCase())).toBe('svg');
      const { data, info } = await sharp(await qr.screenshot()).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height)?.data).toBe(shown);
      await page.screenshot({ path: path.join(screenshotDir, 'console-verification-link.png'), fullPage: true });

      // The old link is dead; the new one works once.
      expect((await exchange(tokenOf(created.body.url as string))).status).toBe(410);
      const exchanged = await exchange(tokenOf(shown));
      expect(exchanged.status).toBe(200);
      expect((await exchange(tokenOf(shown))).status).toBe(410);

      // The person starts the check with the link's access token: the session shows its origin and verification.
      const started = await getJson(`${stack.api}/liveness-sessions`, { method: 'POST', headers: bearer(exchanged.body.accessToken as string), body: startForm(undefined) });
      expect(started.status).toBe(201);
      const sessionId = started.body.sessionId as string;
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Verifications' }).click();
      const used = page.getByRole('table', { name: 'Verifications' }).getByRole('row').filter({ hasText: verificationId });
      await used.filter({ hasText: sessionId }).waitFor();
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Sessions' }).click();
      const sessionRow = page.getByRole('table', { name: 'Sessions' }).getByRole('row').filter({ hasText: sessionId });
      await sessionRow.waitFor();
      expect(await sessionRow.innerText()).toMatch(/link/);
      await sessionRow.getByRole('link', { name: sessionId }).click();
      const detail = page.locator('#detail');
      await detail.getByText('Origin').waitFor();
      expect(await detail.innerText()).toMatch(/Origin\s+link/);
      expect(await detail.innerText()).toContain(verificationId);
    } finally {
      await browser.close();
    }
  });

  it('a person without the back-office role is told so', async () => {
    const browser = await launchBrowser({ cameraAllowed: false });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}console/`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Subject name').fill('visitor');
      await page.getByLabel('Roles (comma-separated)').fill('');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'does not have the back-office role' }).waitFor();
      expect(await page.getByRole('table', { name: 'Sessions' }).getByRole('row').filter({ hasText: finished.sessionId }).count()).toBe(0);
    } finally {
      await browser.close();
    }
  });
});

describe('operator console: failed webhook deliveries (Chromium)', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let stack: Stack;
  let pages: RunningPages;
  let receiverPort: number;
  let receiver: RunningWebhookReceiver | undefined;
  let dead: CreatedSession;

  beforeAll(async () => {
    // The receiver is down (nothing listens on its port) while the app tries; tiny retry settings dead-letter fast.
    receiverPort = await freePort();
    const { port, origin } = await reservePagesOrigin();
    stack = await startStack({
      DEVHOST_CORS: origin, WEBHOOK_URL: `http://127.0.0.1:${receiverPort}/webhooks`, WEBHOOK_SECRET: secret,
      WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1', WEBHOOK_RETRY_WINDOW_SECONDS: '3',
      WEBHOOK_OUTBOX_RECOVERY_SECONDS: '0', WEBHOOK_TIMEOUT_MS: '3000',
    });
    pages = await servePages(port, stack.api, inject('issuerUrl'), stack.faceEndpoint);
    dead = await finishedSession(stack);
    const officer = bearer(await backOfficeToken());
    await eventually(async () => {
      const r = await getJson(`${stack.api}/backoffice/webhook-failures`, { headers: officer });
      return (r.body.value as Array<{ sessionId?: string }>).find((f) => f.sessionId === dead.sessionId);
    }, 'a dead-lettered delivery', 30_000);
  }, 120_000);

  afterAll(async () => {
    await pages?.close();
    await stack?.stop();
    await receiver?.close();
  });

  it('lists a dead-lettered event with its attempts; Redeliver sends it again and removes it from the list', async () => {
    const browser = await launchBrowser({ cameraAllowed: false });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}console/`);
      await signInAt(page, 'operator');
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Failed deliveries' }).click();
      const failures = page.getByRole('table', { name: 'Failed deliveries' });
      const row = failures.getByRole('row').filter({ hasText: dead.sessionId });
      await row.waitFor();
      expect(await row.innerText()).toMatch(/liveness\.session\.decided[\s\S]*NetworkError/);
      const eventId = /evt_[0-9a-f-]+/.exec(await row.innerText())![0];
      await row.getByRole('button', { name: 'Show attempts' }).click();
      const attempts = page.getByRole('table', { name: `Delivery attempts of ${eventId}` });
      await attempts.getByRole('row').filter({ hasText: 'dead-lettered' }).waitFor();
      expect(await attempts.getByRole('row').filter({ hasText: 'retry-scheduled' }).count()).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: path.join(screenshotDir, 'console-deliveries.png'), fullPage: true });

      // The receiver is fixed (it listens now); Redeliver sends the same event again.
      receiver = await startWebhookReceiver({ port: receiverPort, secrets: [secret], print: () => undefined });
      await row.getByRole('button', { name: 'Redeliver' }).click();
      await page.getByRole('status').filter({ hasText: `Event ${eventId} is queued for delivery again` }).waitFor();
      expect(await failures.getByRole('row').filter({ hasText: eventId }).count()).toBe(0);
      const delivery = await eventually(async () => receiver!.deliveries.find((d) => d.verified && d.webhookId === eventId), 'the redelivered event');
      expect(delivery.status).toBeLessThan(300);
      // Reloaded from the API, the list no longer has it.
      await page.reload();
      await failures.waitFor();
      await page.getByText('No failed deliveries').waitFor();
    } finally {
      await browser.close();
    }
  });
});
