// The pages' security headers, from one place: the local pages server (dev/pages/server.ts) sends them on every
// answer, and for Azure scripts/pages-config.ts writes the same values into dist/web/staticwebapp.config.json
// (Static Web Apps' globalHeaders). Both build them with pagesSecurityHeaders() from the same inputs: the pages'
// config.json (where the API, the identity providers and Face are) and the built HTML (the hashes of its inline
// import maps, the only inline scripts the build lets through; scripts/pages-integrity.ts writes them).
//
//  Content-Security-Policy   no inline script but the import maps (by hash), scripts only from the site itself,
//                            connections only to the site (config.json), the API, the identity providers and Face,
//                            no plugins, no <base>, no form posts, and never inside a frame (frame-ancestors 'none')
//  X-Frame-Options DENY      the same for browsers that predate frame-ancestors
//  Strict-Transport-Security only where the pages are served over https (Azure); a browser ignores it over http
//  and a few more that cost nothing: nosniff, no referrer, camera for this site only, a window of its own (COOP),
//  files readable only by this site (CORP), and revalidation of every file (a stale cached module would fail its
//  integrity check after a deploy instead of running old code).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse, type DefaultTreeAdapterMap } from 'parse5';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

/** The parts of config.json (scripts/pages-config.ts, PagesConfigFile) the policy is made of. */
export interface PagesPolicyConfig {
  apiBase: string;
  device: { oidc: { authority: string }; capture: { kind: 'emulator'; endpoint: string } | { kind: 'vision-face-ui'; moduleUrl: string } };
  console: { oidc: { authority: string } };
}

export interface PagesPolicyInput {
  /** What config.json says: the API base, each page's identity provider, the capture. */
  config: PagesPolicyConfig;
  /**
   * The Face endpoint the capture talks to when it is Microsoft's web component (the Face resource's custom
   * subdomain). With the emulator capture, the emulator's endpoint in config.json is used instead.
   */
  faceEndpoint?: string;
  /** `'sha256-…'` of every inline script of the built pages (siteInlineScriptHashes). */
  inlineScriptHashes: readonly string[];
  /**
   * Further origins of the identity providers' endpoints that the pages call (the token endpoint named by a
   * discovery document, when it is not on the issuer's host); the deploy step reads them (identityProviderEndpoints).
   */
  identityProviderEndpoints?: readonly string[];
  /**
   * Adds `'unsafe-eval'` to script-src. Off by default: Microsoft's Face UI web component has been reported to need
   * it (its WebAssembly glue builds functions from strings); turn it on only if the capture fails without it.
   */
  allowEval?: boolean;
}

const origin = (url: string, what: string): string => {
  let parsed: URL;
  try { parsed = new URL(url); } catch { throw new Error(`${what} is not an absolute URL: ${url}`); }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`${what} is not an http(s) URL: ${url}`);
  return parsed.origin;
};

/** Where the pages may connect: the API (its path only), the identity providers and Face, in that order, deduplicated. */
export function connectSources(input: Pick<PagesPolicyInput, 'config' | 'faceEndpoint' | 'identityProviderEndpoints'>): string[] {
  const { config } = input;
  const api = new URL(config.apiBase);
  origin(config.apiBase, 'apiBase');
  // A path ending in / matches everything under it (CSP source expressions), so the API's own routes and nothing else
  // on its host.
  const apiSource = `${api.origin}${api.pathname.replace(/\/*$/, '/')}`;
  const face = config.device.capture.kind === 'emulator' ? config.device.capture.endpoint : input.faceEndpoint;
  const sources = [
    apiSource,
    origin(config.device.oidc.authority, 'device.oidc.authority'),
    origin(config.console.oidc.authority, 'console.oidc.authority'),
    ...(input.identityProviderEndpoints ?? []).map((url) => origin(url, 'an identity provider endpoint')),
    ...(face ? [origin(face, 'the Face endpoint')] : []),
  ];
  return [...new Set(sources)];
}

/** The Content-Security-Policy value. */
export function contentSecurityPolicy(input: PagesPolicyInput): string {
  const faceUi = input.config.device.capture.kind === 'vision-face-ui';
  for (const hash of input.inlineScriptHashes) {
    if (!/^'sha(256|384|512)-[A-Za-z0-9+/]+=*'$/.test(hash)) throw new Error(`not a CSP hash source: ${hash}`);
  }
  const directives: Array<[string, string[]]> = [
    ['default-src', ["'none'"]],
    // Modules from the site only (each checked against its integrity in the page's import map), plus the inline
    // import maps by hash. Microsoft's Face UI component runs WebAssembly: 'wasm-unsafe-eval' allows compiling it
    // and nothing else (no eval of JavaScript).
    ['script-src', ["'self'", ...input.inlineScriptHashes, ...(faceUi ? ["'wasm-unsafe-eval'"] : []), ...(input.allowEval ? ["'unsafe-eval'"] : [])]],
    ['style-src', ["'self'"]],
    // blob: for images the pages show from memory (read through the API with the token, never a storage URL).
    ['img-src', ["'self'", 'blob:']],
    // 'self' for config.json (and the Face UI component's own assets).
    ['connect-src', ["'self'", ...connectSources(input)]],
    ...(faceUi ? [['worker-src', ["'self'", 'blob:']] as [string, string[]]] : []),
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
  ];
  return directives.map(([name, values]) => `${name} ${values.join(' ')}`).join('; ');
}

/** Every security header of the pages, for one answer. `https`: whether the site is served over https. */
export function pagesSecurityHeaders(input: PagesPolicyInput & { https: boolean }): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(input),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=()',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
    ...(input.https ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/** What `staticwebapp.config.json` holds: the same headers on every answer of the site (always https there). */
export function staticWebAppConfig(input: PagesPolicyInput): { globalHeaders: Record<string, string> } {
  return { globalHeaders: pagesSecurityHeaders({ ...input, https: true }) };
}

// ---- the built HTML ----

export function walk(node: Node, visit: (element: Element) => void): void {
  if ('tagName' in node) visit(node);
  const children = 'content' in node && node.content ? node.content.childNodes : 'childNodes' in node ? node.childNodes : [];
  for (const child of children) walk(child, visit);
}

export const attribute = (element: Element, name: string): string | undefined => element.attrs.find((a) => a.name === name)?.value;

const JS_TYPES = /^(|module|importmap|(application|text)\/(x-)?(java|ecma)script|text\/jscript|text\/livescript)$/i;

/** Whether a <script> element runs (or, for an import map, is read) rather than being a data block. */
export function isScript(element: Element): boolean {
  return JS_TYPES.test((attribute(element, 'type') ?? '').trim());
}

/** The text of a <script> as the browser hashes it: its raw content. */
export function scriptText(element: Element): string {
  return element.childNodes.map((n) => ('value' in n && n.nodeName === '#text' ? n.value : '')).join('');
}

export const cspHash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The CSP hashes of the inline scripts of one HTML document. */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  walk(parse(html), (element) => {
    if (element.tagName === 'script' && isScript(element) && attribute(element, 'src') === undefined) hashes.push(cspHash(scriptText(element)));
  });
  return hashes;
}

export function htmlFiles(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.html')) found.push(full);
    }
  };
  visit(root);
  return found.sort();
}

/** The CSP hashes of every inline script of the site in `root` (dist/web), sorted and deduplicated. */
export function siteInlineScriptHashes(root: string): string[] {
  return [...new Set(htmlFiles(root).flatMap((file) => inlineScriptHashes(fs.readFileSync(file, 'utf8'))))].sort();
}
