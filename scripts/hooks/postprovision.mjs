// azd postprovision hook (azure.yaml): creates the app's secrets in its Key Vault when they do not exist yet, then has
// App Service resolve the function app's Key Vault references again, so the first request after `azd up` finds them.
//
// - Signs in as azd does (AzureDeveloperCliCredential: `azd auth token`); no Azure CLI.
// - Random values that never leave Key Vault: nothing is printed, kept in azd's environment or passed through Bicep.
// - Never overwrites. Only a definite 404 (SecretNotFound) creates a secret; any other failure stops the hook. A new
//   subject-key secret would give every person a new subject key, orphaning the old ones.
// - 403 is retried for a bounded time: the Key Vault Secrets Officer role for the principal running azd is assigned
//   in the same deployment, and Azure RBAC can take minutes to apply.
// - Then POST <site>/config/configreferences/appsettings/refresh (App Service re-resolves the references now rather
//   than within 24 hours) and wait until every reference reads Resolved. A restart is not documented to re-resolve.
import { need, optional, runHook } from './env.mjs';
import { ensureSecrets, refreshReferences } from './keyvault.mjs';

async function main() {
  const env = process.env;
  const vaultUrl = need(env, 'AZURE_KEY_VAULT_ENDPOINT');
  const tenantId = need(env, 'AZURE_TENANT_ID');
  const subscriptionId = need(env, 'AZURE_SUBSCRIPTION_ID');
  const resourceGroup = need(env, 'AZURE_RESOURCE_GROUP');
  const siteName = need(env, 'SERVICE_API_NAME');
  const armEndpoint = optional(env, 'AZURE_RESOURCE_MANAGER_ENDPOINT', 'https://management.azure.com/').replace(/\/+$/, '');

  let identity, keyVault;
  try {
    [identity, keyVault] = await Promise.all([import('@azure/identity'), import('@azure/keyvault-secrets')]);
  } catch {
    throw new Error('the hook needs this repository\'s dependencies: run `npm ci` once, then `azd provision`');
  }
  const credential = new identity.AzureDeveloperCliCredential({ tenantId });
  const client = new keyVault.SecretClient(vaultUrl, credential);
  const log = (line) => console.log(`Key Vault ${new URL(vaultUrl).hostname}: ${line}`);
  await ensureSecrets(client, { log });

  const arm = async (method, resourcePath) => {
    const token = await credential.getToken(`${armEndpoint}/.default`);
    const response = await fetch(`${armEndpoint}${resourcePath}`, { method, headers: { authorization: `Bearer ${token.token}` } });
    const text = await response.text();
    let body;
    try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
    return { status: response.status, body };
  };
  const siteId = `/subscriptions/${encodeURIComponent(subscriptionId)}/resourceGroups/${encodeURIComponent(resourceGroup)}`
    + `/providers/Microsoft.Web/sites/${encodeURIComponent(siteName)}`;
  await refreshReferences(arm, siteId, { log: (line) => console.log(`${siteName}: ${line}`) });
}

// Always runs: this file is only ever the hook's entry (the rules the tests import live in keyvault.mjs).
runHook('postprovision', main);
