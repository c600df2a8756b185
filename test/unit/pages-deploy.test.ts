// How the pages reach Azure: the Bicep gives the function app exactly one allowed origin, the Static Web App's, and
// the web service's config.json is written from the azd environment (nothing invented when a setting is missing).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pagesConfigFromEnv } from '../../scripts/pages-config.js';
import { parseCors } from '../../dev/host/cors.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const read = (...parts: string[]) => readFileSync(join(root, ...parts), 'utf8');

describe('pages in Azure', () => {
  it("the function app's CORS allows exactly the Static Web App's origin, without credentials", () => {
    const main = read('infra', 'main.bicep');
    expect(main).toMatch(/allowedOrigins: \[web\.outputs\.SERVICE_WEB_URI\]/);
    // The app answers preflights for the same origin itself (src/functions/cors-preflight.ts).
    expect(main).toMatch(/PAGES_ORIGIN: web\.outputs\.SERVICE_WEB_URI/);
    expect(read('infra', 'app', 'web.bicep')).toMatch(/output SERVICE_WEB_URI string = 'https:\/\/\$\{web\.properties\.defaultHostname\}'/);
    const api = read('infra', 'app', 'api.bicep');
    expect(api).toMatch(/cors: \{\s*allowedOrigins: allowedOrigins\s*supportCredentials: false\s*\}/);
    expect(api).not.toMatch(/'\*'/);
  });

  it('azure.yaml deploys dist/web as the web service and writes its config first', () => {
    const yaml = read('azure.yaml');
    expect(yaml).toMatch(/web:\n\s+project: \.\n\s+language: js\n\s+host: staticwebapp\n\s+dist: dist\/web/);
    expect(yaml).toContain('run: node scripts/hooks/web-prepackage.mjs');
    const hook = read('scripts', 'hooks', 'web-prepackage.mjs');
    expect(hook.indexOf("run('npm', ['run', 'build'])")).toBeGreaterThan(0);
    expect(hook.indexOf("path.join(root, 'dist', 'scripts', 'pages-config.js')")).toBeGreaterThan(hook.indexOf("run('npm', ['run', 'build'])"));
    expect(hook).toContain("path.join(root, 'dist', 'web', 'config.json')");
  });

  it('config.json comes from the azd environment: the API URL, both sign-ins, the Face UI component', () => {
    const env = {
      SERVICE_API_URI: 'https://func-api-x.azurewebsites.net/', DEVICE_AUTH_ISSUER: 'https://login.example.com/',
      DEVICE_PAGE_CLIENT_ID: 'device-client', DEVICE_PAGE_SCOPE: 'openid api://device/Liveness.Check',
      BACKOFFICE_AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0', BACKOFFICE_PAGE_CLIENT_ID: 'console-client',
      BACKOFFICE_PAGE_SCOPE: 'api://backoffice/LivenessSessions.Manage',
    };
    expect(pagesConfigFromEnv(env)).toEqual({
      apiBase: 'https://func-api-x.azurewebsites.net/api',
      device: {
        oidc: { authority: 'https://login.example.com/', clientId: 'device-client', scope: 'openid api://device/Liveness.Check' },
        capture: { kind: 'vision-face-ui', moduleUrl: '/azure-ai-vision-face-ui/main.js' },
      },
      console: { oidc: { authority: 'https://login.microsoftonline.com/t/v2.0', clientId: 'console-client', scope: 'api://backoffice/LivenessSessions.Manage' } },
    });
    expect(pagesConfigFromEnv({ ...env, FACE_UI_MODULE_URL: '/face-ui/index.js' }).device.capture).toEqual({ kind: 'vision-face-ui', moduleUrl: '/face-ui/index.js' });
    expect(() => pagesConfigFromEnv({ ...env, DEVICE_PAGE_CLIENT_ID: ' ' })).toThrow(/DEVICE_PAGE_CLIENT_ID is not set/);
  });
});

describe('dev host CORS settings (Host.CORS)', () => {
  it('reads a list of origins, refuses paths and a wildcard with credentials', () => {
    expect(parseCors('http://localhost:7083, https://a.example/')).toEqual({ allowedOrigins: ['http://localhost:7083', 'https://a.example'], credentials: false });
    expect(parseCors('')).toBeUndefined();
    expect(() => parseCors('http://localhost:7083/device/')).toThrow(/not scheme/);
    expect(() => parseCors('*', true)).toThrow(/credentials/i);
  });
});
