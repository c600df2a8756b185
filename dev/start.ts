// `npm start`: the whole local environment in one terminal.
//  1. Azurite (Blob/Queue/Table on 10000/10001/10002, data in <repo>/.azurite; an Azurite already listening there is reused)
//  2. the Face emulator (dist/dev/face-emulator/main.js on 7081, key `emulator-key`)
//  3. the dev OIDC issuer (dist/dev/oidc-issuer/main.js on 7082) that signs device and back-office tokens
//     and, when WEBHOOK_URL points at it, the local webhook receiver (dist/dev/webhook-receiver/main.js on 7084)
//  4. the function app: `func start` when Core Tools are on PATH and USE_DEVHOST != 1, else the dev host on 7071
//     (with admin and function keys enforced, as in Azure), allowing the pages' origin (Host.CORS);
//  5. the pages (dist/web: the device page and the operator console) on http://localhost:7083, in this process.
// local.settings.json is created from local.settings.sample.json when missing, and settings added to the sample
// since are merged in (existing values are kept). The children are started through dev/stack.ts; each one's output is prefixed with
// its name. Ctrl-C / SIGTERM stops the children in reverse order and exits 0; if a child dies on its own, the rest
// are stopped and the exit code is 1.
import fs from 'node:fs';
import path from 'node:path';
import { isPortOpen, type AzuritePorts } from './azurite.js';
import { startPagesServer, type RunningPages } from './pages/server.js';
import {
  onPath, REPO_ROOT, startAzurite, startDevHost, startFaceEmulatorProcess, startFunc, startIssuerProcess, startWebhookReceiverProcess,
  stopAll, tag,
  type ManagedProcess,
} from './stack.js';

const REPO = REPO_ROOT;
const AZURITE_PORTS: AzuritePorts = { blob: 10000, queue: 10001, table: 10002 };
const FACE_PORT = 7081;
const FACE_KEY = 'emulator-key';
const APP_PORT = 7071;
const ISSUER_PORT = 7082;
const WEBHOOK_RECEIVER_PORT = 7084;
const PAGES_PORT = 7083;
/** The pages' origin: the only one the function app allows (Host.CORS in local.settings.sample.json). */
const PAGES_ORIGIN = `http://localhost:${PAGES_PORT}`;
const MASTER_KEY = process.env.DEVHOST_MASTER_KEY ?? 'dev-master-key';
const FUNCTION_KEY = process.env.DEVHOST_FUNCTION_KEY ?? 'dev-function-key';

const say = (message: string): void => { process.stdout.write(`${tag('start')} ${message}\n`); };

let shuttingDown = false;
let pages: RunningPages | undefined;

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  say('Stopping...');
  await pages?.close();
  await stopAll();
  say('Stopped.');
  process.exit(code);
}

