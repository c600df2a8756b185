// A local OpenID Connect issuer for development and tests: discovery document, JWKS and a token endpoint that
// signs RS256 JWTs for any subject. It stands in for the app's real identity provider (device tokens) and for
// Entra ID (back-office tokens with app roles), so the whole flow runs offline. Never deploy it.
//
// Two ways to get a token:
//  - POST /token {sub, aud?, roles?} (JSON or form): scripts, curl and tests;
//  - the authorization-code flow with PKCE (S256) that browser pages use with any OIDC provider: GET /authorize shows
//    a sign-in form where you pick a subject name (and roles), POST /authorize redirects back with a one-time code,
//    POST /token grant_type=authorization_code redeems it with the code_verifier. The token's audience comes from
//    the first resource scope, Entra style (`api://face-liveness-backoffice/LivenessSessions.Manage` gives
//    aud `api://face-liveness-backoffice`); without one it is the device audience.
// A third way stands in for Azure's managed identity (App Service / Functions): GET /msi/token?resource=…&api-version=
// 2019-08-01 with the X-IDENTITY-HEADER secret, the endpoint that @azure/identity's DefaultAzureCredential calls when
// IDENTITY_ENDPOINT and IDENTITY_HEADER are set, so the app's keyless path (an Entra token for the Face resource,
// audience https://cognitiveservices.azure.com) runs locally against the Face emulator.
// Every answer allows any origin (CORS), as a public OIDC provider's token, discovery and JWKS endpoints do.
import http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export const DEVICE_AUDIENCE = 'api://face-liveness-device';
export const BACKOFFICE_AUDIENCE = 'api://face-liveness-backoffice';
export const BACKOFFICE_ROLE = 'LivenessSessions.Manage';

export interface DevIssuerOptions { port: number; host?: string }

/** The X-IDENTITY-HEADER value the managed-identity stand-in expects (IDENTITY_HEADER of the app under test). */
export const DEV_IDENTITY_HEADER = 'dev-identity-header';
/** The subject of managed-identity tokens when the caller names no client id. */
export const DEV_MANAGED_IDENTITY = 'dev-managed-identity';

export interface TokenRequest {
  sub: string;
  aud?: string;
  roles?: string[];
  /** Lifetime in seconds (negative gives an already-expired token, for tests). Default 3600. */
  expiresIn?: number;
  /** Override the issuer claim (to make wrong-issuer tokens in tests). */
  iss?: string;
  /** Echoed into an id token (authorization-code flow). */
  nonce?: string;
}

interface PendingCode {
  sub: string; roles: string[]; aud: string; clientId: string; redirectUri: string; codeChallenge: string; nonce?: string;
  expiresAt: number;
}

const stringFields = (fields: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => typeof e[1] === 'string'));

/** Entra style: the first scope that names a resource (`<resource URI>/<scope>`) gives the audience. */
export function audienceOf(scope: string): string {
  for (const item of scope.split(/\s+/)) {
    const match = /^((?:api|https?):\/\/[^/]+)\/[^/]+$/.exec(item);
    if (match) return match[1]!;
  }
  return DEVICE_AUDIENCE;
}

/** Redirects go only to loopback http pages or https pages: this issuer signs anything for anyone, locally. */
function authorizeProblem(params: Record<string, string>): string | undefined {
  if (params.response_type !== 'code') return "response_type must be 'code'.";
  if (!params.client_id) return 'client_id is required.';
  if (params.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge ?? '')) {
    return 'PKCE is required: code_challenge (S256, base64url) and code_challenge_method=S256.';
  }
  let redirect: URL;
  try { redirect = new URL(params.redirect_uri ?? ''); } catch { return 'redirect_uri must be an absolute URL.'; }
  const loopback = redirect.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(redirect.hostname);
  if (!loopback && redirect.protocol !== 'https:') return 'redirect_uri must be https, or http on a loopback address.';
  return undefined;
}

