// Subresource integrity for the pages, the last step of `npm run build` (scripts/build-pages.ts): the pages are plain
// ES modules loaded without a bundler, so each page gets an import map whose `integrity` lists a hash for every
// module file in the site (tsc's output, anything copied in such as a third-party ESM file or the Face UI component),
// and every <script src>, <link rel=modulepreload|preload|stylesheet> gets an `integrity` attribute. The browser then
// refuses any module, statically or dynamically imported, whose bytes differ from what was built. A page's own import
// map (e.g. one mapping a bare specifier to a copied library) is kept and merged into; there is one per page.
//
// The build also refuses what the pages' Content-Security-Policy (scripts/pages-security.ts) would block anyway, so
// it fails at build time instead of in a person's browser: inline scripts other than the import map, event-handler
// attributes, style attributes, javascript: URLs, and scripts or stylesheets from another origin.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { attribute, htmlFiles, isScript, scriptText, walk } from './pages-security.js';

type Element = DefaultTreeAdapterMap['element'];

const MODULE = /\.m?js$/;
const HASHED = /\.(m?js|css)$/;

export const sriHash = (bytes: Buffer): string => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

function filesUnder(root: string, pattern: RegExp): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (pattern.test(entry.name)) found.push(full);
    }
  };
  visit(root);
  return found.sort();
}

/** `../shared/api.js` for a file as seen from a page: a URL relative to the page (import map keys resolve that way). */
function relativeUrl(fromDir: string, file: string): string {
  const relative = path.relative(fromDir, file).split(path.sep).join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

function startTag(element: Element, attrs: Array<{ name: string; value: string }>): string {
  return `<${element.tagName}${attrs.map((a) => (a.value === '' && a.name !== 'integrity' ? ` ${a.name}` : ` ${a.name}="${escapeAttribute(a.value)}"`)).join('')}>`;
}

interface ImportMap { imports?: Record<string, string>; scopes?: Record<string, Record<string, string>>; integrity?: Record<string, string> }

export interface IntegrityResult { pages: number; modules: number }

/**
 * Stamps integrity into every HTML page under `root` (dist/web), in place.
 * @throws Error naming the page and the element for anything the pages' CSP would refuse
 */
export function stampIntegrity(root: string): IntegrityResult {
  root = path.resolve(root);
  const hashes = new Map(filesUnder(root, HASHED).map((file) => [file, sriHash(fs.readFileSync(file))]));
  const modules = [...hashes.keys()].filter((file) => MODULE.test(file));
  const pages = htmlFiles(root);
  for (const page of pages) {
    const html = fs.readFileSync(page, 'utf8');
    const dir = path.dirname(page);
    const where = path.relative(root, page);
    const fail = (what: string): never => { throw new Error(`${where}: ${what}`); };
    const edits: Array<{ start: number; end: number; text: string }> = [];
    const maps: Element[] = [];
    let firstScript: Element | undefined;

    /** The built file a same-site URL in this page points to, with its hash. */
    const local = (url: string, element: Element): string => {
      if (/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(url)) fail(`<${element.tagName}> loads ${url} from another origin; the pages load scripts and styles only from the site`);
      const clean = url.split(/[?#]/)[0]!;
      const file = clean.startsWith('/') ? path.join(root, clean) : path.resolve(dir, clean);
      const hash = hashes.get(file);
      if (!hash) fail(`<${element.tagName}> points to ${url}, which the build did not produce`);
      return hash!;
    };
    const withIntegrity = (element: Element, integrity: string) => {
      const location = element.sourceCodeLocation!.startTag!;
      const attrs = element.attrs.filter((a) => a.name !== 'integrity').concat({ name: 'integrity', value: integrity });
      edits.push({ start: location.startOffset, end: location.endOffset, text: startTag(element, attrs) });
    };

    walk(parse(html, { sourceCodeLocationInfo: true }), (element) => {
      for (const a of element.attrs) {
        if (/^on/i.test(a.name)) fail(`<${element.tagName} ${a.name}>: inline event handlers do not run under the pages' CSP; add a listener in a module`);
        if (a.name === 'style') fail(`<${element.tagName} style>: style attributes are refused by the pages' CSP; use styles.css`);
        if (/^\s*javascript:/i.test(a.value)) fail(`<${element.tagName} ${a.name}="javascript:…">: javascript: URLs do not run under the pages' CSP`);
      }
      if (element.tagName === 'script') {
        if (!isScript(element)) return;
        firstScript ??= element;
        const type = (attribute(element, 'type') ?? '').trim().toLowerCase();
        const src = attribute(element, 'src');
        if (type === 'importmap') {
          if (src !== undefined) fail('<script type="importmap" src> is not supported by browsers; write the map inline');
          maps.push(element);
          return;
        }
        if (src === undefined) {
          if (scriptText(element).trim() !== '') fail('inline <script>: the pages\' CSP runs no inline script; move it into a module');
          return;
        }
        withIntegrity(element, local(src, element));
      }
      if (element.tagName === 'link') {
        const rel = (attribute(element, 'rel') ?? '').toLowerCase().split(/\s+/);
        const as = (attribute(element, 'as') ?? '').toLowerCase();
        const href = attribute(element, 'href');
        if (href !== undefined && (rel.includes('modulepreload') || rel.includes('stylesheet') || (rel.includes('preload') && (as === 'script' || as === 'style')))) {
          withIntegrity(element, local(href, element));
        }
      }
    });

    if (firstScript) {
      if (maps.length > 1) fail('more than one import map; merge them into one');
      let map: ImportMap = {};
      if (maps[0]) {
        try { map = JSON.parse(scriptText(maps[0])) as ImportMap; } catch { fail('its import map is not valid JSON'); }
      }
      const integrity = Object.fromEntries(modules.map((file) => [relativeUrl(dir, file), hashes.get(file)!]));
      // The map's text goes inline and is allowed by its CSP hash; "<" is escaped so no string in it can end the element.
      const json = JSON.stringify({ ...map, integrity: { ...map.integrity, ...integrity } }, null, 2).replace(/</g, '\\u003c');
      const target = maps[0] ?? firstScript;
      const location = target.sourceCodeLocation!;
      const indent = /[ \t]*$/.exec(html.slice(0, location.startOffset))![0];
      const element = `<script type="importmap">\n${json.split('\n').map((line) => `${indent}${line}`).join('\n')}\n${indent}</script>`;
      if (maps[0]) edits.push({ start: location.startOffset, end: location.endOffset, text: element });
      else edits.push({ start: location.startOffset, end: location.startOffset, text: `${element}\n${indent}` });
    }

    let out = html;
    // Back to front; of two edits at one place, the start-tag rewrite before the import map inserted in front of it.
    for (const edit of edits.sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
    if (out !== html) fs.writeFileSync(page, out);
  }
  return { pages: pages.length, modules: modules.length };
}
