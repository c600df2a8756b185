// `npm run build` step for the pages: copies web/'s HTML and CSS next to the modules tsc compiled into dist/web
// (web/tsconfig.json), and the browser libraries the pages import (VENDOR: each package's own ES module build, to
// dist/web/vendor/, where web/vendor/*.d.ts point tsc at the package's types), so dist/web is the whole static site. web/public/ (git-ignored) is copied as it is to the
// site's root: that is where a developer with access puts Microsoft's gated Face UI web component and its assets. config.json is not part of the build: it says where
// the site runs and is written by `npm start` (dev/pages/server.ts) or for Azure by scripts/pages-config.ts.
// Last, every page gets subresource integrity for every module and stylesheet in dist/web (scripts/pages-integrity.ts):
// anything copied into dist/web (a third-party ESM file, the Face UI component) must be there before that step.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stampIntegrity } from './pages-integrity.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const source = path.join(root, 'web');
const target = path.join(root, 'dist/web');

const publicDir = path.join(source, 'public');

let copied = 0;
function copy(dir: string, into: string, everything: boolean): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (from !== publicDir) copy(from, path.join(into, entry.name), everything);
      continue;
    }
    if (!everything && (!/\.(html|css|svg|png|ico)$/.test(entry.name))) continue;
    const to = path.join(into, entry.name);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    copied++;
  }
}
copy(source, target, false);

/** Browser libraries: package → its single-file ES module build (no imports of its own), served as vendor/<name>.js. */
const VENDOR: Record<string, string> = { oauth4webapi: 'build/index.js', 'qrcode-generator': 'dist/qrcode.mjs' };
for (const [name, file] of Object.entries(VENDOR)) {
  const code = fs.readFileSync(path.join(root, 'node_modules', name, file), 'utf8');
  if (/^\s*import\s|\bimport\s*\(|^\s*export\s+\*\s+from/m.test(code)) throw new Error(`${name}/${file} imports other modules; it cannot be served as one file`);
  const to = path.join(target, 'vendor', `${name}.js`);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.writeFileSync(to, code.replace(/^\/\/# sourceMappingURL=.*$/m, ''));
  copied++;
}
if (fs.existsSync(publicDir)) copy(publicDir, target, true);
const stamped = stampIntegrity(target);
console.log(`Pages: ${copied} static files copied to ${path.relative(root, target)}; integrity for ${stamped.modules} modules in ${stamped.pages} pages`);
