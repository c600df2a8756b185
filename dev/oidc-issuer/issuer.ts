// A local OpenID Connect issuer for development and tests: discovery document, JWKS and a token endpoint that
// signs RS256 JWTs for any subject. It stands in for the app's real identity provider (device tokens) and for
// Entra ID (back-office tokens with app roles), so the whole flow runs offline. Never deploy it.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export const DEVICE_AUDIENCE = 'api://face-liveness-device';
export const BACKOFFICE_AUDIENCE = 'api://face-liveness-backoffice';
export const BACKOFFICE_ROLE = 'LivenessSessions.Manage';

export interface DevIssuerOptions { port: number; host?: string }

export interface TokenRequest {
  sub: string;
  aud?: string;
  roles?: string[];
  /** Lifetime in seconds (negative gives an already-expired token, for tests). Default 3600. */
  expiresIn?: number;
  /** Override the issuer claim (to make wrong-issuer tokens in tests). */
  iss?: string;
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
    return new SignJWT({ ...(request.roles ? { roles: request.roles } : {}) })
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

  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
        return send(200, {
          issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token`,
          id_token_signing_alg_values_supported: ['RS256'], subject_types_supported: ['public'], response_types_supported: ['token'],
        });
      }
      if (req.method === 'GET' && url.pathname === '/jwks') return send(200, { keys: [jwk] });
      if (req.method === 'POST' && url.pathname === '/token') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString('utf8');
        const fields = (req.headers['content-type'] ?? '').includes('json')
          ? (JSON.parse(text || '{}') as Record<string, unknown>)
          : Object.fromEntries(new URLSearchParams(text));
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
