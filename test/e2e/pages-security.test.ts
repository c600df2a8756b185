// The pages' security headers as an attacker meets them, in Chromium. Each attack is run twice: against the pages as
// the local pages server sends them (the same headers as Azure's staticwebapp.config.json), where it must fail, and
// against the same built files from a plain static server without those headers, where it must work, so each check
// can fail:
//  - a page on another origin frames the device page or the console: the frame stays empty (frame-ancestors 'none');
//  - a script injected into a page (an inline <script> element, an inline event handler) does not run, and the page
//    gets a CSP violation report for it; nor does eval;
//  - a module whose bytes changed after the build is refused by subresource integrity (the page's import map), also
//    one deep in the module graph and one imported dynamically, and also a third-party module mapped by a page's own
//    import map: the build stamps integrity into any module it finds in the site.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../dev/stack.js';
import { localPagesConfig, startPagesServer, type RunningPages } from '../../dev/pages/server.js';
import { stampIntegrity } from '../../scripts/pages-integrity.js';
import { launchBrowser } from '../support/browser.js';

// Code passed to page.evaluate runs in the browser: its globals, typed loosely here (no DOM lib for Node code).
declare const document: any;
declare const window: any;

const SITE = path.join(REPO_ROOT, 'dist/web');
// Nothing here signs in or calls the API: the pages only need config.json to show their signed-out view.
const ENDPOINTS = { apiBase: 'http://127.0.0.1:9/api', issuerUrl: 'http://127.0.0.1:9', faceEmulatorUrl: 'http://127.0.0.1:9' };

interface Server { origin: string; close(): Promise<void> }

