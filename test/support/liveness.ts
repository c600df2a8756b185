// Helpers shared by the end-to-end suites: a dev host per suite with its own storage prefix (so suites running in
// parallel never share tables, queues or containers), direct storage access for assertions, and emulator control.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { inject } from 'vitest';
import { createStorageClients } from '../../src/adapters/storage/clients.js';
import { TableAuditLog } from '../../src/adapters/storage/table-audit-log.js';
import { TableSessionRepository } from '../../src/adapters/storage/table-session-repository.js';
import { BACKOFFICE_AUDIENCE, BACKOFFICE_ROLE, DEVICE_AUDIENCE } from '../../dev/oidc-issuer/issuer.js';
import { DEFAULT_CONSENT_VERSION } from '../../src/config/config.js';
import { spawnDevHost, type RunningDevHost } from './dev-host.js';
import { eventually } from '../../dev/eventually.js';
import { validateExchange } from './openapi.js';

/** The one polling helper (dev/eventually.ts), re-exported for the suites. */
export { eventually };

const here = path.dirname(fileURLToPath(import.meta.url));
export const fixture = (name: string): Buffer => readFileSync(path.join(here, '../fixtures/images', name));
export const sha256Upper = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').toUpperCase();

/** A token from the dev issuer started by the global setup (over HTTP, as a real client would get one). */
export async function issueToken(request: { sub: string; aud?: string; roles?: string[]; expires_in?: number }): Promise<string> {
  const res = await fetch(`${inject('issuerUrl')}/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request),
  });
  if (!res.ok) throw new Error(`token request failed: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export const deviceToken = (sub = `device-${randomBytes(6).toString('hex')}`) => issueToken({ sub, aud: DEVICE_AUDIENCE });
export const backOfficeToken = (roles = [BACKOFFICE_ROLE]) => issueToken({ sub: 'analyst-1', aud: BACKOFFICE_AUDIENCE, roles });
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface Stack {
  api: string;
  faceEndpoint: string;
  faceKey: string;
  prefix: string;
  container: string;
  repository: TableSessionRepository;
  audit: TableAuditLog;
  blobs: BlobServiceClient;
  /** The completion queue: empty once every completion message has been handled (Azurite counts invisible ones too). */
  completionQueue: QueueClient;
  logs(): string;
  stop(): Promise<void>;
  /** The dev host's process id (to kill it mid-request in a crash test). */
  pid(): number | undefined;
  /** Starts a new dev host on the same settings and storage prefix (after a kill); `api` then points at it. */
  restart(): Promise<void>;
  /** Starts one more instance of the same app (same settings, storage and host id), as a scale-out would. */
  scaleOut(): Promise<RunningDevHost>;
}

export async function startStack(
  env: Record<string, string> = {}, face?: { endpoint: string; key: string }, appStorage?: string,
): Promise<Stack> {
  const prefix = `T${randomBytes(5).toString('hex')}`;
  const storage = inject('storageConnectionString');
  const faceEndpoint = face?.endpoint ?? inject('faceEndpoint');
  const faceKey = face?.key ?? inject('faceApiKey');
  const hostEnv: Record<string, string> = {
    // The app may reach storage another way (a fault proxy); the test's own clients below never do.
    AzureWebJobsStorage: appStorage ?? storage,
    FACE_ENDPOINT: faceEndpoint,
    FACE_API_KEY: faceKey,
    LIVENESS_STORAGE_PREFIX: prefix,
    // One function app per stack: its own host id, so its timers' singleton leases are its own (a restarted or
    // scaled-out host of the same stack shares them).
    AzureFunctionsWebHost__hostid: prefix.toLowerCase(),
    LIVENESS_COMPLETION_QUEUE: `${prefix.toLowerCase()}-completions`,
    // Never fires by itself during a test; suites fire it through the admin endpoint.
    LIVENESS_SWEEP_SCHEDULE: '0 0 0 1 1 *',
    LIVENESS_COLLECT_BACKOFF_SECONDS: '0.5',
    LIVENESS_COLLECT_MAX_TRIES: '4',
    DEVICE_AUTH_ISSUER: inject('issuerUrl'),
    DEVICE_AUTH_AUDIENCE: DEVICE_AUDIENCE,
    BACKOFFICE_AUTH_ISSUER: inject('issuerUrl'),
    BACKOFFICE_AUTH_AUDIENCE: BACKOFFICE_AUDIENCE,
    // No webhook unless a suite asks for one (a developer's local.settings.json may name the local receiver).
    WEBHOOK_URL: '',
    ...env,
  };
  let host = await spawnDevHost({ env: hostEnv });
  const clients = createStorageClients({ kind: 'connectionString', connectionString: storage });
  appApis.add(`${host.url}/api`);
  const stack: Stack = {
    api: `${host.url}/api`,
    faceEndpoint,
    faceKey,
    prefix,
    container: `${prefix.toLowerCase()}liveness-images`,
    repository: new TableSessionRepository(clients, prefix),
    audit: new TableAuditLog(clients, prefix),
    blobs: clients.blobService,
    completionQueue: clients.queueService.getQueueClient(`${prefix.toLowerCase()}-completions`),
    logs: () => host.logs(),
    stop: () => host.stop(),
    pid: () => host.pid,
    scaleOut: async () => {
      const more = await spawnDevHost({ env: hostEnv });
      appApis.add(`${more.url}/api`);
      return more;
    },
    restart: async () => {
      await host.stop();
      host = await spawnDevHost({ env: hostEnv });
      stack.api = `${host.url}/api`;
      appApis.add(stack.api);
    },
  };
  return stack;
}

/** The consent version the app's default settings publish (GET /api/privacy); startForm sends it unless told otherwise. */
export const CONSENT_VERSION = DEFAULT_CONSENT_VERSION;

/** A start form; it carries the current consentVersion unless `fields` names one or `noConsent` leaves it out. */
export function startForm(image: Uint8Array | undefined, fields: Record<string, string> = {}, fileName = 'verify.jpg', options: { noConsent?: boolean } = {}): FormData {
  const form = new FormData();
  if (!options.noConsent && !('consentVersion' in fields)) form.set('consentVersion', CONSENT_VERSION);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  if (image) form.set('verifyImage', new File([image], fileName, { type: 'image/jpeg' }));
  return form;
}

export interface CreatedSession {
  sessionId: string; authToken: string; authTokenExpiresDateTime: string; verifyImage: any; deviceToken: string;
  /** Face's id for the session (read from storage), to check the emulator's state. */
  faceSessionId: string;
}

/** Starts a session as a device; each call is a new device subject unless `token` is given. */
export async function createSession(stack: Stack, image: Uint8Array, fields: Record<string, string> = {}, token?: string): Promise<CreatedSession> {
  const device = token ?? await deviceToken();
  const res = await checkedFetch(`${stack.api}/liveness-sessions`, { method: 'POST', body: startForm(image, fields), headers: bearer(device) });
  const body = (await res.json()) as Record<string, any>;
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(body)}`);
  const faceSessionId = (await stack.repository.get(body.sessionId))?.faceSessionId;
  if (!faceSessionId) throw new Error(`session ${body.sessionId} has no Face session id in storage`);
  return { ...(body as Omit<CreatedSession, 'deviceToken' | 'faceSessionId'>), deviceToken: device, faceSessionId };
}

/** The device reports that its capture is done. */
export function complete(stack: Stack, session: CreatedSession): Promise<Response> {
  return checkedFetch(`${stack.api}/liveness-sessions/${session.sessionId}/complete`, { method: 'POST', headers: bearer(session.deviceToken) });
}

export async function emulator(stack: { faceEndpoint: string; faceKey: string }, method: string, route: string, body?: unknown) {
  const res = await fetch(`${stack.faceEndpoint}${route}`, {
    method,
    headers: { 'ocp-apim-subscription-key': stack.faceKey, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function faceSessionIds(stack: { faceEndpoint: string; faceKey: string }): Promise<Set<string>> {
  const res = await emulator(stack, 'GET', '/emulator/sessions');
  return new Set((res.body.sessions as Array<{ sessionId: string }>).map((s) => s.sessionId));
}

export async function blobNames(stack: Stack): Promise<string[]> {
  const container = stack.blobs.getContainerClient(stack.container);
  if (!(await container.exists())) return [];
  const names: string[] = [];
  for await (const b of container.listBlobsFlat()) names.push(b.name);
  return names;
}

/** Waits until every completion message of the stack has been handled (its collections have finished). */
export async function completionsDrained(stack: Stack, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => {
    const count = (await stack.completionQueue.getProperties()).approximateMessagesCount ?? 0;
    if (count > 0) throw new Error(`${count} completion messages still queued or in flight`);
    return true;
  }, 'the completion queue to drain', timeoutMs);
}

export async function getJson(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  await checkAgainstOpenApi(url, init, res, body);
  return { status: res.status, headers: res.headers, body };
}

/** The app API bases of the stacks started here; only their responses are checked against the OpenAPI document. */
const appApis = new Set<string>();

/**
 * Throws when `url` is one of the app's /api URLs and the request or the response does not match the OpenAPI
 * document (or the app accepted a request the document refuses, or refused one it allows).
 */
export async function checkAgainstOpenApi(url: string, init: RequestInit | undefined, res: Response, body: unknown): Promise<void> {
  if (![...appApis].some((api) => url.startsWith(`${api}/`))) return; // the emulator, the issuer, the admin API
  await validateExchange(
    { method: init?.method ?? 'GET', url, headers: init?.headers, body: init?.body },
    { status: res.status, headers: res.headers, body },
  );
}

/** fetch, with the response checked against the OpenAPI document when it comes from the app's /api. */
export async function checkedFetch(url: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  const text = await res.clone().text();
  let body: unknown = text || undefined;
  if (text && /json/i.test(res.headers.get('content-type') ?? '')) {
    try { body = JSON.parse(text); } catch { /* left as text: the schema check reports it */ }
  }
  await checkAgainstOpenApi(url, init, res, body);
  return res;
}
