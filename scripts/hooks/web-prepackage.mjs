// azd prepackage hook of the web service (azure.yaml): builds the pages and writes dist/web/config.json from the azd
// environment (scripts/pages-config.ts: SERVICE_API_URI and BACKOFFICE_AUTH_ISSUER are Bicep outputs, so this runs
// after provisioning: azure.yaml declares `up` as provision, then package, then deploy). Plain Node, so it runs the
// same under sh and PowerShell.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runHook } from './env.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(command, args) {
  // npm is npm.cmd on Windows, which only a shell starts.
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

runHook('web prepackage', async () => {
  run('npm', ['run', 'build']);
  // Reads SERVICE_API_URI, DEVICE_AUTH_ISSUER, DEVICE_PAGE_CLIENT_ID, DEVICE_PAGE_SCOPE, BACKOFFICE_AUTH_ISSUER,
  // BACKOFFICE_PAGE_CLIENT_ID, BACKOFFICE_PAGE_SCOPE and optionally FACE_UI_MODULE_URL. Imported rather than run, so
  // that nothing depends on how a platform spells the script's path.
  const { pagesConfigFromEnv } = await import(pathToFileURL(path.join(root, 'dist', 'scripts', 'pages-config.js')).href);
  const config = pagesConfigFromEnv(process.env);
  const target = path.join(root, 'dist', 'web', 'config.json');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, `${JSON.stringify(config, null, 2)}\n`);
  console.log(`Pages config written to ${path.relative(root, target)} (API ${config.apiBase})`);
});
