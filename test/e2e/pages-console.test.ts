// The operator console in Chromium: an operator signs in at the dev issuer (a token with the back-office role), sees
// a finished session in the sessions table and the dashboard, and opens its detail with decision, attempts, evidence
// and both images (read through the API with the token). A signed-in person without the role is told so.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import type { RunningPages } from '../../dev/pages/server.js';
import { launchBrowser, reservePagesOrigin, screenshotDir, servePages, signInAt } from '../support/browser.js';
import {
  backOfficeToken, bearer, complete, createSession, eventually, fixture, getJson, startStack, type CreatedSession, type Stack,
} from '../support/liveness.js';

// Code passed to page.evaluate runs in the browser: its globals, typed loosely here (no DOM lib for Node code).
declare const document: any;

const face = fixture('face-grace-hopper.jpg');

describe('operator console (Chromium)', () => {
  let stack: Stack;
  let pages: RunningPages;
  let finished: CreatedSession;
  let open: CreatedSession;

  beforeAll(async () => {
    const { port, origin } = await reservePagesOrigin();
    stack = await startStack({ DEVHOST_CORS: origin });
    pages = await servePages(port, stack.api, inject('issuerUrl'), stack.faceEndpoint);
    const officer = bearer(await backOfficeToken());
    finished = await createSession(stack, face, { deviceCorrelationId: 'console-phone' });
    expect((await performDeviceAttempt(stack.faceEndpoint, finished.authToken, face)).status).toBe(204);
    expect((await complete(stack, finished)).status).toBe(202);
    await eventually(async () => {
      const r = await getJson(`${stack.api}/backoffice/liveness-sessions/${finished.sessionId}`, { headers: officer });
      return r.body?.status === 'ResultAvailable' ? r.body : undefined;
    }, 'the result to be collected');
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
      await rows.filter({ hasText: finished.sessionId }).waitFor({ state: 'detached' });
      expect(await rows.filter({ hasText: open.sessionId }).count()).toBe(1);
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
