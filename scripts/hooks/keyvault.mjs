// The postprovision hook's rules, apart from its entry (postprovision.mjs), so the tests run them against fakes.
// See postprovision.mjs for why each rule is there.
import { randomBytes } from 'node:crypto';

/** The secrets the app reads through Key Vault references (infra/main.bicep), with how a new value is made. */
export const SECRETS = [
  // HMAC key of subject keys: 32 random bytes, hex.
  { name: 'subject-key-secret', make: () => randomBytes(32).toString('hex') },
  // Standard Webhooks signing secret: whsec_ + base64 of 32 random bytes (share it with the receiver).
  { name: 'webhook-secret', make: () => `whsec_${randomBytes(32).toString('base64')}` },
];

const status = (error) => (typeof error?.statusCode === 'number' ? error.statusCode : undefined);
/** Status or code only: a service error's message may quote the request. */
const reason = (error) => String(status(error) ?? error?.code ?? error?.name ?? 'error');
class HookError extends Error {}

/**
 * Makes sure each secret exists. `client` is a SecretClient (getSecret, setSecret). A 403 is retried every
 * `retryMs` until `deadlineMs` has passed since the start; a 404 whose code is SecretNotFound creates the secret
 * (setSecret's own 403 is retried the same way); anything else throws, creating nothing.
 */
export async function ensureSecrets(client, { secrets = SECRETS, log = console.log, sleep = delay, now = Date.now, retryMs = 10_000, deadlineMs = 600_000 } = {}) {
  const start = now();
  const outcomes = {};
  const withRoleRetry = async (what, call) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (status(error) !== 403) throw error;
        if (now() - start + retryMs > deadlineMs) {
          throw new HookError(`${what}: still 403 Forbidden after ${Math.round((now() - start) / 1000)} s. The principal running azd needs the `
            + 'Key Vault Secrets Officer role on the vault (infra/app/secrets.bicep assigns it to AZURE_PRINCIPAL_ID; check AZURE_PRINCIPAL_TYPE '
            + 'is ServicePrincipal for a pipeline identity). If it was just assigned, run `azd provision` again in a few minutes: nothing was created.');
        }
        log(`${what}: 403 Forbidden, the role assignment is probably still propagating; retry ${attempt} in ${retryMs / 1000} s`);
        await sleep(retryMs);
      }
    }
  };
  for (const secret of secrets) {
    const exists = await withRoleRetry(`reading secret ${secret.name}`, async () => {
      try {
        await client.getSecret(secret.name);
        return true;
      } catch (error) {
        if (status(error) === 404 && error.code === 'SecretNotFound') return false;
        throw error;
      }
    }).catch((error) => {
      if (error instanceof HookError) throw error;
      throw new HookError(`reading secret ${secret.name} failed (${reason(error)}); nothing was created or changed`);
    });
    if (exists) {
      log(`secret ${secret.name} exists; left as it is.`);
      outcomes[secret.name] = 'exists';
      continue;
    }
    await withRoleRetry(`creating secret ${secret.name}`, () => client.setSecret(secret.name, secret.make())).catch((error) => {
      if (error instanceof HookError) throw error;
      if (status(error) === 409) {
        throw new HookError(`secret ${secret.name} is deleted but recoverable (soft delete): recover it in the portal (it keeps its old value) `
          + 'rather than creating a new one, then run `azd provision` again');
      }
      throw new HookError(`creating secret ${secret.name} failed (${reason(error)})`);
    });
    log(`secret ${secret.name} created.`);
    outcomes[secret.name] = 'created';
  }
  return outcomes;
}

/**
 * Has App Service resolve the site's Key Vault references again, then waits until each reads Resolved. `arm` is
 * (method, path) => Promise<{ status, body }> against Azure Resource Manager; `siteId` the function app's resource id.
 */
export async function refreshReferences(arm, siteId, { log = console.log, sleep = delay, attempts = 12, intervalMs = 10_000 } = {}) {
  const apiVersion = 'api-version=2022-03-01';
  const refreshed = await arm('POST', `${siteId}/config/configreferences/appsettings/refresh?${apiVersion}`);
  if (refreshed.status >= 300) throw new Error(`refreshing the Key Vault references failed: HTTP ${refreshed.status}`);
  let pending = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const answer = await arm('GET', `${siteId}/config/configreferences/appsettings?${apiVersion}`);
    if (answer.status >= 300) throw new Error(`reading the Key Vault references failed: HTTP ${answer.status}`);
    // Names and statuses only: the answer holds the references, never the secret values.
    pending = (answer.body?.value ?? [])
      .map((r) => ({ name: String(r?.name ?? '').split('/').pop(), status: String(r?.properties?.status ?? 'unknown') }))
      .filter((r) => r.status !== 'Resolved');
    if (pending.length === 0) {
      log('Key Vault references of the function app: all resolved.');
      return;
    }
    if (attempt < attempts) await sleep(intervalMs);
  }
  throw new Error(`Key Vault references still not resolved: ${pending.map((r) => `${r.name} (${r.status})`).join(', ')}. The app would answer `
    + '500 ConfigurationError (GET /api/health names the setting). Check the app identity has Key Vault Secrets User on the vault, then run `azd provision` again.');
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
