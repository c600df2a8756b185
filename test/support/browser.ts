// Pages in a real browser: Debian's Chromium (/usr/bin/chromium, installed by .ci/run) driven by playwright-core,
// with a fake camera that plays a fixture photo. The camera file is a one-frame 640×480 Y4M made here with sharp
// (Chromium loops it); Chromium reads I420 as BT.601 limited range, so the conversion below uses those coefficients.
// Each browser gets a fresh profile folder and is closed by the suite; a camera file is fixed per browser process.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { freePort } from '../../dev/azurite.js';
import { REPO_ROOT } from '../../dev/stack.js';
import { startPagesServer, type RunningPages } from '../../dev/pages/server.js';

// Code passed to page.evaluate runs in the browser: its globals, typed loosely here (no DOM lib for Node code).
type HTMLElement = any;
declare const document: any;

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A one-frame Y4M (4:2:0, limited range) of the photo, letterboxed into 640×480 so the whole face stays in frame. */
export async function fakeCameraFile(photo: Buffer, dir: string, name = 'camera.y4m'): Promise<string> {
  const width = 640;
  const height = 480;
  const rgb = await sharp(photo).resize(width, height, { fit: 'contain', background: { r: 0, g: 0, b: 0 } }).removeAlpha().raw().toBuffer();
  const y = Buffer.alloc(width * height);
  const u = Buffer.alloc((width / 2) * (height / 2));
  const v = Buffer.alloc((width / 2) * (height / 2));
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = [rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!];
    y[i] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
  }
  for (let row = 0; row < height / 2; row++) {
    for (let col = 0; col < width / 2; col++) {
      let r = 0, g = 0, b = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
        const p = ((row * 2 + dy) * width + col * 2 + dx) * 3;
        r += rgb[p]!; g += rgb[p + 1]!; b += rgb[p + 2]!;
      }
      r /= 4; g /= 4; b /= 4;
      const k = row * (width / 2) + col;
      u[k] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      v[k] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\nFRAME\n`), y, u, v]));
  return file;
}

export interface BrowserOptions {
  /** The Y4M the fake camera plays; without it Chromium's fake device shows its test pattern. */
  cameraFile?: string;
  /** Grant camera permission (fake UI accepts the prompt); false: the page is refused, as when a person says no. */
  cameraAllowed: boolean;
  /**
   * The pages' CSP and integrity checks refuse nothing in their own flows, so close() fails when Chromium reported
   * a refusal (a CSP violation or an integrity mismatch) on any page of this browser; true for tests that provoke them.
   */
  expectRefusals?: boolean;
}

const REFUSAL = /Content Security Policy|integrity/i;

/** A Chromium with its own fresh profile (--user-data-dir), closed (and the profile removed) by close(). */
export async function launchBrowser(options: BrowserOptions): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'pages-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
      ...(options.cameraFile ? [`--use-file-for-fake-video-capture=${path.resolve(options.cameraFile)}`] : []),
      ...(options.cameraAllowed ? ['--use-fake-ui-for-media-stream'] : []),
    ],
  });
  const refusals: string[] = [];
  const watch = (p: Page) => p.on('console', (m) => { if (REFUSAL.test(m.text())) refusals.push(`${p.url()}: ${m.text()}`); });
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
      if (refusals.length && !options.expectRefusals) throw new Error(`Chromium refused content on the pages:\n${refusals.join('\n')}`);
    },
  };
}

/** The pages' origin is fixed before the app starts, so its CORS setting (DEVHOST_CORS) can name exactly that origin. */
export async function reservePagesOrigin(): Promise<{ port: number; origin: string }> {
  const port = await freePort();
  return { port, origin: `http://localhost:${port}` };
}

export function servePages(port: number, apiBase: string, issuerUrl: string, faceEmulatorUrl: string): Promise<RunningPages> {
  return startPagesServer({ root: path.join(REPO_ROOT, 'dist/web'), port, apiBase, issuerUrl, faceEmulatorUrl });
}

/** Signs in through the dev issuer's sign-in page (the authorization-code flow), picking a subject name. */
export async function signInAt(page: Page, subject: string): Promise<void> {
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Subject name').fill(subject);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${subject}`).waitFor();
}

/**
 * Waits for the device page to finish: the outcome in role=status (Passed, Failed, Try again) or a problem shown in
 * an alert, whichever comes first. @returns what the person sees
 */
export async function deviceResult(page: Page, timeoutMs = 90_000): Promise<{ outcome: string; problem: string }> {
  await page.waitForFunction(() => {
    const status = document.querySelector('[role=status]')?.textContent ?? '';
    const alerts = [...document.querySelectorAll('[role=alert]')].filter((e) => !(e as HTMLElement).hidden);
    return /Passed|Failed|Try again/.test(status) || alerts.some((e) => (e.textContent ?? '').trim() !== '');
  }, undefined, { timeout: timeoutMs, polling: 100 });
  return page.evaluate(() => ({
    outcome: document.querySelector('[role=status]')?.textContent ?? '',
    problem: [...document.querySelectorAll('[role=alert]')].filter((e) => !(e as HTMLElement).hidden).map((e) => e.textContent).join(' '),
  }));
}

/** docs/screenshots when SCREENSHOTS=1 (`npm run screenshots`), else a temporary folder: every run still takes them. */
export const screenshotDir = ((): string => {
  if (process.env.SCREENSHOTS !== '1') return mkdtempSync(path.join(tmpdir(), 'pages-screenshots-'));
  const dir = path.join(REPO_ROOT, 'docs/screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
})();
