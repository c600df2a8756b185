// `npm start`: the whole local environment in one terminal.
//  1. Azurite (Blob/Queue/Table on 10000/10001/10002, data in <repo>/.azurite; an Azurite already listening there is reused)
//  2. the Face emulator (dist/dev/face-emulator/main.js on 7081, key `emulator-key`)
//  3. the dev OIDC issuer (dist/dev/oidc-issuer/main.js on 7082) that signs device and back-office tokens
//     and, when WEBHOOK_URL points at it, the local webhook receiver (dist/dev/webhook-receiver/main.js on 7083)
//  4. the function app: `func start` when Core Tools are on PATH and USE_DEVHOST != 1, else the dev host on 7071
//     (with admin and function keys enforced, as in Azure).
// local.settings.json is created from local.settings.sample.json when missing, and settings added to the sample
// since are merged in (existing values are kept). Each child's output is prefixed with
// its name. Ctrl-C / SIGTERM stops the children in reverse order and exits 0; if a child dies on its own, the rest
// are stopped and the exit code is 1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { azuriteArgs, isPortOpen, type AzuritePorts } from './azurite.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const AZURITE_PORTS: AzuritePorts = { blob: 10000, queue: 10001, table: 10002 };
const FACE_PORT = 7081;
const FACE_KEY = 'emulator-key';
const APP_PORT = 7071;
const ISSUER_PORT = 7082;
const WEBHOOK_RECEIVER_PORT = 7083;
const MASTER_KEY = process.env.DEVHOST_MASTER_KEY ?? 'dev-master-key';
const FUNCTION_KEY = process.env.DEVHOST_FUNCTION_KEY ?? 'dev-function-key';

const COLORS: Record<string, string> = { azurite: '36', 'face-emulator': '35', issuer: '34', webhooks: '94', devhost: '32', func: '32', start: '33' };
const tty = process.stdout.isTTY;
const tag = (name: string): string => (tty ? `\x1b[${COLORS[name] ?? '37'}m[${name}]\x1b[0m` : `[${name}]`);
const say = (message: string): void => { process.stdout.write(`${tag('start')} ${message}\n`); };

interface Child { name: string; proc: ChildProcess; exited: boolean; exit: Promise<void> }
const children: Child[] = [];
let shuttingDown = false;

function prefixLines(name: string, stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream): void {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) out.write(`${tag(name)} ${line.replace(/\r$/, '')}\n`);
  });
  stream.on('end', () => { if (buffered) out.write(`${tag(name)} ${buffered}\n`); });
}

