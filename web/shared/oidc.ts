// Sign-in for both pages: the OpenID Connect authorization-code flow with PKCE, the flow any OIDC provider offers a
// browser app (Entra ID, Auth0, Okta, Keycloak, the repo's dev issuer). The page redirects to the provider, comes
// back with a one-time code, and redeems it with the PKCE verifier for an access token kept in sessionStorage (per
// tab, gone when the tab closes). There is no refresh: when the token expires, the person signs in again.
import type { OidcConfig } from './config.js';

interface Discovery { authorization_endpoint: string; token_endpoint: string }

export interface SignedIn {
  accessToken: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** Who signed in, for display only (the API trusts the token, not this). */
  name: string;
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function randomString(length = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(length)));
}

/** The claims of a JWT, unverified: only for showing a name (the API verifies the token itself). */
function claimsOf(jwt: string | undefined): Record<string, unknown> {
  try {
    const payload = jwt?.split('.')[1];
    if (!payload) return {};
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export class OidcSignIn {
  private readonly key: string;

  /** @param name a per-page name, so the device page and the console keep separate sign-ins */
  constructor(private readonly config: OidcConfig, name: string) {
    this.key = `oidc:${name}`;
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
    const discovery = await this.discovery();
    const verifier = randomString(48);
    const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
    const state = randomString();
    const nonce = randomString();
    sessionStorage.setItem(`${this.key}:pending`, JSON.stringify({ verifier, state, nonce }));
    const url = new URL(discovery.authorization_endpoint);
    const params: Record<string, string> = {
      response_type: 'code', client_id: this.config.clientId, redirect_uri: this.redirectUri(), scope: this.config.scope,
      state, nonce, code_challenge: challenge, code_challenge_method: 'S256', ...this.config.extraParams,
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
    const query = new URLSearchParams(location.search);
    const code = query.get('code');
    const error = query.get('error');
    if (!code && !error) return undefined;
    history.replaceState(null, '', this.redirectUri() + location.hash);
    const pending = JSON.parse(sessionStorage.getItem(`${this.key}:pending`) ?? 'null') as { verifier: string; state: string; nonce: string } | null;
    sessionStorage.removeItem(`${this.key}:pending`);
    if (error) throw new Error(`Sign-in was refused: ${query.get('error_description') ?? error}`);
    if (!pending || query.get('state') !== pending.state) throw new Error('Sign-in could not be completed (its state does not match). Please sign in again.');
    const discovery = await this.discovery();
    const response = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: code!, redirect_uri: this.redirectUri(), client_id: this.config.clientId,
        code_verifier: pending.verifier,
      }),
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; id_token?: string; expires_in?: number; error_description?: string };
    if (!response.ok || !body.access_token) throw new Error(`Sign-in failed: ${body.error_description ?? response.status}`);
    const idClaims = claimsOf(body.id_token);
    if (body.id_token && idClaims.nonce !== pending.nonce) throw new Error('Sign-in could not be completed (its nonce does not match).');
    const accessClaims = claimsOf(body.access_token);
    const name = String(idClaims.name ?? idClaims.preferred_username ?? idClaims.sub ?? accessClaims.sub ?? 'signed in');
    const expiresAt = typeof accessClaims.exp === 'number' ? accessClaims.exp : Math.floor(Date.now() / 1000) + (body.expires_in ?? 300);
    const signedIn: SignedIn = { accessToken: body.access_token, expiresAt, name };
    sessionStorage.setItem(this.key, JSON.stringify(signedIn));
    return signedIn;
  }

  private redirectUri(): string {
    return location.origin + location.pathname;
  }

  private async discovery(): Promise<Discovery> {
    const response = await fetch(`${this.config.authority.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    if (!response.ok) throw new Error(`The sign-in provider could not be reached (${response.status}).`);
    return (await response.json()) as Discovery;
  }
}
