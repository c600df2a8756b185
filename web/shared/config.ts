// What a page needs to know about where it runs, read once from config.json next to the pages: written by
// `npm start` for the local stack (dev/pages/server.ts serves it) and by `azd deploy` for Azure
// (scripts/pages-config.ts). Nothing secret lives here: a browser page can keep no secret.

/** An OpenID Connect provider and this page's registration with it (a public client: PKCE, no secret). */
export interface OidcConfig {
  /** The issuer URL; `<authority>/.well-known/openid-configuration` is read for the endpoints. */
  authority: string;
  clientId: string;
  /** Space-separated. Include the API's scope, e.g. `openid api://face-liveness-device/Liveness.Check`. */
  scope: string;
  /** Extra authorization request parameters some providers need (e.g. `audience` for Auth0). */
  extraParams?: Record<string, string>;
}

/** How the device page runs the capture: against the Face emulator itself, or with Microsoft's web component. */
export type CaptureConfig =
  | { kind: 'emulator'; endpoint: string; /** The Face API version the app speaks (default v1.2). */ apiVersion?: string }
  | { kind: 'vision-face-ui'; moduleUrl: string };

export interface PagesConfig {
  /** The function app's API base, e.g. http://localhost:7071/api. */
  apiBase: string;
  device: { oidc: OidcConfig; capture: CaptureConfig };
  console: { oidc: OidcConfig };
}

let loaded: Promise<PagesConfig> | undefined;

export function pagesConfig(): Promise<PagesConfig> {
  loaded ??= (async () => {
    const response = await fetch(new URL('../config.json', import.meta.url), { cache: 'no-store' });
    if (!response.ok) throw new Error(`config.json could not be read (${response.status}).`);
    return (await response.json()) as PagesConfig;
  })();
  return loaded;
}
