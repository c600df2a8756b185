// The device page in Chromium with a fake camera playing a fixture photo, against the dev host, Azurite and a Face
// emulator that compares faces for real (vision decisions): a person passes with their own face, a different
// person's face fails against the reference, and a page without camera permission says so plainly.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';
import type { RunningPages } from '../../dev/pages/server.js';
import {
  deviceResult, fakeCameraFile, launchBrowser, reservePagesOrigin, screenshotDir, servePages, signInAt,
} from '../support/browser.js';
import { backOfficeToken, bearer, fixture, getJson, startStack, type Stack } from '../support/liveness.js';

const GRACE = fixture('face-grace-hopper.jpg');
const ASTRONAUT = fixture('face-astronaut.png');

describe('device page (Chromium, fake camera, vision emulator)', () => {
  const key = 'pages-vision-key';
  let emulator: RunningFaceEmulator;
  let stack: Stack;
  let pages: RunningPages;
  let dir: string;
  let graceCamera: string;
  let astronautCamera: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pages-device-'));
    [graceCamera, astronautCamera] = await Promise.all([fakeCameraFile(GRACE, dir, 'grace.y4m'), fakeCameraFile(ASTRONAUT, dir, 'astronaut.y4m')]);
    emulator = await startFaceEmulator({ port: 0, apiKey: key, decisions: 'vision' });
    const { port, origin } = await reservePagesOrigin();
    stack = await startStack({ DEVHOST_CORS: origin }, { endpoint: emulator.url, key });
    pages = await servePages(port, stack.api, (await import('vitest')).inject('issuerUrl'), emulator.url);
  }, 180_000);

  afterAll(async () => {
    await pages?.close();
    await stack?.stop();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The session id the page shows after a check ("Check <id>."), to read the decision in the back office. */
  async function decisionOf(text: string) {
    const id = /Check ([0-9a-f-]{36})/.exec(text)?.[1];
    expect(id, `session id in "${text}"`).toBeDefined();
    const { body } = await getJson(`${stack.api}/backoffice/liveness-sessions/${id}`, { headers: bearer(await backOfficeToken()) });
    return body.decision as { outcome: string; reasons: string[]; matchConfidence: number };
  }

  it('a person passes with their own face: reference selfie and live capture from the same camera', async () => {
    const browser = await launchBrowser({ cameraFile: graceCamera, cameraAllowed: true });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}device/`);
      await signInAt(page, 'grace');
      await page.getByRole('button', { name: 'Take reference selfie' }).click();
      await page.getByAltText('Reference photo').waitFor();
      await page.getByRole('button', { name: 'Start check' }).click();
      const result = await deviceResult(page);
      expect(result.problem).toBe('');
      expect(result.outcome).toContain('Passed');
      expect(result.outcome).not.toMatch(/\d\.\d/); // no score reaches the device
      await page.screenshot({ path: path.join(screenshotDir, 'device-passed.png'), fullPage: true });
      const decision = await decisionOf(await page.locator('#progress').innerText());
      expect(decision).toMatchObject({ outcome: 'pass', reasons: [] });
    } finally {
      await browser.close();
    }
  });

  it("fails with a different person's face in front of the camera, against an uploaded ID photo", async () => {
    const browser = await launchBrowser({ cameraFile: astronautCamera, cameraAllowed: true });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}device/`);
      await signInAt(page, 'not-grace');
      await page.getByLabel('ID photo').setInputFiles({ name: 'grace-id.jpg', mimeType: 'image/jpeg', buffer: GRACE });
      await page.getByText('Reference: grace-id.jpg.').waitFor();
      await page.getByRole('button', { name: 'Start check' }).click();
      const result = await deviceResult(page);
      expect(result.problem).toBe('');
      expect(result.outcome).toContain('Failed');
      await page.screenshot({ path: path.join(screenshotDir, 'device-failed.png'), fullPage: true });
      const decision = await decisionOf(await page.locator('#progress').innerText());
      expect(decision.outcome).toBe('fail');
      expect(decision.reasons).toContain('MatchConfidenceBelowThreshold');
      expect(decision.matchConfidence).toBeLessThan(0.5);
    } finally {
      await browser.close();
    }
  });

  it('a page without camera permission shows a clear message, and starting a check says the camera is needed', async () => {
    const browser = await launchBrowser({ cameraFile: graceCamera, cameraAllowed: false });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}device/`);
      await signInAt(page, 'no-camera');
      const alert = page.getByRole('alert').filter({ hasText: 'Camera permission was denied' });
      await alert.waitFor();
      expect(await alert.innerText()).toMatch(/allow camera access/i);
      expect(await page.getByRole('button', { name: 'Take reference selfie' }).isDisabled()).toBe(true);
      await page.getByLabel('ID photo').setInputFiles({ name: 'id.jpg', mimeType: 'image/jpeg', buffer: GRACE });
      await page.getByRole('button', { name: 'Start check' }).click();
      await page.getByRole('alert').filter({ hasText: 'The check needs your camera' }).waitFor();
      expect(await page.locator('[role=status]').textContent()).toBe(''); // no check was started
      await page.screenshot({ path: path.join(screenshotDir, 'device-camera-denied.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
