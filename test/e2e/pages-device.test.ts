// The device page in Chromium with a fake camera playing a fixture photo, against the dev host, Azurite and a Face
// emulator that compares faces for real (vision decisions): the person reads the consent text and agrees, passes with
// their own face, fails with a different person's face against the reference the back office enrolled, waits while
// a reviewer settles a review-band check in the console and then sees the reviewer's outcome, and a page without
// camera permission says so plainly.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';
import type { RunningPages } from '../../dev/pages/server.js';
import {
  deviceResult, fakeCameraFile, launchBrowser, reservePagesOrigin, screenshotDir, servePages, signInAt,
} from '../support/browser.js';
import { backOfficeToken, bearer, CONSENT_VERSION, emulator, eventually, fixture, getJson, startStack, type Stack } from '../support/liveness.js';

const GRACE = fixture('face-grace-hopper.jpg');
const ASTRONAUT = fixture('face-astronaut.png');

describe('device page (Chromium, fake camera, vision emulator)', () => {
  const key = 'pages-vision-key';
  let emulatorServer: RunningFaceEmulator;
  let stack: Stack;
  let pages: RunningPages;
  let dir: string;
  let graceCamera: string;
  let astronautCamera: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pages-device-'));
    [graceCamera, astronautCamera] = await Promise.all([fakeCameraFile(GRACE, dir, 'grace.y4m'), fakeCameraFile(ASTRONAUT, dir, 'astronaut.y4m')]);
    emulatorServer = await startFaceEmulator({ port: 0, apiKey: key, decisions: 'vision' });
    const { port, origin } = await reservePagesOrigin();
    // A review band from 0.5 up to the match threshold (0.8): same-person scores sit far above it, different people
    // far below (README "Vision decisions"); the review test scripts a score inside it.
    stack = await startStack({ DEVHOST_CORS: origin, DECISION_REVIEW_LOWER_BOUND: '0.5' }, { endpoint: emulatorServer.url, key });
    pages = await servePages(port, stack.api, inject('issuerUrl'), emulatorServer.url);
  }, 180_000);

  afterAll(async () => {
    await pages?.close();
    await stack?.stop();
    await emulatorServer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const officer = async () => ({ ...bearer(await backOfficeToken()), 'content-type': 'application/json' });

  /** The session id the page shows for a check ("Check <id>…"), to read the decision in the back office. */
  async function sessionIdOn(page: Page): Promise<string> {
    const text = await page.locator('#progress').innerText();
    const id = /Check ([0-9a-f-]{36})/.exec(text)?.[1];
    expect(id, `session id in "${text}"`).toBeDefined();
    return id!;
  }

  async function sessionOf(id: string) {
    const { body } = await getJson(`${stack.api}/backoffice/liveness-sessions/${id}`, { headers: bearer(await backOfficeToken()) });
    return body as { decision: { outcome: string; reasons: string[]; matchConfidence: number }; reference?: { referenceId: string }; consentVersion?: string; review?: { outcome: string } };
  }

  /** Waits for the consent text from GET /api/privacy, then ticks the box. */
  async function giveConsent(page: Page): Promise<void> {
    await page.getByText(`Consent text version ${CONSENT_VERSION}`).waitFor();
    await page.getByLabel('I have read this and agree').check();
  }

  it('a person reads the consent text and retention schedule, cannot start without consent, then passes with their own face', async () => {
    const browser = await launchBrowser({ cameraFile: graceCamera, cameraAllowed: true });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}device/`);
      await signInAt(page, 'grace');
      await page.getByText(`Consent text version ${CONSENT_VERSION}`).waitFor();
      expect(await page.locator('#consent-text').innerText()).toMatch(/biometric data/);
      await page.getByText('How long we keep what').click();
      const retention = page.getByRole('table', { name: 'Retention schedule' });
      await retention.getByRole('row').nth(1).waitFor();
      expect(await retention.innerText()).toMatch(/after the session token expires/);
      await page.getByRole('button', { name: 'Take reference selfie' }).click();
      await page.getByAltText('Reference photo').waitFor();
      await page.screenshot({ path: path.join(screenshotDir, 'device-consent.png'), fullPage: true });

      await page.getByRole('button', { name: 'Start check' }).click();
      await page.getByRole('alert').filter({ hasText: 'Tick the consent box first' }).waitFor();
      expect(await page.locator('#progress').textContent()).toBe(''); // nothing was started

      await page.getByLabel('I have read this and agree').check();
      await page.getByRole('button', { name: 'Start check' }).click();
      const result = await deviceResult(page);
      expect(result.problem).toBe('');
      expect(result.outcome).toContain('Passed');
      expect(result.outcome).not.toMatch(/\d\.\d/); // no score reaches the device
      await page.screenshot({ path: path.join(screenshotDir, 'device-passed.png'), fullPage: true });
      const session = await sessionOf(await sessionIdOn(page));
      expect(session.decision).toMatchObject({ outcome: 'pass', reasons: [] });
      expect(session.consentVersion).toBe(CONSENT_VERSION);
    } finally {
      await browser.close();
    }
  });

  it("fails with a different person's face in front of the camera, against the reference enrolled for the subject", async () => {
    const subject = 'enrolled-grace';
    const { body: { subjectKey } } = await getJson(`${stack.api}/backoffice/subject-keys`, {
      method: 'POST', headers: await officer(), body: JSON.stringify({ subject }),
    });
    const form = new FormData();
    form.set('referenceImage', new File([GRACE], 'grace.jpg', { type: 'image/jpeg' }));
    const enrolled = await getJson(`${stack.api}/backoffice/subjects/${subjectKey}/reference`, { method: 'PUT', headers: bearer(await backOfficeToken()), body: form });
    expect(enrolled.status).toBeLessThan(300);
    const browser = await launchBrowser({ cameraFile: astronautCamera, cameraAllowed: true });
    try {
      const { page } = browser;
      await page.goto(`${pages.url}device/`);
      await signInAt(page, subject);
      await giveConsent(page);
      // Bringing a photo of one's own next to an enrolled reference is refused, in plain words.
      await page.getByLabel('ID photo').setInputFiles({ name: 'astronaut.png', mimeType: 'image/png', buffer: ASTRONAUT });
      await page.getByRole('button', { name: 'Start check' }).click();
      await page.getByRole('alert').filter({ hasText: 'already has a reference photo enrolled for you' }).waitFor();

      await page.getByRole('button', { name: 'Use my enrolled reference' }).click();
      await page.getByText('Reference: the photo the service enrolled for you.').waitFor();
      await page.getByRole('button', { name: 'Start check' }).click();
      const result = await deviceResult(page);
      expect(result.problem).toBe('');
      expect(result.outcome).toContain('Failed');
      await page.screenshot({ path: path.join(screenshotDir, 'device-failed.png'), fullPage: true });
      const session = await sessionOf(await sessionIdOn(page));
      expect(session.reference?.referenceId).toBe(enrolled.body.referenceId);
      expect(session.decision.outcome).toBe('fail');
      expect(session.decision.reasons).toContain('MatchConfidenceBelowThreshold');
      expect(session.decision.matchConfidence).toBeLessThan(0.5);
    } finally {
      await browser.close();
    }
  });

  it("a reviewer settles a review-band check in the console, and the waiting device page then shows the reviewer's outcome", async () => {
    const device = await launchBrowser({ cameraFile: graceCamera, cameraAllowed: true });
    const console = await launchBrowser({ cameraAllowed: false });
    try {
      const { page } = device;
      await page.goto(`${pages.url}device/`);
      await signInAt(page, 'review-me');
      // This browser's device id, chosen here so the emulator can script a score inside the review band for it.
      const deviceId = `review-phone-${Date.now()}`;
      await page.evaluate((id) => (globalThis as any).localStorage.setItem('liveness:deviceCorrelationId', id), deviceId);
      expect((await emulator({ faceEndpoint: emulatorServer.url, faceKey: key }, 'POST', '/emulator/scripts', {
        deviceCorrelationId: deviceId, livenessDecision: 'realface', matchConfidence: 0.7,
      })).status).toBe(201);
      await giveConsent(page);
      await page.getByRole('button', { name: 'Take reference selfie' }).click();
      await page.getByAltText('Reference photo').waitFor();
      await page.getByRole('button', { name: 'Start check' }).click();
      await page.getByRole('status').filter({ hasText: 'A person may need to review this check' }).waitFor({ timeout: 60_000 });
      const sessionId = await sessionIdOn(page);
      await page.screenshot({ path: path.join(screenshotDir, 'device-waiting-for-review.png'), fullPage: true });

      const operator = console.page;
      await operator.goto(`${pages.url}console/`);
      await signInAt(operator, 'reviewer');
      const nav = operator.getByRole('navigation', { name: 'Console' });
      await nav.getByRole('link', { name: 'Review queue' }).click();
      const queued = operator.getByRole('table', { name: 'Review queue' }).getByRole('row').filter({ hasText: sessionId });
      await queued.waitFor();
      expect(await queued.innerText()).toContain('MatchConfidenceInReviewBand');
      await operator.screenshot({ path: path.join(screenshotDir, 'console-review-queue.png'), fullPage: true });
      await queued.getByRole('link', { name: sessionId }).click();
      await operator.getByRole('heading', { name: `Session ${sessionId}` }).waitFor();
      await operator.getByLabel('Pass: the same, live person').check();
      await operator.getByLabel(/^Reason/).fill('Same person: the capture matches the selfie; low light lowered the score.');
      await operator.getByRole('button', { name: 'Settle review' }).click();
      const settled = operator.locator('article.review');
      await settled.getByText('Review (what the device sees)').waitFor();
      expect(await settled.innerText()).toMatch(/Reason\s+Same person/);
      expect(await operator.locator('#detail').innerText()).toMatch(/Automated decision[\s\S]*review/);
      await operator.screenshot({ path: path.join(screenshotDir, 'console-review-settled.png'), fullPage: true });

      // The device page kept polling its status: it now shows the reviewer's outcome.
      const result = await deviceResult(page);
      expect(result.problem).toBe('');
      expect(result.outcome).toContain('Passed');
      const session = await sessionOf(sessionId);
      expect(session.decision.outcome).toBe('review');
      expect(session.review?.outcome).toBe('pass');
      // Settled: no longer in the queue.
      await nav.getByRole('link', { name: 'Review queue' }).click();
      await operator.getByRole('table', { name: 'Review queue' }).waitFor();
      expect(await operator.getByRole('table', { name: 'Review queue' }).getByRole('row').filter({ hasText: sessionId }).count()).toBe(0);
    } finally {
      await device.close();
      await console.close();
    }
  });

  describe('on a Face v1.3 stack (abuse monitoring; digest binding required)', () => {
    let v13: Stack;
    let v13Pages: RunningPages;
    beforeAll(async () => {
      const { port, origin } = await reservePagesOrigin();
      // Same emulator (its v1.2 sessions above are not monitored); this app turns monitoring on at start.
      v13 = await startStack({ DEVHOST_CORS: origin, FACE_API_VERSION: 'v1.3-preview.1', LIVENESS_DIGEST_BINDING: 'required' }, { endpoint: emulatorServer.url, key });
      v13Pages = await servePages(port, v13.api, inject('issuerUrl'), emulatorServer.url, 'v1.3-preview.1');
    }, 120_000);
    afterAll(async () => {
      await v13Pages?.close();
      await v13?.stop();
    });

    async function checkAs(subject: string, until: 'decided' | 'pending'): Promise<{ sessionId: string; outcome: string; problem: string }> {
      const browser = await launchBrowser({ cameraFile: graceCamera, cameraAllowed: true });
      try {
        const { page } = browser;
        await page.goto(`${v13Pages.url}device/`);
        await signInAt(page, subject);
        await giveConsent(page);
        await page.getByRole('button', { name: 'Take reference selfie' }).click();
        await page.getByAltText('Reference photo').waitFor();
        await page.getByRole('button', { name: 'Start check' }).click();
        // A pass ends the page's wait; a review keeps it polling (pending), so then the decision is read in the back office.
        if (until === 'decided') {
          const result = await deviceResult(page);
          return { sessionId: await sessionIdOn(page), ...result };
        }
        await page.locator('#progress').filter({ hasText: /Check [0-9a-f-]{36}/ }).waitFor({ timeout: 90_000 });
        const sessionId = await sessionIdOn(page);
        await eventually(async () => (await v13Session(sessionId))?.decision ?? undefined, `the decision of ${sessionId}`, 90_000);
        const outcome = (await page.getByRole('status').allInnerTexts()).join(' ');
        const problem = (await page.getByRole('alert').allInnerTexts()).join(' ').trim();
        return { sessionId, outcome, problem };
      } finally {
        await browser.close();
      }
    }

    const v13Session = async (id: string) =>
      (await getJson(`${v13.api}/backoffice/liveness-sessions/${id}`, { headers: bearer(await backOfficeToken()) })).body;

    it('a person passes (the page sends the digest); the same face under a second subject ends in review with AbuseDetected, and the console links both sessions', async () => {
      const first = await checkAs('grace-v13', 'decided');
      expect(first.problem).toBe('');
      expect(first.outcome).toContain('Passed');
      expect((await v13Session(first.sessionId)).decision).toMatchObject({ outcome: 'pass', reasons: [], digestMatches: true });

      const second = await checkAs('grace-alias-v13', 'pending');
      expect(second.problem).toBe('');
      expect(second.outcome).toMatch(/review/);
      expect(second.outcome).not.toMatch(/Passed/);
      const flagged = await v13Session(second.sessionId);
      expect(flagged.decision).toMatchObject({
        outcome: 'review', reasons: ['AbuseDetected'], digestMatches: true,
        abuse: { attemptIds: [1], otherFlaggedSessions: [expect.objectContaining({ sessionId: first.sessionId })] },
      });
      expect(flagged.result.abuseMonitoringResult.isAbuseDetected).toBe(true);
      expect(flagged.result.clientInformation).toEqual([{ ip: '127.0.0.1' }]);
      expect(flagged.abuseLinks).toEqual([first.sessionId]);
      expect((await v13Session(first.sessionId)).abuseLinks).toEqual([second.sessionId]);

      const operator = await launchBrowser({ cameraAllowed: false });
      try {
        const { page } = operator;
        await page.goto(`${v13Pages.url}console/#/sessions/${second.sessionId}`);
        await signInAt(page, 'reviewer');
        await page.goto(`${v13Pages.url}console/#/sessions/${second.sessionId}`);
        const card = page.getByRole('article', { name: 'Abuse monitoring' });
        await card.waitFor();
        expect(await card.innerText()).toMatch(/AbuseDetected on attempt 1/);
        await page.screenshot({ path: path.join(screenshotDir, 'console-abuse-flag.png'), fullPage: true });
        await card.getByRole('link', { name: first.sessionId }).click();
        await page.getByRole('heading', { name: `Session ${first.sessionId}` }).waitFor();
        const back = page.getByRole('article', { name: 'Abuse monitoring' });
        await back.getByRole('link', { name: second.sessionId }).waitFor();
        expect(await back.innerText()).toMatch(/named by another flagged session/);
      } finally {
        await operator.close();
      }
    }, 240_000);
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
      await giveConsent(page);
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
