// Sign-in for both pages: the OpenID Connect authorization-code flow with PKCE, state and nonce, the flow any OIDC
// provider offers a browser app (Entra ID, Auth0, Okta, Keycloak, the repo's dev issuer), through oauth4webapi (by
// the author of jose): discovery, the authorization request's parameters, the callback's checks (state, issuer, error
// answers), the code redemption and the ID token's checks (issuer, audience, expiry, nonce) are the library's, not
// ours. The page redirects to the provider, comes back with a one-time code, and redeems it with the PKCE verifier for
// an access token kept in sessionStorage (per tab, gone when the tab closes). There is no refresh: when the token
// expires, the person signs in again.
//
// The pages are plain ES modules without a bundler: the library's own ESM build is copied next to them
// (dist/web/vendor/oauth4webapi.js, by scripts/build-pages.ts), and ../vendor/oauth4webapi.d.ts gives tsc its types.
import * as oauth from '../vendor/oauth4webapi.js';
import type { OidcConfig } from './config.js';

export interface SignedIn {
  accessToken: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** Who signed in, for display only (the API trusts the token, not this). */
  name: string;
}

interface Pending { verifier: string; state: string; nonce: string }

/** The claims of the access token, unverified: only for its expiry and a fallback name (the API verifies the token). */
function claimsOf(jwt: string): Record<string, unknown> {
  try {
    const payload = jwt.split('.')[1];
    if (!payload) return {};
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Plain http only for a provider on this machine (the dev issuer); anywhere else the library insists on https. */
function isLoopback(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

export class OidcSignIn {
  private readonly key: string;
  private readonly issuer: URL;
  private readonly client: oauth.Client;
  private readonly options: { [oauth.allowInsecureRequests]?: boolean };
  private server: Promise<oauth.AuthorizationServer> | undefined;

  /** @param name a per-page name, so the device page and the console keep separate sign-ins */
  constructor(private readonly config: OidcConfig, name: string) {
    this.key = `oidc:${name}`;
    this.issuer = new URL(config.authority);
    this.client = { client_id: config.clientId };
    this.options = isLoopback(this.issuer) ? { [oauth.allowInsecureRequests]: true } : {};
  }

  /** The current sign-in, if any and not expired. */
  current(): SignedIn | undefined {
    const raw = sessionStorage.getItem(this.key);
    if (!raw) return undefined;
    const signedIn = JSON.parse(raw) as SignedIn;
    if (signedIn.expiresAt - 30 < Date.now() / 1000) {
      sessionStorage.removeItem(this.key);
      return undefined;
    }
    return signedIn;
  }

  signOut(): void {
    sessionStorage.removeItem(this.key);
  }

  /** Goes to the provider's sign-in page; the browser comes back to this page with a code. */
  async signIn(): Promise<void> {
    const server = await this.authorizationServer();
    if (!server.authorization_endpoint) throw new Error('The sign-in provider has no authorization endpoint.');
    const pending: Pending = { verifier: oauth.generateRandomCodeVerifier(), state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce() };
    sessionStorage.setItem(`${this.key}:pending`, JSON.stringify(pending));
    const url = new URL(server.authorization_endpoint);
    const params: Record<string, string> = {
      response_type: 'code', client_id: this.config.clientId, redirect_uri: this.redirectUri(), scope: this.config.scope,
      state: pending.state, nonce: pending.nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier), code_challenge_method: 'S256',
      ...this.config.extraParams,
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    location.assign(url.href);
  }

  /**
   * Finishes a sign-in when the page was opened by the provider's redirect (?code=…&state=…), and removes the code
   * from the address bar. @returns the sign-in, or undefined when this was not a redirect
   * @throws Error with a message for the person when the provider refused or the exchange failed
   */
  async completeRedirect(): Promise<SignedIn | undefined> {
    const current = new URL(location.href);
    if (!current.searchParams.has('code') && !current.searchParams.has('error')) return undefined;
    history.replaceState(null, '', this.redirectUri() + location.hash);
    const pending = JSON.parse(sessionStorage.getItem(`${this.key}:pending`) ?? 'null') as Pending | null;
    sessionStorage.removeItem(`${this.key}:pending`);
    const refused = current.searchParams.get('error');
    if (refused) throw new Error(`Sign-in was refused: ${current.searchParams.get('error_description') ?? refused}`);
    if (!pending) throw new Error('Sign-in could not be completed (it was not started here). Please sign in again.');
    const server = await this.authorizationServer();
    const clientAuth = oauth.None();
    let result: oauth.TokenEndpointResponse;
    try {
      const params = oauth.validateAuthResponse(server, this.client, current, pending.state);
      const response = await oauth.authorizationCodeGrantRequest(server, this.client, clientAuth, params, this.redirectUri(), pending.verifier, this.options);
      result = await oauth.processAuthorizationCodeResponse(server, this.client, response, { expectedNonce: pending.nonce, requireIdToken: true });
    } catch (error) {
      throw new Error(`Sign-in could not be completed (${signInProblem(error)}). Please sign in again.`);
    }
    const idClaims = oauth.getValidatedIdTokenClaims(result)!; // requireIdToken: there is one, and it passed the checks
    const accessClaims = claimsOf(result.access_token);
    const name = String(idClaims.name ?? idClaims.preferred_username ?? idClaims.sub);
    const expiresAt = typeof accessClaims.exp === 'number' ? accessClaims.exp : Math.floor(Date.now() / 1000) + (result.expires_in ?? 300);
    const signedIn: SignedIn = { accessToken: result.access_token, expiresAt, name };
    sessionStorage.setItem(this.key, JSON.stringify(signedIn));
    return signedIn;
  }

  private redirectUri(): string {
    return location.origin + location.pathname;
  }

  private authorizationServer(): Promise<oauth.AuthorizationServer> {
    this.server ??= (async () => {
      let response: Response;
      try {
        response = await oauth.discoveryRequest(this.issuer, { algorithm: 'oidc', ...this.options });
      } catch {
        throw new Error('The sign-in provider could not be reached.');
      }
      return oauth.processDiscoveryResponse(this.issuer, response);
    })();
    this.server.catch(() => { this.server = undefined; }); // a failed discovery is tried again on the next sign-in
    return this.server;
  }
}

/** A short reason for the person: what the provider said, or which check failed. */
function signInProblem(error: unknown): string {
  if (error instanceof oauth.AuthorizationResponseError) return error.error_description ?? error.error;
  if (error instanceof oauth.ResponseBodyError) return error.error_description ?? error.error;
  return error instanceof Error ? error.message : String(error);
}
