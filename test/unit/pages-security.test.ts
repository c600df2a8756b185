// The pages' security headers have one source (scripts/pages-security.ts): the local pages server sends exactly what
// staticwebapp.config.json tells Azure Static Web Apps to send (plus nothing, minus HSTS over http). The deploy step
// writes that file from the azd environment with the right origins; the build stamps integrity into every page and
// refuses what the CSP would block. (In Chromium: test/e2e/pages-security.test.ts.)
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { localPagesConfig, startPagesServer } from '../../dev/pages/server.js';
import { writePagesSite } from '../../scripts/pages-config.js';
import { stampIntegrity } from '../../scripts/pages-integrity.js';
import { contentSecurityPolicy, cspHash, siteInlineScriptHashes, staticWebAppConfig } from '../../scripts/pages-security.js';

let site: string;
const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(site, file)), { recursive: true });
  writeFileSync(path.join(site, file), text);
};
const read = (file: string) => readFileSync(path.join(site, file), 'utf8');
const PAGE = (body = '<script type="module" src="./main.js"></script>', css = '../styles.css') =>
  `<!doctype html>\n<html lang="en">\n<head>\n  <title>t</title>\n  <link rel="stylesheet" href="${css}">\n  ${body}\n</head>\n<body><p>hi</p></body>\n</html>\n`;
const importMapOf = (html: string) => /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];

beforeEach(() => {
  site = mkdtempSync(path.join(tmpdir(), 'pages-security-unit-'));
  write('styles.css', 'body { margin: 0 }\n');
  write('device/index.html', PAGE());
  write('device/main.js', "import { x } from '../shared/x.js';\nconsole.log(x);\n");
  write('shared/x.js', 'export const x = 1;\n');
  write('console/index.html', PAGE());
  write('console/main.js', 'export {};\n');
  write('index.html', PAGE('', './styles.css'));
});
afterEach(() => rmSync(site, { recursive: true, force: true }));

describe('one source for the headers', () => {
  it('the local pages server sends exactly the headers of staticwebapp.config.json, except HSTS (it serves http)', async () => {
    stampIntegrity(site);
    const endpoints = { apiBase: 'http://localhost:7071/api', issuerUrl: 'http://127.0.0.1:7082', faceEmulatorUrl: 'http://127.0.0.1:7081' };
    const pages = await startPagesServer({ root: site, port: 0, ...endpoints });
    try {
      const azure = staticWebAppConfig({ config: localPagesConfig(endpoints), inlineScriptHashes: siteInlineScriptHashes(site) }).globalHeaders;
      expect(azure['Strict-Transport-Security']).toMatch(/^max-age=\d{8,}/);
      for (const url of [`${pages.url}device/`, `${pages.url}console/`, `${pages.url}shared/x.js`, `${pages.url}config.json`]) {
        const response = await fetch(url);
        expect(response.status).toBe(200);
        for (const [name, value] of Object.entries(azure)) {
          expect(response.headers.get(name), `${name} of ${url}`).toBe(name === 'Strict-Transport-Security' ? null : value);
        }
      }
      const csp = azure['Content-Security-Policy']!;
      expect(csp).toBe([
        "default-src 'none'",
        `script-src 'self' ${siteInlineScriptHashes(site).join(' ')}`,
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self' http://localhost:7071/api/ http://127.0.0.1:7082 http://127.0.0.1:7081",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '));
      expect(azure['X-Frame-Options']).toBe('DENY');
    } finally {
      await pages.close();
    }
  });

  it('picks up a rebuilt page: the script hashes follow the HTML', async () => {
    stampIntegrity(site);
    const pages = await startPagesServer({ root: site, port: 0, apiBase: 'http://a.test/api', issuerUrl: 'http://i.test', faceEmulatorUrl: 'http://f.test' });
    try {
      const before = (await fetch(`${pages.url}device/`)).headers.get('content-security-policy');
      write('shared/y.js', 'export const y = 2;\n');
      stampIntegrity(site);
      const after = (await fetch(`${pages.url}device/`)).headers.get('content-security-policy');
      expect(after).not.toBe(before);
      expect(after).toContain(cspHash(importMapOf(read('device/index.html'))!));
    } finally {
      await pages.close();
    }
  });
});

