// CLI entry: `node dist/dev/face-emulator/main.js` (or `npm run emulator`).
// Env: FACE_EMULATOR_PORT (7081), FACE_EMULATOR_HOST (127.0.0.1), FACE_EMULATOR_KEY (emulator-key),
// FACE_EMULATOR_ENGINE (human|stub), FACE_EMULATOR_DECISIONS (vision|scripted; default vision with the human
// engine, scripted with the stub), FACE_EMULATOR_LOG (1 = request log on stderr), and fault settings:
// FACE_EMULATOR_LATENCY_MS, FACE_EMULATOR_ERROR_RATE, FACE_EMULATOR_ERROR_STATUS, FACE_EMULATOR_RETRY_AFTER_SECONDS,
// FACE_EMULATOR_DROP_RATE, FACE_EMULATOR_FAULT_PATHS (comma-separated regexes); FACE_EMULATOR_TOKEN_ISSUER (the issuer
// whose Entra-style bearer tokens for https://cognitiveservices.azure.com are accepted besides the key; default the dev
// issuer http://127.0.0.1:7082, `off` for keys only), FACE_EMULATOR_ABUSE_MONITORING (1 = on at start; v1.3 PATCH
// /settings turns it on or off), FACE_EMULATOR_TLS_KEY / FACE_EMULATOR_TLS_CERT (PEM files: serve https).
import { readFileSync } from 'node:fs';
import { faultsFromEnv } from './faults.js';
import { startFaceEmulator } from './server.js';

async function main(): Promise<void> {
  const env = process.env;
  const port = Number(env.FACE_EMULATOR_PORT ?? 7081);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('FACE_EMULATOR_PORT must be a port number');
  const engine = env.FACE_EMULATOR_ENGINE ?? 'human';
  if (engine !== 'human' && engine !== 'stub') throw new Error('FACE_EMULATOR_ENGINE must be human or stub');
  // Standalone runs (npm start, npm run emulator) compare faces for real; the stub engine has no embeddings.
  const decisions = env.FACE_EMULATOR_DECISIONS || (engine === 'human' ? 'vision' : 'scripted');
  if (decisions !== 'vision' && decisions !== 'scripted') throw new Error('FACE_EMULATOR_DECISIONS must be vision or scripted');
  if (decisions === 'vision' && engine === 'stub') throw new Error('FACE_EMULATOR_DECISIONS=vision needs FACE_EMULATOR_ENGINE=human');
  const emulator = await startFaceEmulator({
    port,
    host: env.FACE_EMULATOR_HOST ?? '127.0.0.1',
    apiKey: env.FACE_EMULATOR_KEY || 'emulator-key',
    engine,
    decisions,
    faults: faultsFromEnv(env),
    ...(env.FACE_EMULATOR_TOKEN_ISSUER === 'off' ? {} : { tokenAuth: { issuer: env.FACE_EMULATOR_TOKEN_ISSUER || 'http://127.0.0.1:7082' } }),
    abuseMonitoringEnabled: env.FACE_EMULATOR_ABUSE_MONITORING === '1',
    ...(env.FACE_EMULATOR_TLS_KEY && env.FACE_EMULATOR_TLS_CERT
      ? { tls: { key: readFileSync(env.FACE_EMULATOR_TLS_KEY), cert: readFileSync(env.FACE_EMULATOR_TLS_CERT) } } : {}),
    ...(env.FACE_EMULATOR_LOG === '1' ? { log: (line: string) => process.stderr.write(`[face-emulator] ${line}\n`) } : {}),
  });
  console.log(`Face emulator listening on ${emulator.url}`);
  console.log(`Face emulator decisions: ${decisions}${decisions === 'vision' ? ' (matchConfidence from face embeddings; liveness scripted, realface by default)' : ' (realface, matchConfidence 0.95 unless scripted)'}`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(() => process.exit(0), () => process.exit(1));
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`Face emulator failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