async function listen(handler: http.RequestListener, host = '127.0.0.1'): Promise<Server> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    origin: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** The same files with no security header at all: what the black-box run found. */
function plainStaticServer(root: string): Promise<Server> {
  const config = JSON.stringify(localPagesConfig(ENDPOINTS));
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  return listen((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/config.json') { res.writeHead(200, { 'content-type': 'application/json' }).end(config); return; }
    const file = path.join(root, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
}

/** The page (device or console) has run its modules: its signed-out view with the Sign in button is shown. */
const signInShown = (page: Page) => page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 20_000 });

describe('pages security headers (Chromium)', () => {
  let hardened: RunningPages;
  let plain: Server;
  let framer: Server;
  let browser: { context: BrowserContext; page: Page; close(): Promise<void> };
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pages-security-'));
    hardened = await startPagesServer({ root: SITE, port: 0, ...ENDPOINTS });
    plain = await plainStaticServer(SITE);
    // The attacker's page, on an origin of its own (127.0.0.1, the pages are on localhost): it frames ?src=.
    framer = await listen((req, res) => {
      const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
      res.writeHead(200, { 'content-type': 'text/html' })
        .end(`<!doctype html><title>Win a prize</title><p>Click the button below!</p><iframe id="victim" src="${src.replace(/"/g, '')}" width="900" height="600"></iframe>`);
    });
    browser = await launchBrowser({ cameraAllowed: false, expectRefusals: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await hardened?.close();
    await plain?.close();
    await framer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function newPage(): Promise<{ page: Page; console: string[] }> {
    const page = await browser.context.newPage();
    const messages: string[] = [];
    page.on('console', (m) => messages.push(m.text()));
    return { page, console: messages };
  }

  describe.each(['device', 'console'])('the %s page', (name) => {
    it('answers with the CSP, X-Frame-Options DENY and no HSTS over http', async () => {
      const response = await fetch(`${hardened.url}${name}/`);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toMatch(/script-src 'self' 'sha256-[^']+'(;| )/);
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('strict-transport-security')).toBeNull();
    });

    it('cannot be framed by a page on another origin (the same page without the headers can)', async () => {
      const { page } = await newPage();
      try {
        // Without the headers the attack works: the framed page runs and shows its buttons.
        await page.goto(`${framer.origin}/?src=${encodeURIComponent(`${plain.origin}/${name}/`)}`);
        await page.frameLocator('#victim').getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 20_000 });

        const blocked = page.waitForEvent('console', { predicate: (m) => /frame-ancestors/.test(m.text()), timeout: 20_000 });
        await page.goto(`${framer.origin}/?src=${encodeURIComponent(`${hardened.url}${name}/`)}`);
        await blocked;
        const frame = await (await page.locator('#victim').elementHandle())!.contentFrame();
        await frame!.waitForLoadState('load');
        // Chromium replaces a refused frame with its error page: nothing of ours is in it, nothing to click.
        expect(frame!.url()).not.toContain(hardened.origin);
        expect(await frame!.evaluate(() => document.querySelectorAll('button').length)).toBe(0);
        expect(await page.frameLocator('#victim').getByRole('button', { name: 'Sign in' }).count()).toBe(0);
      } finally {
        await page.close();
      }
    });

    it('runs no injected inline script or event handler and reports the violations; no eval either', async () => {
      const inject = (page: Page) => page.evaluate(() => {
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (e: any) => window.__violations.push(e.effectiveDirective));
        const script = document.createElement('script');
        script.textContent = 'window.__injected = "script ran"';
        document.body.append(script);
        const img = document.createElement('img');
        img.setAttribute('onerror', 'window.__handler = "handler ran"');
        img.src = './no-such-image.png';
        document.body.append(img);
        // Later, as the page's own code would (code evaluated by devtools itself is exempt from CSP).
        setTimeout(() => {
          try { window.__eval = String((0, eval)('"eval ran"')); } catch (error) { window.__eval = (error as Error).name; }
        }, 0);
      }).then(() => page.waitForFunction(() => window.__eval).then((h) => h.jsonValue() as Promise<string>));
      const { page } = await newPage();
      try {
        // Control: without the CSP the same injection runs.
        await page.goto(`${plain.origin}/${name}/`);
        await signInShown(page);
        expect(await inject(page)).toBe('eval ran');
        await page.waitForFunction(() => window.__injected === 'script ran' && window.__handler === 'handler ran');

        await page.goto(`${hardened.url}${name}/`);
        await signInShown(page);
        expect(await inject(page)).toBe('EvalError');
        // The reports arrive as events: wait for the inline script's and the handler's (the eval one is also there).
        await page.waitForFunction(() => window.__violations.includes('script-src-elem') && window.__violations.includes('script-src-attr'));
        expect(await page.evaluate(() => [window.__injected, window.__handler])).toEqual([undefined, undefined]);
      } finally {
        await page.close();
      }
    });
  });

  describe('subresource integrity', () => {
    /** A copy of the built site with `file` (relative to dist/web) changed by one appended statement. */
    function tamperedCopy(file: string): string {
      const copy = mkdtempSync(path.join(dir, 'site-'));
      cpSync(SITE, copy, { recursive: true });
      appendFileSync(path.join(copy, file), '\nglobalThis.__tampered = "tampered code ran";\n');
      return copy;
    }

    it.each([
      ['device', 'device/main.js'], ['device', 'shared/config.js'], ['console', 'console/dom.js'], ['console', 'shared/oidc.js'],
    ])('the %s page refuses its module %s when its bytes changed after the build', async (name, file) => {
      const served = await startPagesServer({ root: tamperedCopy(file), port: 0, ...ENDPOINTS });
      const { page, console: messages } = await newPage();
      try {
        const refused = page.waitForEvent('console', { predicate: (m) => /integrity/i.test(m.text()) && m.text().includes(path.basename(file)), timeout: 20_000 });
        await page.goto(`${served.url}${name}/`);
        await refused;
        expect(await page.evaluate(() => window.__tampered)).toBeUndefined();
        // The module graph did not run: the signed-out view (shown by main.js once config.json is read) stays hidden.
        await page.waitForLoadState('load');
        expect(await page.locator('#signed-out').isHidden()).toBe(true);
        expect(messages.join('\n')).toMatch(/integrity/i);
      } finally {
        await page.close();
        await served.close();
      }
    });

    it('the untouched copy runs (so the refusals above are the integrity check)', async () => {
      const copy = mkdtempSync(path.join(dir, 'site-'));
      cpSync(SITE, copy, { recursive: true });
      const served = await startPagesServer({ root: copy, port: 0, ...ENDPOINTS });
      const { page } = await newPage();
      try {
        for (const name of ['device', 'console']) {
          await page.goto(`${served.url}${name}/`);
          await signInShown(page);
        }
      } finally {
        await page.close();
        await served.close();
      }
    });

    it("covers any module in the site: a third-party module behind a page's own import map, and a dynamic import", async () => {
      // A site as the build leaves it before the integrity step: a page with its own import map for a bare specifier,
      // a copied third-party ESM file and a module imported only at run time (as the device page imports the Face UI
      // component).
      const site = mkdtempSync(path.join(dir, 'third-party-'));
      const write = (file: string, text: string) => { mkdirSync(path.dirname(path.join(site, file)), { recursive: true }); writeFileSync(path.join(site, file), text); };
      write('device/main.js', '');
      write('app/index.html', [
        '<!doctype html><html><head><title>t</title>',
        '  <script type="importmap">{"imports": {"tiny-lib": "../vendor/tiny-lib.js"}}</script>',
        '  <script type="module" src="./main.js"></script>',
        '</head><body><p id="out"></p></body></html>',
      ].join('\n'));
      write('vendor/tiny-lib.js', 'export const greeting = "from tiny-lib";\n');
      write('late/module.js', 'export const late = "from late";\n');
      write('app/main.js', [
        "import { greeting } from 'tiny-lib';",
        "let late = 'refused';",
        "try { ({ late } = await import('../late/module.js')); } catch { /* refused */ }",
        "document.getElementById('out').textContent = `${greeting} | ${late}`;",
      ].join('\n'));
      stampIntegrity(site);
      const map = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(readFileSync(path.join(site, 'app/index.html'), 'utf8'))![1]!);
      expect(map.imports).toEqual({ 'tiny-lib': '../vendor/tiny-lib.js' });
      expect(Object.keys(map.integrity)).toEqual(expect.arrayContaining(['../vendor/tiny-lib.js', '../late/module.js', './main.js']));

      const served = await startPagesServer({ root: site, port: 0, ...ENDPOINTS });
      const { page } = await newPage();
      try {
        await page.goto(`${served.url}app/`);
        await page.getByText('from tiny-lib | from late').waitFor({ timeout: 20_000 });

        appendFileSync(path.join(site, 'late/module.js'), 'globalThis.__tampered = "late";\n');
        await page.goto(`${served.url}app/`);
        await page.getByText('from tiny-lib | refused').waitFor({ timeout: 20_000 });

        appendFileSync(path.join(site, 'vendor/tiny-lib.js'), 'globalThis.__tampered = "lib";\n');
        const refused = page.waitForEvent('console', { predicate: (m) => /integrity/i.test(m.text()) && m.text().includes('tiny-lib.js'), timeout: 20_000 });
        await page.goto(`${served.url}app/`);
        await refused;
        expect(await page.evaluate(() => [window.__tampered, document.getElementById('out').textContent])).toEqual([undefined, '']);
      } finally {
        await page.close();
        await served.close();
      }
    });
  });
});
