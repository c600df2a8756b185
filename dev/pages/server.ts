// The pages locally: a small static server for dist/web (the same files Azure Static Web Apps serves) that also
// answers /config.json with where the local stack runs. `npm start` starts it (dev/start.ts); the browser tests start
// one per suite. Only GET/HEAD of files under dist/web; no directory listings. Every answer carries the pages'
// security headers (scripts/pages-security.ts), the same values Azure Static Web Apps sends from
// staticwebapp.config.json: a strict CSP whose connect-src names this stack's API, dev issuer and Face emulator, and
// whose script hashes come from the built HTML, read again whenever a page is rebuilt.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { PagesConfigFile } from '../../scripts/pages-config.js';
import { htmlFiles, pagesSecurityHeaders, siteInlineScriptHashes } from '../../scripts/pages-security.js';
import { BACKOFFICE_AUDIENCE, BACKOFFICE_ROLE, DEVICE_AUDIENCE } from '../oidc-issuer/issuer.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.map': 'application/json',
  '.wasm': 'application/wasm',
};

export interface LocalPagesOptions {
  /** The folder to serve: dist/web. */
  root: string;
  port: number;
  host?: string;
  apiBase: string;
  issuerUrl: string;
  faceEmulatorUrl: string;
}

export interface RunningPages { url: string; origin: string; close(): Promise<void> }

/** The local config: both pages sign in at the dev issuer; the device page plays the capture against the emulator. */
export function localPagesConfig(options: Pick<LocalPagesOptions, 'apiBase' | 'issuerUrl' | 'faceEmulatorUrl'>): PagesConfigFile {
  return {
    apiBase: options.apiBase,
    device: {
      oidc: { authority: options.issuerUrl, clientId: 'device-page', scope: `openid ${DEVICE_AUDIENCE}/Liveness.Check` },
      capture: { kind: 'emulator', endpoint: options.faceEmulatorUrl },
    },
    console: {
      oidc: { authority: options.issuerUrl, clientId: 'operator-console', scope: `openid ${BACKOFFICE_AUDIENCE}/${BACKOFFICE_ROLE}` },
    },
  };
}

/**
 * The headers of every answer: pagesSecurityHeaders() for this config (http, so no HSTS), with the inline-script
 * hashes of the HTML in `root`, recomputed when a page changes (`npm run build` while the server runs).
 */
export function localSecurityHeaders(root: string, config: PagesConfigFile): () => Record<string, string> {
  let seen = '';
  let headers: Record<string, string> = {};
  return () => {
    const files = htmlFiles(root);
    const signature = files.map((file) => { const stat = fs.statSync(file); return `${file}:${stat.mtimeMs}:${stat.size}`; }).join('|');
    if (signature !== seen) {
      headers = pagesSecurityHeaders({ config, inlineScriptHashes: siteInlineScriptHashes(root), https: false });
      seen = signature;
    }
    return headers;
  };
}

export async function startPagesServer(options: LocalPagesOptions): Promise<RunningPages> {
  const root = path.resolve(options.root);
  if (!fs.existsSync(path.join(root, 'device/main.js'))) throw new Error(`${root} has no built pages: run npm run build`);
  const pagesConfig = localPagesConfig(options);
  const config = JSON.stringify(pagesConfig, null, 2);
  const securityHeaders = localSecurityHeaders(root, pagesConfig);
  const server = http.createServer((req, res) => {
    const headers = securityHeaders();
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end(); return; }
    let pathname: string;
    try { pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://pages').pathname); } catch { res.writeHead(400, headers).end(); return; }
    if (pathname === '/config.json') {
      res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : config);
      return;
    }
    let file = path.join(root, pathname);
    if (!file.startsWith(root + path.sep) && file !== root) { res.writeHead(404, headers).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
      if (!pathname.endsWith('/')) { res.writeHead(301, { ...headers, location: `${pathname}/` }).end(); return; }
      file = path.join(file, 'index.html');
    }
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('Not found'); return; }
    res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    if (req.method === 'HEAD') { res.end(); return; }
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  // getUserMedia needs a secure context: localhost (and 127.0.0.1) count as one over plain http.
  const origin = `http://${options.host === undefined || options.host === '127.0.0.1' ? 'localhost' : options.host}:${port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
