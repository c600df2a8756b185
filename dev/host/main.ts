// Dev host for this Azure Functions (Node v4 model) app, for machines without Azure Functions Core Tools.
//
//   node dist/dev/host/main.js [appRoot]        (appRoot default: cwd; `npm run devhost` / `npm start`)
//
// What it does (details in the module headers):
//  - answers require('@azure/functions-core') like the Node worker, so `app.http/app.storageQueue/app.timer` and
//    `app.hook.*` registrations are captured exactly as Azure receives them (core.ts);
//  - copies local.settings.json Values into the environment (existing variables win) and imports every file that
//    package.json "main" (a glob with braces and *) matches (settings.ts, glob.ts);
//  - HTTP (http.ts): /<routePrefix>/<route>, params/constraints/optional/catch-all, literal routes win over parameter
//    routes, 404 JSON for unknown paths, 405 JSON (+ Allow) when only the method is wrong (the real host says 404),
//    413 above 100 MB (as the body arrives), 414 above 4 KB of URL, with app.setup({ enableHttpStream: true }) the
//    function reads the live request body (an early answer is followed by a bounded drain, then the host hangs up), 500 JSON without details when a handler throws, 204 when it returns
//    nothing; keys enforced only when DEVHOST_FUNCTION_KEY / DEVHOST_MASTER_KEY / DEVHOST_ENFORCE_KEYS=1 are set;
//  - storage-queue triggers with the host's retry/poison rules (queues.ts) and timers (timers.ts, schedule.ts), each
//    timer run by one instance at a time through a blob lease like the host's singleton listener (singleton.ts);
//  - an answer before the body arrived says Connection: close and the connection closes lingering; a body that does
//    not arrive within DEVHOST_REQUEST_TIMEOUT_SECONDS gets 408 (http.ts);
//  - admin API: POST /admin/functions/{name} {"input": "..."} → 202 and runs a non-HTTP function;
//    GET /admin/functions lists the registrations; GET /admin/host/status.
//
// Environment: PORT | FUNCTIONS_HTTPWORKER_PORT (default: local.settings.json Host.LocalHttpPort, else 7071),
// DEVHOST_HOST (default 127.0.0.1), DEVHOST_FUNCTION_KEY, DEVHOST_MASTER_KEY, DEVHOST_ENFORCE_KEYS=1,
// DEVHOST_LOG_LEVEL (trace|debug|information|warning|error), DEVHOST_MAX_BODY_BYTES (default 104857600),
// DEVHOST_REQUEST_TIMEOUT_SECONDS (default 230, 0 = none), DEVHOST_QUEUE_LEASE_SECONDS (default 600),
// WEBSITE_TIME_ZONE (IANA zone for timers, default UTC), AzureFunctionsWebHost__hostid (timer leases),
// AzureFunctionsJobHost__singleton__listenerLockPeriod / __listenerLockRecoveryPollingInterval (or host.json singleton).
import path from 'node:path';
import { describeError, hostLog } from './log.js';
import { startDevHost } from './host.js';

async function main(): Promise<void> {
  const appRoot = path.resolve(process.argv[2] ?? process.cwd());
  process.on('unhandledRejection', (reason) => hostLog(`Unhandled promise rejection: ${describeError(reason)}`, 'error'));
  let host: Awaited<ReturnType<typeof startDevHost>>;
  try {
    host = await startDevHost({ appRoot });
  } catch (err) {
    hostLog(`Dev host failed to start: ${describeError(err)}`, 'error');
    process.exit(1);
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) { hostLog(`${signal} again: exiting now.`, 'warning'); process.exit(1); }
    host.stop().then(() => process.exit(0), (err) => { hostLog(`Stop failed: ${describeError(err)}`, 'error'); process.exit(1); });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

void main();