/** Every child echoes its output with a [name] prefix, runs in its own process group, and takes the rest down if it dies. */
const child = {
  echo: true,
  detached: true,
  onUnexpectedExit: (p: ManagedProcess, code: number | null, signal: NodeJS.Signals | null) => {
    if (shuttingDown) return;
    say(`${p.name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.`);
    void shutdown(1);
  },
};

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  const t0 = Date.now();

  // local.settings.json
  const settings = path.join(REPO, 'local.settings.json');
  const sample = path.join(REPO, 'local.settings.sample.json');
  if (!fs.existsSync(settings)) {
    fs.copyFileSync(sample, settings);
    say('Created local.settings.json from local.settings.sample.json');
  } else {
    const mine = JSON.parse(fs.readFileSync(settings, 'utf8')) as { Values?: Record<string, string> };
    const theirs = JSON.parse(fs.readFileSync(sample, 'utf8')) as { Values: Record<string, string>; Host?: Record<string, unknown> };
    const added = Object.keys(theirs.Values).filter((k) => !(k in (mine.Values ?? {})));
    const mineHost = (mine as { Host?: Record<string, unknown> }).Host ?? {};
    const addedHost = Object.keys(theirs.Host ?? {}).filter((k) => !(k in mineHost));
    if (added.length || addedHost.length) {
      mine.Values = { ...theirs.Values, ...mine.Values };
      (mine as { Host?: Record<string, unknown> }).Host = { ...theirs.Host, ...mineHost };
      fs.writeFileSync(settings, `${JSON.stringify(mine, null, 2)}\n`);
      say(`Added new settings to local.settings.json: ${[...added, ...addedHost.map((k) => `Host.${k}`)].join(', ')}`);
    }
  }

  // 1. Azurite
  const azuriteOpen = await Promise.all([AZURITE_PORTS.blob, AZURITE_PORTS.queue, AZURITE_PORTS.table].map((p) => isPortOpen(p)));
  if (azuriteOpen.every(Boolean)) {
    say('Azurite is already listening on 10000-10002; reusing it.');
  } else if (azuriteOpen.some(Boolean)) {
    throw new Error('some of the ports 10000-10002 are in use, but not by a complete Azurite; free them and retry');
  } else {
    const location = path.join(REPO, '.azurite');
    fs.mkdirSync(location, { recursive: true });
    await startAzurite({ ports: AZURITE_PORTS, location, extraArgs: ['--silent'], ...child });
  }

  // 2. Face emulator
  const emulatorMain = path.join(REPO, 'dist/dev/face-emulator/main.js');
  let emulatorUp = false;
  if (await isPortOpen(FACE_PORT)) {
    say(`Port ${FACE_PORT} is already in use; assuming the Face emulator runs there.`);
    emulatorUp = true;
  } else if (fs.existsSync(emulatorMain)) {
    // Vision decisions: a different person in front of the camera fails (FACE_EMULATOR_DECISIONS=scripted to script them).
    await startFaceEmulatorProcess({ port: FACE_PORT, apiKey: FACE_KEY, env: { FACE_EMULATOR_DECISIONS: process.env.FACE_EMULATOR_DECISIONS ?? 'vision' }, ...child });
    emulatorUp = true;
  } else {
    say(`WARNING: ${path.relative(REPO, emulatorMain)} not found; starting without the Face emulator.`);
  }

  // 3. Dev OIDC issuer
  if (await isPortOpen(ISSUER_PORT)) {
    say(`Port ${ISSUER_PORT} is already in use; assuming the dev OIDC issuer runs there.`);
  } else {
    await startIssuerProcess({ port: ISSUER_PORT, ...child });
  }

  // 3b. Webhook receiver, when the app's WEBHOOK_URL points at it: it verifies with the app's own secrets.
  const receiverUrl = await startWebhookReceiverIfLocal(settings);

  // 4. Function app
  if (await isPortOpen(APP_PORT)) throw new Error(`port ${APP_PORT} is already in use (another func start / dev host?)`);
  const useFunc = process.env.USE_DEVHOST !== '1' && onPath('func');
  if (useFunc) await startFunc({ port: APP_PORT, ...child });
  else await startDevHost({ port: APP_PORT, env: { DEVHOST_MASTER_KEY: MASTER_KEY, DEVHOST_FUNCTION_KEY: FUNCTION_KEY }, startTimeoutMs: 120_000, ...child });

  // 5. The pages
  const corsSetting = (JSON.parse(fs.readFileSync(settings, 'utf8')) as { Host?: { CORS?: string } }).Host?.CORS;
  if (corsSetting !== PAGES_ORIGIN) say(`WARNING: local.settings.json Host.CORS is '${corsSetting ?? ''}', not ${PAGES_ORIGIN}: the pages cannot call the API.`);
  if (await isPortOpen(PAGES_PORT)) throw new Error(`port ${PAGES_PORT} is already in use (another npm start?)`);
  pages = await startPagesServer({
    root: path.join(REPO, 'dist/web'), port: PAGES_PORT, apiBase: `http://localhost:${APP_PORT}/api`,
    issuerUrl: `http://127.0.0.1:${ISSUER_PORT}`, faceEmulatorUrl: `http://127.0.0.1:${FACE_PORT}`,
  });

  const lines = [
    '',
    '─'.repeat(72),
    ` face-liveness-functions is running (${useFunc ? 'Azure Functions Core Tools' : 'dev host'}, up in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    `   Device page     ${pages.url}device/   (sign in with any name at the dev issuer)`,
    `   Console         ${pages.url}console/   (the dev issuer pre-fills the back-office role)`,
    `   API base        http://localhost:${APP_PORT}/api`,
    `   Face emulator   ${emulatorUp ? `http://127.0.0.1:${FACE_PORT}   (key: ${FACE_KEY})` : 'not running'}`,
    `   Azurite blob    http://127.0.0.1:${AZURITE_PORTS.blob}/devstoreaccount1`,
    `   Azurite queue   http://127.0.0.1:${AZURITE_PORTS.queue}/devstoreaccount1`,
    `   Azurite table   http://127.0.0.1:${AZURITE_PORTS.table}/devstoreaccount1`,
    '   Storage         AzureWebJobsStorage=UseDevelopmentStorage=true',
    `   Dev issuer      http://127.0.0.1:${ISSUER_PORT}   (POST /token {"sub":"me"} gives a device token)`,
    `   Webhooks        ${receiverUrl ? `${receiverUrl}   (deliveries: GET http://127.0.0.1:${WEBHOOK_RECEIVER_PORT}/deliveries)` : 'WEBHOOK_URL is not the local receiver; none started'}`,
    useFunc ? '   Keys            func start does not enforce keys locally' : `   Admin key       x-functions-key: ${MASTER_KEY}   (back-office endpoints)`,
    `   Try             curl http://localhost:${APP_PORT}/api/health`,
    useFunc ? '' : `   Run the sweep   curl -X POST -H 'x-functions-key: ${MASTER_KEY}' -H 'content-type: application/json' -d '{"input":""}' http://localhost:${APP_PORT}/admin/functions/liveness-sweep`,
    '   Stop            Ctrl-C',
    '─'.repeat(72),
    '',
  ].filter((l, i, all) => l !== '' || i === 0 || i === all.length - 1);
  process.stdout.write(lines.join('\n') + '\n');
}

/** Starts the local webhook receiver when the app's WEBHOOK_URL (environment first, then local.settings.json) is it. */
async function startWebhookReceiverIfLocal(settingsFile: string): Promise<string | undefined> {
  const values = (JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as { Values?: Record<string, string> }).Values ?? {};
  const setting = (name: string): string | undefined => process.env[name] ?? values[name];
  const url = setting('WEBHOOK_URL');
  if (!url || !/^http:\/\/(127\.0\.0\.1|localhost):7084\//.test(url)) return undefined;
  if (await isPortOpen(WEBHOOK_RECEIVER_PORT)) {
    say(`Port ${WEBHOOK_RECEIVER_PORT} is already in use; assuming the webhook receiver runs there.`);
    return url;
  }
  const secrets = ['WEBHOOK_SECRET', 'WEBHOOK_SECRET_SECONDARY'].map(setting).filter((v): v is string => !!v);
  await startWebhookReceiverProcess({ port: WEBHOOK_RECEIVER_PORT, secrets, ...child });
  return url;
}

main().catch((err: unknown) => {
  say(`Failed: ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
