// A flame summary of a .cpuprofile (from bench/profile-preload.ts): busy time (not idle) by package, as self time,
// and the app's own functions by inclusive time (each sample counted once for every app frame on its stack).
//   node dist/bench/profile-summary.js <file.cpuprofile> [rows]
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

/** The package (or app folder) a frame's script belongs to. */
function owner(url: string): string {
  if (!url) return '(native: V8 builtins, crypto, JSON, buffers)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node (internals: streams, http, events)';
  return url.replace(/^file:\/\/.*?\/dist\//, 'dist/').replace(/\/[^/]*$/, '/');
}

const maps = new Map<string, SourceMap | undefined>();
/**
 * Where a frame of the bundle (dist/src/app/, scripts/bundle-app.ts) comes from, through its source map: the source
 * file and line, so the table names src/core/start-session.ts and not a chunk of the bundle.
 */
function sourceOf(f: ProfileNode['callFrame']): string {
  const at = `${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
  if (!f.url.startsWith('file:')) return at;
  const file = fileURLToPath(f.url);
  if (!maps.has(file)) {
    try { maps.set(file, new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0])); } catch { maps.set(file, undefined); }
  }
  const entry = maps.get(file)?.findEntry(f.lineNumber, f.columnNumber ?? 0) as { originalSource?: string; originalLine?: number } | undefined;
  if (!entry?.originalSource) return at;
  return `${entry.originalSource.replace(/^(\.\.\/)+/, '').replace(/^.*?\/(src|dev|bench)\//, '$1/')}:${(entry.originalLine ?? 0) + 1}`;
}

export function summarize(profile: Profile, rows = 12): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let busy = 0;
  let idle = 0;
  const byOwner = new Map<string, number>();
  const appInclusive = new Map<string, number>();
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    if (IDLE.has(node.callFrame.functionName)) { idle += micros; continue; }
    busy += micros;
    const key = owner(node.callFrame.url);
    byOwner.set(key, (byOwner.get(key) ?? 0) + micros);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!f.url.includes('/dist/src/')) continue;
      const name = `${f.functionName || '(anonymous)'} ${sourceOf(f)}`;
      if (seen.has(name)) continue;
      seen.add(name);
      appInclusive.set(name, (appInclusive.get(name) ?? 0) + micros);
    }
  }
  const ms = (micros: number) => `${(micros / 1000).toFixed(0)} ms`;
  const pct = (micros: number) => `${((100 * micros) / busy).toFixed(1)} %`;
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, rows);
  return [
    `busy ${ms(busy)}, idle ${ms(idle)}`,
    '', '| self time by package | ms | share of busy |', '|---|---|---|',
    ...top(byOwner).map(([k, v]) => `| ${k} | ${ms(v).replace(' ms', '')} | ${pct(v)} |`),
    '', '| app function (inclusive) | ms | share of busy |', '|---|---|---|',
    ...top(appInclusive).map(([k, v]) => `| \`${k}\` | ${ms(v).replace(' ms', '')} | ${pct(v)} |`),
  ].join('\n');
}

if (process.argv[2]) {
  const profile = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Profile;
  process.stdout.write(`${summarize(profile, Number(process.argv[3] ?? 12))}\n`);
}
