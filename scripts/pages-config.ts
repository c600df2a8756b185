// Writes dist/web/config.json for the pages in Azure: where the API is and how each page signs in. `azd deploy` runs
// it as the web service's prepackage hook (azure.yaml), with the azd environment (Bicep outputs and `azd env set`
// values) as environment variables. Nothing secret goes in: the pages are public files.
//
//   API base         SERVICE_API_URI (Bicep output) + /api
//   device page      DEVICE_AUTH_ISSUER (authority), DEVICE_PAGE_CLIENT_ID, DEVICE_PAGE_SCOPE
//   console          BACKOFFICE_AUTH_ISSUER (Bicep output; Entra v2.0 of the tenant), BACKOFFICE_PAGE_CLIENT_ID,
//                    BACKOFFICE_PAGE_SCOPE (e.g. api://<back-office app>/LivenessSessions.Manage or .default)
//   capture          FACE_UI_MODULE_URL: where the Azure AI Vision Face UI web component's module is served
//                    (default /azure-ai-vision-face-ui/main.js; see README "Device page against real Face")
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PagesConfigFile {
  apiBase: string;
  device: { oidc: { authority: string; clientId: string; scope: string }; capture: { kind: 'emulator'; endpoint: string; apiVersion?: string } | { kind: 'vision-face-ui'; moduleUrl: string } };
  console: { oidc: { authority: string; clientId: string; scope: string } };
}

export function pagesConfigFromEnv(env: NodeJS.ProcessEnv): PagesConfigFile {
  const need = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} is not set (azd env set ${name} <value>)`);
    return value;
  };
  return {
    apiBase: `${need('SERVICE_API_URI').replace(/\/+$/, '')}/api`,
    device: {
      oidc: { authority: need('DEVICE_AUTH_ISSUER'), clientId: need('DEVICE_PAGE_CLIENT_ID'), scope: need('DEVICE_PAGE_SCOPE') },
      capture: { kind: 'vision-face-ui', moduleUrl: env.FACE_UI_MODULE_URL?.trim() || '/azure-ai-vision-face-ui/main.js' },
    },
    console: {
      oidc: { authority: need('BACKOFFICE_AUTH_ISSUER'), clientId: need('BACKOFFICE_PAGE_CLIENT_ID'), scope: need('BACKOFFICE_PAGE_SCOPE') },
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/config.json');
  try {
    const config = pagesConfigFromEnv(process.env);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, `${JSON.stringify(config, null, 2)}\n`);
    console.log(`Pages config written to ${target} (API ${config.apiBase})`);
  } catch (error) {
    console.error(`Pages config: ${(error as Error).message}`);
    process.exit(1);
  }
}