describe('staticwebapp.config.json (azd deploy web)', () => {
  const env = {
    SERVICE_API_URI: 'https://func-api-x.azurewebsites.net/', DEVICE_AUTH_ISSUER: 'https://x.ciamlogin.com/tenant/v2.0',
    DEVICE_PAGE_CLIENT_ID: 'device-client', DEVICE_PAGE_SCOPE: 'openid api://device/Liveness.Check',
    BACKOFFICE_AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0', BACKOFFICE_PAGE_CLIENT_ID: 'console-client',
    BACKOFFICE_PAGE_SCOPE: 'api://backoffice/LivenessSessions.Manage', FACE_ENDPOINT: 'https://face-x.cognitiveservices.azure.com/',
  };
  /** The providers' discovery documents: the External ID tenant serves its token endpoint from another host. */
  const discovery: typeof fetch = async (input) => {
    const url = String(input);
    if (url === 'https://x.ciamlogin.com/tenant/v2.0/.well-known/openid-configuration') return Response.json({ token_endpoint: 'https://x-name.ciamlogin.com/tenant/oauth2/v2.0/token' });
    if (url === 'https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration') return Response.json({ token_endpoint: 'https://login.microsoftonline.com/t/oauth2/v2.0/token' });
    return new Response('no', { status: 404 });
  };
  const headersOf = () => (JSON.parse(read('staticwebapp.config.json')) as { globalHeaders: Record<string, string> }).globalHeaders;

  it('is written next to config.json with the API, both identity providers and Face as the only connections', async () => {
    stampIntegrity(site);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await writePagesSite(env, site, discovery);
    expect(JSON.parse(read('config.json')).apiBase).toBe('https://func-api-x.azurewebsites.net/api');
    const headers = headersOf();
    const csp = headers['Content-Security-Policy']!;
    const directive = (name: string) => csp.split('; ').find((d) => d.startsWith(`${name} `));
    expect(directive('connect-src')).toBe("connect-src 'self' https://func-api-x.azurewebsites.net/api/ https://x.ciamlogin.com https://login.microsoftonline.com https://x-name.ciamlogin.com https://face-x.cognitiveservices.azure.com");
    const mapHash = `'sha256-${createHash('sha256').update(importMapOf(read('device/index.html'))!).digest('base64')}'`;
    // The Face UI component runs WebAssembly; eval of JavaScript stays off unless asked for.
    expect(directive('script-src')).toBe(`script-src 'self' ${siteInlineScriptHashes(site).join(' ')} 'wasm-unsafe-eval'`);
    expect(directive('script-src')).toContain(mapHash);
    expect(directive('worker-src')).toBe("worker-src 'self' blob:");
    expect(directive('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|'unsafe-eval'/);
    expect(headers['X-Frame-Options']).toBe('DENY');
    expect(headers['Strict-Transport-Security']).toBe('max-age=31536000; includeSubDomains');
    expect(console.warn).toHaveBeenCalledWith(expect.stringMatching(/azure-ai-vision-face-ui\/main\.js is not in dist\/web/));
  });

  it("leaves a provider whose discovery document cannot be read at its issuer's host, and says so", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    write('azure-ai-vision-face-ui/main.js', 'export {};\n');
    await writePagesSite({ ...env, DEVICE_AUTH_ISSUER: 'https://gone.example/v2.0' }, site, discovery);
    expect(headersOf()['Content-Security-Policy']).toContain("connect-src 'self' https://func-api-x.azurewebsites.net/api/ https://gone.example https://login.microsoftonline.com https://face-x.cognitiveservices.azure.com;");
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/gone\.example\/v2\.0\/\.well-known\/openid-configuration could not be read \(HTTP 404\)/));
    warn.mockClear();
    const plainHttp: typeof fetch = async () => Response.json({ token_endpoint: 'http://evil.example/token' });
    await writePagesSite(env, site, plainHttp);
    expect(headersOf()['Content-Security-Policy']).not.toContain('evil.example');
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/is not https/));
  });

  it("adds 'unsafe-eval' only when PAGES_CSP_ALLOW_EVAL=true; needs FACE_ENDPOINT; the Face UI module must be on the site", async () => {
    write('azure-ai-vision-face-ui/main.js', 'export {};\n');
    await writePagesSite({ ...env, PAGES_CSP_ALLOW_EVAL: 'true' }, site, discovery);
    expect(headersOf()['Content-Security-Policy']).toMatch(/script-src [^;]* 'unsafe-eval'/);
    await expect(writePagesSite({ ...env, PAGES_CSP_ALLOW_EVAL: 'yes' }, site, discovery)).rejects.toThrow(/PAGES_CSP_ALLOW_EVAL must be true or false/);
    await expect(writePagesSite({ ...env, FACE_ENDPOINT: '' }, site, discovery)).rejects.toThrow(/FACE_ENDPOINT is not set/);
    await expect(writePagesSite({ ...env, FACE_UI_MODULE_URL: 'https://cdn.example/face-ui.js' }, site, discovery)).rejects.toThrow(/must be a path on the pages' site/);
    await expect(writePagesSite({ ...env, FACE_UI_MODULE_URL: '//cdn.example/face-ui.js' }, site, discovery)).rejects.toThrow(/must be a path/);
  });
});

