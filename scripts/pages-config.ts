// Writes dist/web/config.json for the pages in Azure: where the API is and how each page signs in. The web service's
// prepackage hook (scripts/hooks/web-prepackage.mjs, azure.yaml) calls writePagesSite() with the azd environment
// (Bicep outputs and `azd env set` values); `node dist/scripts/pages-config.js` does the same by hand. Nothing secret goes in: the pages are public files.
//
//   API base         SERVICE_API_URI (Bicep output) + /api
//   device page      DEVICE_AUTH_ISSUER (authority), DEVICE_PAGE_CLIENT_ID, DEVICE_PAGE_SCOPE
//   console          BACKOFFICE_AUTH_ISSUER (Bicep output; Entra v2.0 of the tenant), BACKOFFICE_PAGE_CLIENT_ID,
//                    BACKOFFICE_PAGE_SCOPE (e.g. api://<back-office app>/LivenessSessions.Manage or .default)
//   capture          FACE_UI_MODULE_URL: where the Azure AI Vision Face UI web component's module is served on the site
//                    (a path; default /azure-ai-vision-face-ui/main.js; see README "Device page against real Face")
//
// It also writes dist/web/staticwebapp.config.json: the pages' security headers (scripts/pages-security.ts, the same
// values the local pages server sends), with connect-src naming the API, both identity providers (their issuer's host,
// and the token endpoint's host when their discovery document puts it elsewhere) and Face (FACE_ENDPOINT, Bicep
// output), and the hashes of the built pages' import maps. PAGES_CSP_ALLOW_EVAL=true adds
// 'unsafe-eval' for the Face UI component if it needs it (docs/deploy.md).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { siteInlineScriptHashes, staticWebAppConfig, type PagesPolicyInput } from './pages-security.js';

export interface PagesConfigFile {
  apiBase: string;
  device: { oidc: { authority: string; clientId: string; scope: string }; capture: { kind: 'emulator'; endpoint: string } | { kind: 'vision-face-ui'; moduleUrl: string } };
  console: { oidc: { authority: string; clientId: string; scope: string } };
}

const needFrom = (env: NodeJS.ProcessEnv) => (name: string): string => {
  const value = env[name]?.trim();
  if (!value) throw new Error(`${name} is not set (azd env set ${name} <value>)`);
  return value;
};

export function pagesConfigFromEnv(env: NodeJS.ProcessEnv): PagesConfigFile {
  const need = needFrom(env);
  const moduleUrl = env.FACE_UI_MODULE_URL?.trim() || '/azure-ai-vision-face-ui/main.js';
  // On the site itself: the CSP loads scripts only from the site, and the build gives its files integrity.
  if (!moduleUrl.startsWith('/') || moduleUrl.startsWith('//')) throw new Error(`FACE_UI_MODULE_URL must be a path on the pages' site (e.g. /azure-ai-vision-face-ui/main.js), not ${moduleUrl}`);
  return {
    apiBase: `${need('SERVICE_API_URI').replace(/\/+$/, '')}/api`,
    device: {
      oidc: { authority: need('DEVICE_AUTH_ISSUER'), clientId: need('DEVICE_PAGE_CLIENT_ID'), scope: need('DEVICE_PAGE_SCOPE') },
      capture: { kind: 'vision-face-ui', moduleUrl },
    },
    console: {
      oidc: { authority: need('BACKOFFICE_AUTH_ISSUER'), clientId: need('BACKOFFICE_PAGE_CLIENT_ID'), scope: need('BACKOFFICE_PAGE_SCOPE') },
    },
  };
}

/**
 * The endpoints the pages call at each identity provider besides its issuer's host: the token endpoint its discovery
 * document names (Entra External ID, for one, may serve it from the tenant's name while the issuer uses its id). A
 * provider that cannot be read now is left at its issuer's host, with a warning.
 */
export async function identityProviderEndpoints(config: PagesConfigFile, fetcher: typeof fetch = fetch): Promise<string[]> {
  const found = new Set<string>();
  for (const authority of new Set([config.device.oidc.authority, config.console.oidc.authority])) {
    const url = `${authority.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    try {
      const response = await fetcher(url, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const { token_endpoint: token } = (await response.json()) as { token_endpoint?: unknown };
      if (typeof token !== 'string') throw new Error('no token_endpoint');
      const origin = new URL(token).origin;
      if (new URL(token).protocol !== 'https:' && !/^http:\/\/(localhost|127\.0\.0\.1)(:|$)/.test(origin)) throw new Error(`token_endpoint ${token} is not https`);
      if (origin !== new URL(authority).origin) found.add(origin);
    } catch (error) {
      console.warn(`Pages: ${url} could not be read (${(error as Error).message}); connect-src allows only the issuer's host for it.`);
    }
  }
  return [...found];
}

/** The security headers' inputs in Azure: config.json, Face's endpoint and the built pages in `root` (dist/web). */
export async function pagesPolicyFromEnv(env: NodeJS.ProcessEnv, config: PagesConfigFile, root: string, fetcher: typeof fetch = fetch): Promise<PagesPolicyInput> {
  const allowEval = env.PAGES_CSP_ALLOW_EVAL?.trim().toLowerCase() ?? 'false';
  if (allowEval !== 'true' && allowEval !== 'false' && allowEval !== '') throw new Error(`PAGES_CSP_ALLOW_EVAL must be true or false, not ${env.PAGES_CSP_ALLOW_EVAL}`);
  const need = needFrom(env);
  const faceEndpoint = need('FACE_ENDPOINT');
  return {
    config, faceEndpoint, inlineScriptHashes: siteInlineScriptHashes(root), allowEval: allowEval === 'true',
    identityProviderEndpoints: await identityProviderEndpoints(config, fetcher),
  };
}

/** Writes config.json and staticwebapp.config.json into the built site `site` (dist/web). @returns config.json */
export async function writePagesSite(env: NodeJS.ProcessEnv, site: string, fetcher: typeof fetch = fetch): Promise<PagesConfigFile> {
  const config = pagesConfigFromEnv(env);
  const policy = await pagesPolicyFromEnv(env, config, site, fetcher);
  const capture = config.device.capture;
  if (capture.kind === 'vision-face-ui' && !fs.existsSync(path.join(site, capture.moduleUrl))) {
    console.warn(`Pages: ${capture.moduleUrl} is not in dist/web, so the device page cannot run the capture (README, "Device page against real Face").`);
  }
  fs.writeFileSync(path.join(site, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  fs.writeFileSync(path.join(site, 'staticwebapp.config.json'), `${JSON.stringify(staticWebAppConfig(policy), null, 2)}\n`);
  return config;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const site = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web');
  try {
    const config = await writePagesSite(process.env, site);
    console.log(`Pages config and security headers written to ${site} (API ${config.apiBase})`);
  } catch (error) {
    console.error(`Pages config: ${(error as Error).message}`);
    process.exit(1);
  }
}
