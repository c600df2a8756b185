// `npm run build` step for the function app: bundles what tsc compiled (dist/src/index.js, then every
// dist/src/functions/*.js, the order the functions register in) into one module, dist/src/app/main.js, which package.json
// "main" names, so the host (the real one and the dev host) loads one file when it indexes the functions instead of
// about eighty. Module loading was most of a cold start (see bench/README.md, "Cold start"). What a function needs only
// when it runs (the composition root with every Azure SDK, busboy, zod, ...) stays behind dynamic import() in chunks
// of their own (dist/src/app/chunks/), loaded on first use as before. Packages from node_modules are not bundled: the
// app imports them as installed, so there is one copy of @azure/functions, which the host's worker shares.
// The bundle sits two levels under dist/, like the modules it comes from, so a path relative to import.meta.url
// (functions/openapi.ts reads ../openapi/openapi.json) means the same file in both.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const compiled = path.join(root, 'dist/src');
const outdir = path.join(compiled, 'app');

const functions = fs.readdirSync(path.join(compiled, 'functions')).filter((f) => f.endsWith('.js')).sort();
const entry = ['./index.js', ...functions.map((f) => `./functions/${f}`)].map((f) => `import '${f}';`).join('\n');

fs.rmSync(outdir, { recursive: true, force: true });
await build({
  stdin: { contents: entry, resolveDir: compiled, sourcefile: 'main.js', loader: 'js' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir,
  entryNames: 'main',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  logLevel: 'warning',
});
console.log(`bundled dist/src/index.js and ${functions.length} function modules into ${path.relative(root, path.join(outdir, 'main.js'))}`);
