// Expands package.json "main" the way the Node worker does (it uses a glob): braces `{a,b}` (nestable),
// `*`, `?` and `**` path segments. Returns absolute file paths, sorted, without duplicates.
import fs from 'node:fs';
import path from 'node:path';

/** `a/{b,c/{d,e}}.js` → `['a/b.js', 'a/c/d.js', 'a/c/e.js']`. Unbalanced braces are kept literally. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '{') { if (depth++ === 0) start = i; }
    else if (ch === '}' && depth > 0 && --depth === 0) {
      const inner = pattern.slice(start + 1, i);
      const options = splitTopLevel(inner);
      const prefix = pattern.slice(0, start);
      const rest = expandBraces(pattern.slice(i + 1));
      if (options.length < 2) return rest.map((r) => `${prefix}{${inner}}${r}`); // `{x}` stays literal, like bash
      return options.flatMap((o) => expandBraces(o)).flatMap((o) => rest.map((r) => prefix + o + r));
    }
  }
  return [pattern];
}

function splitTopLevel(inner: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of inner) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Converts one path segment (`*.js`, `index.?s`) to an anchored RegExp. */
export function segmentToRegExp(segment: string): RegExp {
  let src = '';
  for (const ch of segment) {
    if (ch === '*') src += '[^/]*';
    else if (ch === '?') src += '[^/]';
    else src += ch.replace(/[.+^$()|[\]\\{}]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

const hasMagic = (segment: string): boolean => /[*?]/.test(segment);

/** Expands `pattern` (relative to `root`, `/`-separated) into existing files. */
export function expandGlob(root: string, pattern: string): string[] {
  const results = new Set<string>();
  for (const expanded of expandBraces(pattern.replace(/\\/g, '/'))) {
    const absolute = path.isAbsolute(expanded);
    const segments = expanded.split('/').filter((s, i) => s !== '' && !(s === '.' && i > 0));
    walk(absolute ? path.parse(expanded).root : root, segments, results);
  }
  return [...results].sort();
}

function walk(dir: string, segments: string[], out: Set<string>): void {
  if (segments.length === 0) {
    if (isFile(dir)) out.add(path.resolve(dir));
    return;
  }
  const [segment, ...rest] = segments as [string, ...string[]];
  if (segment === '**') {
    walk(dir, rest, out); // zero directories
    for (const entry of readDir(dir)) if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules') walk(path.join(dir, entry.name), segments, out);
    return;
  }
  if (!hasMagic(segment)) { walk(path.join(dir, segment), rest, out); return; }
  const re = segmentToRegExp(segment);
  for (const entry of readDir(dir)) {
    if (entry.name.startsWith('.') && !segment.startsWith('.')) continue;
    if (re.test(entry.name)) walk(path.join(dir, entry.name), rest, out);
  }
}

function readDir(dir: string): fs.Dirent[] {
  try { return fs.readdirSync(dir, { withFileTypes: true }); } catch { return []; }
}

function isFile(p: string): boolean {
  try { return fs.statSync(p).isFile(); } catch { return false; }
}

/** The app's entry files: package.json `main` (default `index.js`) expanded relative to appRoot. */
export function resolveEntryPoints(appRoot: string): { main: string; files: string[] } {
  const pkgFile = path.join(appRoot, 'package.json');
  const pkg = fs.existsSync(pkgFile) ? (JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { main?: unknown }) : {};
  const main = typeof pkg.main === 'string' && pkg.main.trim() ? pkg.main.trim() : 'index.js';
  return { main, files: expandGlob(appRoot, main) };
}