function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  // detached: own process group, so a terminal Ctrl-C reaches only us and we stop the children in order
  const proc = spawn(command, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  prefixLines(name, proc.stdout, process.stdout);
  prefixLines(name, proc.stderr, process.stderr);
  const child: Child = { name, proc, exited: false, exit: Promise.resolve() };
  child.exit = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      child.exited = true;
      resolve();
      if (!shuttingDown) {
        say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.`);
        void shutdown(1);
      }
    });
    proc.once('error', (err) => {
      say(`${name} could not be started: ${err.message}`);
      child.exited = true;
      resolve();
      if (!shuttingDown) void shutdown(1);
    });
  });
  children.push(child);
  return child;
}

async function stopChild(child: Child): Promise<void> {
  if (child.exited || child.proc.pid === undefined) return;
  try { process.kill(-child.proc.pid, 'SIGTERM'); } catch { child.proc.kill('SIGTERM'); }
  const timer = setTimeout(() => { try { process.kill(-child.proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
  await child.exit;
  clearTimeout(timer);
}

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  say('Stopping...');
  for (const child of [...children].reverse()) await stopChild(child);
  say('Stopped.');
  process.exit(code);
}

process.on('exit', () => {
  for (const child of children) if (!child.exited && child.proc.pid) { try { process.kill(-child.proc.pid, 'SIGKILL'); } catch { /* gone */ } }
});

async function waitForPort(port: number, child: Child | undefined, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!(await isPortOpen(port))) {
    if (child?.exited) throw new Error(`${what} exited before listening on ${port}`);
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not listen on ${port} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function onPath(command: string): boolean {
  return spawnSync(process.platform === 'win32' ? 'where' : 'which', [command], { stdio: 'ignore' }).status === 0;
}

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
    const theirs = JSON.parse(fs.readFileSync(sample, 'utf8')) as { Values: Record<string, string> };
    const added = Object.keys(theirs.Values).filter((k) => !(k in (mine.Values ?? {})));
    if (added.length) {
      mine.Values = { ...theirs.Values, ...mine.Values };
      fs.writeFileSync(settings, `${JSON.stringify(mine, null, 2)}\n`);
      say(`Added new settings to local.settings.json: ${added.join(', ')}`);
    }
  }

  // 1. Azurite
  const azuriteOpen = await Promise.all(Object.values(AZURITE_PORTS).map((p) => isPortOpen(p)));
  if (azuriteOpen.every(Boolean)) {
    say('Azurite is already listening on 10000-10002; reusing it.');
  } else if (azuriteOpen.some(Boolean)) {
    throw new Error('some of the ports 10000-10002 are in use, but not by a complete Azurite; free them and retry');
  } else {
    const location = path.join(REPO, '.azurite');
    fs.mkdirSync(location, { recursive: true });
    const entry = createRequire(import.meta.url).resolve('azurite/dist/src/azurite.js');
    // same flags as dev/azurite.ts startAzurite (shared azuriteArgs), spawned here so its output can be prefixed
    // and an unexpected exit noticed
    const child = startChild('azurite', process.execPath, [entry, ...azuriteArgs({ ports: AZURITE_PORTS, location, extraArgs: ['--silent'] })]);
    for (const port of Object.values(AZURITE_PORTS)) await waitForPort(port, child, 'Azurite', 30_000);
  }

  // 2. Face emulator
  const emulatorMain = path.join(REPO, 'dist/dev/face-emulator/main.js');
  let emulatorUp = false;
  if (await isPortOpen(FACE_PORT)) {
    say(`Port ${FACE_PORT} is already in use; assuming the Face emulator runs there.`);
    emulatorUp = true;
  } else if (fs.existsSync(emulatorMain)) {
    const child = startChild('face-emulator', process.execPath, [emulatorMain], { ...process.env, FACE_EMULATOR_PORT: String(FACE_PORT), FACE_EMULATOR_KEY: FACE_KEY });
    await waitForPort(FACE_PORT, child, 'Face emulator');
    emulatorUp = true;
  } else {
    say(`WARNING: ${path.relative(REPO, emulatorMain)} not found; starting without the Face emulator.`);
  }

  // 3. Dev OIDC issuer
  if (await isPortOpen(ISSUER_PORT)) {
    say(`Port ${ISSUER_PORT} is already in use; assuming the dev OIDC issuer runs there.`);
  } else {
    const child = startChild('issuer', process.execPath, [path.join(REPO, 'dist/dev/oidc-issuer/main.js')], { ...process.env, DEV_ISSUER_PORT: String(ISSUER_PORT) });
    await waitForPort(ISSUER_PORT, child, 'the dev OIDC issuer');
  }

  // 3b. Webhook receiver, when the app's WEBHOOK_URL points at it: it verifies with the app's own secrets.
  const receiverUrl = await startWebhookReceiverIfLocal(settings);

  // 4. Function app
  if (await isPortOpen(APP_PORT)) throw new Error(`port ${APP_PORT} is already in use (another func start / dev host?)`);
  const useFunc = process.env.USE_DEVHOST !== '1' && onPath('func');
  const app = useFunc
    ? startChild('func', 'func', ['start', '--port', String(APP_PORT)])
    : startChild('devhost', process.execPath, [path.join(REPO, 'dist/dev/host/main.js'), REPO], { ...process.env, PORT: String(APP_PORT), DEVHOST_MASTER_KEY: MASTER_KEY, DEVHOST_FUNCTION_KEY: FUNCTION_KEY });
  await waitForPort(APP_PORT, app, useFunc ? 'func start' : 'the dev host', 120_000);

  const lines = [
    '',
    '─'.repeat(72),
    ` face-liveness-functions is running (${useFunc ? 'Azure Functions Core Tools' : 'dev host'}, up in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
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
  if (!url || !/^http:\/\/(127\.0\.0\.1|localhost):7083\//.test(url)) return undefined;
  if (await isPortOpen(WEBHOOK_RECEIVER_PORT)) {
    say(`Port ${WEBHOOK_RECEIVER_PORT} is already in use; assuming the webhook receiver runs there.`);
    return url;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, WEBHOOK_RECEIVER_PORT: String(WEBHOOK_RECEIVER_PORT) };
  for (const name of ['WEBHOOK_SECRET', 'WEBHOOK_SECRET_SECONDARY']) { const v = setting(name); if (v) env[name] = v; }
  const child = startChild('webhooks', process.execPath, [path.join(REPO, 'dist/dev/webhook-receiver/main.js')], env);
  await waitForPort(WEBHOOK_RECEIVER_PORT, child, 'the webhook receiver');
  return url;
}

main().catch((err: unknown) => {
  say(`Failed: ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