function redeem(codes: Map<string, PendingCode>, fields: Record<string, string>): PendingCode | { error: string; error_description: string } {
  const invalid = (why: string) => ({ error: 'invalid_grant', error_description: why });
  const pending = fields.code ? codes.get(fields.code) : undefined;
  if (fields.code) codes.delete(fields.code); // one use, whatever happens next
  if (!pending || pending.expiresAt < Date.now()) return invalid('The code is unknown, used or expired.');
  if (fields.redirect_uri !== pending.redirectUri || fields.client_id !== pending.clientId) return invalid('redirect_uri or client_id does not match.');
  const challenge = createHash('sha256').update(fields.code_verifier ?? '').digest('base64url');
  if (challenge !== pending.codeChallenge) return invalid('code_verifier does not match the code_challenge.');
  return pending;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The sign-in page: pick a subject name (and, for the back office, roles). No password: it is a local stand-in. */
function signInPage(params: Record<string, string>, audience: string): string {
  const hidden = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method']
    .filter((name) => params[name] !== undefined)
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params[name]!)}">`).join('');
  const roles = audience === BACKOFFICE_AUDIENCE ? BACKOFFICE_ROLE : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in: dev OIDC issuer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:1rem 0 .25rem}
input[type=text]{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit}
small{color:#555}</style></head><body>
<h1>Sign in</h1><p><small>Local dev OIDC issuer: no password, any name. Token audience: <code>${escapeHtml(audience)}</code>.</small></p>
<form method="post" action="/authorize">${hidden}
<label for="sub">Subject name</label><input type="text" id="sub" name="sub" required autofocus value="${escapeHtml(params.login_hint ?? '')}">
<label for="roles">Roles (comma-separated)</label><input type="text" id="roles" name="roles" value="${roles}">
<button type="submit">Sign in</button></form></body></html>`;
}

export interface RunningDevIssuer {
  url: string;
  issuer: string;
  jwksUri: string;
  issueToken(request: TokenRequest): Promise<string>;
  close(): Promise<void>;
}

export async function startDevIssuer(options: DevIssuerOptions): Promise<RunningDevIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  let issuer = '';

  const issueToken = async (request: TokenRequest): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = request.expiresIn ?? 3600;
    return new SignJWT({ ...(request.roles ? { roles: request.roles } : {}), ...(request.nonce ? { nonce: request.nonce } : {}) })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(request.iss ?? issuer)
      .setAudience(request.aud ?? DEVICE_AUDIENCE)
      .setSubject(request.sub)
      .setIssuedAt(lifetime < 0 ? now + lifetime - 60 : now)
      .setNotBefore(lifetime < 0 ? now + lifetime - 60 : now)
      .setExpirationTime(now + lifetime)
      .setJti(randomUUID())
      .sign(privateKey);
  };

  /** One-time codes of the authorization-code flow, redeemed within a minute. */
  const codes = new Map<string, PendingCode>();

  const server = http.createServer(async (req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    };
    const readFields = async (): Promise<Record<string, unknown>> => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > 64 * 1024) throw new Error('body too large');
        chunks.push(c as Buffer);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      return (req.headers['content-type'] ?? '').includes('json')
        ? (JSON.parse(text || '{}') as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(text));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? 'content-type'),
          'access-control-max-age': '600',
        }).end();
        return;
      }
      if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
        return send(200, {
          issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token`, authorization_endpoint: `${issuer}/authorize`,
          id_token_signing_alg_values_supported: ['RS256'], subject_types_supported: ['public'],
          response_types_supported: ['code'], grant_types_supported: ['authorization_code'],
          code_challenge_methods_supported: ['S256'], token_endpoint_auth_methods_supported: ['none'],
        });
      }
      if (req.method === 'GET' && url.pathname === '/jwks') return send(200, { keys: [jwk] });
      if (req.method === 'GET' && url.pathname === '/msi/token') {
        // App Service managed identity, API version 2019-08-01: the secret header, a resource, a token for it.
        if (req.headers['x-identity-header'] !== DEV_IDENTITY_HEADER) return send(401, { error: 'unauthorized', error_description: 'X-IDENTITY-HEADER is missing or wrong.' });
        const resource = url.searchParams.get('resource');
        if (url.searchParams.get('api-version') !== '2019-08-01' || !resource) return send(400, { error: 'invalid_request', error_description: 'api-version=2019-08-01 and resource are required.' });
        const audience = resource.replace(/\/\.default$/, '').replace(/\/+$/, '');
        const token = await issueToken({ sub: url.searchParams.get('client_id') || DEV_MANAGED_IDENTITY, aud: audience });
        return send(200, {
          access_token: token, expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource: audience, token_type: 'Bearer',
          ...(url.searchParams.get('client_id') ? { client_id: url.searchParams.get('client_id') } : {}),
        });
      }
      if (url.pathname === '/authorize' && (req.method === 'GET' || req.method === 'POST')) {
        const params = req.method === 'GET' ? Object.fromEntries(url.searchParams) : stringFields(await readFields());
        const problem = authorizeProblem(params);
        if (problem) {
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(problem);
          return;
        }
        const audience = audienceOf(params.scope ?? '');
        if (req.method === 'GET') {
          // form-action covers the redirect the form's POST answers with, so the page it returns to is listed too.
          const csp = `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${new URL(params.redirect_uri!).origin}`;
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': csp })
            .end(signInPage(params, audience));
          return;
        }
        const sub = (params.sub ?? '').trim();
        if (!sub) {
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('A subject name is required.');
          return;
        }
        const roles = (params.roles ?? '').split(',').map((r) => r.trim()).filter(Boolean);
        const code = randomBytes(24).toString('base64url');
        codes.set(code, {
          sub, roles, aud: audience, clientId: params.client_id!, redirectUri: params.redirect_uri!,
          codeChallenge: params.code_challenge!, nonce: params.nonce, expiresAt: Date.now() + 60_000,
        });
        const back = new URL(params.redirect_uri!);
        back.searchParams.set('code', code);
        if (params.state) back.searchParams.set('state', params.state);
        back.searchParams.set('iss', issuer);
        res.writeHead(302, { location: back.href, 'cache-control': 'no-store' }).end();
        return;
      }
      if (req.method === 'POST' && url.pathname === '/token') {
        const fields = await readFields();
        if (fields.grant_type === 'authorization_code') {
          const redeemed = redeem(codes, stringFields(fields));
          if ('error' in redeemed) return send(400, redeemed);
          const accessToken = await issueToken({ sub: redeemed.sub, aud: redeemed.aud, roles: redeemed.roles.length ? redeemed.roles : undefined });
          const idToken = await issueToken({ sub: redeemed.sub, aud: redeemed.clientId, nonce: redeemed.nonce });
          return send(200, { access_token: accessToken, id_token: idToken, token_type: 'Bearer', expires_in: 3600 });
        }
        const sub = typeof fields.sub === 'string' && fields.sub ? fields.sub : undefined;
        if (!sub) return send(400, { error: 'invalid_request', error_description: "'sub' is required" });
        const roles = Array.isArray(fields.roles) ? fields.roles.map(String)
          : typeof fields.roles === 'string' && fields.roles ? fields.roles.split(',') : undefined;
        const aud = typeof fields.aud === 'string' && fields.aud ? fields.aud : undefined;
        const expiresIn = fields.expires_in !== undefined ? Number(fields.expires_in) : undefined;
        const token = await issueToken({ sub, aud, roles, expiresIn: Number.isFinite(expiresIn) ? expiresIn : undefined });
        return send(200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn ?? 3600 });
      }
      send(404, { error: 'not_found' });
    } catch {
      send(400, { error: 'invalid_request' });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  issuer = `http://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    url: issuer,
    issuer,
    jwksUri: `${issuer}/jwks`,
    issueToken,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