describe('integrity stamped by the build', () => {
  const sha384 = (file: string) => `sha384-${createHash('sha384').update(readFileSync(path.join(site, file))).digest('base64')}`;

  it('gives each page an import map with every module of the site, and each script and stylesheet its hash', () => {
    write('vendor/lib.mjs', 'export default 1;\n');
    expect(stampIntegrity(site)).toEqual({ pages: 3, modules: 4 });
    const device = read('device/index.html');
    expect(JSON.parse(importMapOf(device)!)).toEqual({
      integrity: {
        '../console/main.js': sha384('console/main.js'), './main.js': sha384('device/main.js'),
        '../shared/x.js': sha384('shared/x.js'), '../vendor/lib.mjs': sha384('vendor/lib.mjs'),
      },
    });
    expect(device).toContain(`<script type="module" src="./main.js" integrity="${sha384('device/main.js')}"></script>`);
    expect(device).toContain(`<link rel="stylesheet" href="../styles.css" integrity="${sha384('styles.css')}">`);
    // The import map comes before the first module script (browsers apply it only to modules loaded after it).
    expect(device.indexOf('type="importmap"')).toBeLessThan(device.indexOf('type="module"'));
    // A page without scripts gets no import map, but its stylesheet is checked too.
    expect(read('index.html')).not.toContain('importmap');
    expect(read('index.html')).toContain(`integrity="${sha384('styles.css')}"`);
  });

  it("keeps a page's own import map (a bare specifier for a copied library) and merges into it; running twice changes nothing", () => {
    write('vendor/lib.js', 'export const lib = 1;\n');
    write('device/index.html', PAGE('<script type="importmap">{"imports": {"lib": "../vendor/lib.js"}}</script>\n  <script type="module" src="./main.js"></script>'));
    stampIntegrity(site);
    const once = read('device/index.html');
    const map = JSON.parse(importMapOf(once)!);
    expect(map.imports).toEqual({ lib: '../vendor/lib.js' });
    expect(map.integrity['../vendor/lib.js']).toBe(sha384('vendor/lib.js'));
    expect(once.match(/type="importmap"/g)).toHaveLength(1);
    stampIntegrity(site);
    expect(read('device/index.html')).toBe(once);
  });

  it('a changed module gets a new hash on the next build', () => {
    stampIntegrity(site);
    const before = JSON.parse(importMapOf(read('device/index.html'))!).integrity['../shared/x.js'];
    write('shared/x.js', 'export const x = 2;\n');
    stampIntegrity(site);
    const after = JSON.parse(importMapOf(read('device/index.html'))!).integrity['../shared/x.js'];
    expect(after).not.toBe(before);
    expect(after).toBe(sha384('shared/x.js'));
  });

  it.each([
    ['an inline script', '<script>alert(1)</script>', /inline <script>/],
    ['an inline module', '<script type="module">import "./main.js";</script>', /inline <script>/],
    ['an event handler attribute', '<button onclick="go()">Go</button>', /inline event handlers/],
    ['a style attribute', '<p style="color: red">x</p>', /style attributes/],
    ['a javascript: URL', '<a href="javascript:go()">x</a>', /javascript: URLs/],
    ['a script from another origin', '<script type="module" src="https://cdn.example/x.js"></script>', /from another origin/],
    ['a protocol-relative script', '<script src="//cdn.example/x.js"></script>', /from another origin/],
    ['a script the build did not produce', '<script type="module" src="./missing.js"></script>', /did not produce/],
    ['two import maps', '<script type="importmap">{}</script><script type="importmap">{}</script><script type="module" src="./main.js"></script>', /more than one import map/],
    ['an import map that is not JSON', '<script type="importmap">{imports:</script><script type="module" src="./main.js"></script>', /not valid JSON/],
  ])('refuses %s, naming the page', (_what, body, message) => {
    write('console/index.html', PAGE(body));
    expect(() => stampIntegrity(site)).toThrow(message);
    expect(() => stampIntegrity(site)).toThrow(/^console\/index\.html: /);
  });

  it('leaves data blocks alone (they never run)', () => {
    write('console/index.html', PAGE('<script type="application/json" id="data">{"a": 1}</script>\n  <script type="module" src="./main.js"></script>'));
    stampIntegrity(site);
    expect(read('console/index.html')).toContain('<script type="application/json" id="data">{"a": 1}</script>');
    expect(siteInlineScriptHashes(site)).toHaveLength(2); // the two import maps (device and console differ), not the data
  });
});

describe('the policy', () => {
  const config = localPagesConfig({ apiBase: 'https://api.test/api', issuerUrl: 'https://id.test/t/v2.0', faceEmulatorUrl: 'https://face.test' });

  it('refuses a hash that is not a CSP hash source and origins that are not http(s)', () => {
    expect(() => contentSecurityPolicy({ config, inlineScriptHashes: ["'unsafe-inline'"] })).toThrow(/not a CSP hash source/);
    expect(() => contentSecurityPolicy({ config: { ...config, apiBase: 'javascript:alert(1)' }, inlineScriptHashes: [] })).toThrow(/not an http\(s\) URL/);
  });

  it("lists one identity provider once when both pages use it, and the API's path, not its whole host", () => {
    const csp = contentSecurityPolicy({ config, inlineScriptHashes: [] });
    expect(csp).toContain("connect-src 'self' https://api.test/api/ https://id.test https://face.test;");
  });
});
