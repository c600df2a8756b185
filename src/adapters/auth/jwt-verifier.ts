// Bearer JWT validation with `jose` against an OIDC issuer: signature (keys from the issuer's JWKS, found through
// its discovery document unless configured), issuer, audience, expiry and not-before, with a small clock skew.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { ForbiddenError, UnauthorizedError } from '../../core/errors.js';

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  /** Defaults to the jwks_uri of `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
  /** A role every token must carry in its `roles` claim (Entra ID app roles). */
  requiredRole?: string;
  clockToleranceSeconds?: number;
  /** When set, a token must carry `iat` and be at most this many seconds old (whatever its `exp` says). */
  maxTokenAgeSeconds?: number;
}

export interface VerifiedCaller {
  subject: string;
  roles: string[];
  /** The client application the token was issued to: Entra's `azp` (v2) or `appid` (v1), when present. */
  clientId?: string;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384'];

export class JwtVerifier {
  private keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  private discovering: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  constructor(private readonly options: JwtVerifierOptions) {}

  /** @throws UnauthorizedError for a missing, malformed, expired or foreign token; ForbiddenError without the role */
  async verify(authorization: string | null): Promise<VerifiedCaller> {
    const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new UnauthorizedError();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, await this.jwks(), {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: this.options.maxTokenAgeSeconds ? ['sub', 'exp', 'iat'] : ['sub', 'exp'],
        // jose checks `iat` is a number and compares now - iat with the limit (plus the clock tolerance).
        ...(this.options.maxTokenAgeSeconds ? { maxTokenAge: this.options.maxTokenAgeSeconds } : {}),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || (error as { code?: string }).code === 'ERR_JOSE_GENERIC') {
        // The identity provider could not be reached: still a refusal, but say why in the logs, not to the caller.
        throw new UnauthorizedError('The bearer token could not be validated.', { cause: error });
      }
      throw new UnauthorizedError(error instanceof joseErrors.JWTExpired ? 'The bearer token has expired.' : 'The bearer token is not valid for this API.', { cause: error });
    }
    const roles = Array.isArray(payload.roles) ? payload.roles.map(String) : [];
    if (this.options.requiredRole && !roles.includes(this.options.requiredRole)) {
      // Authenticated, but not allowed: 403, so the caller knows a new token will not help without the role.
      throw new ForbiddenError(`The caller lacks the '${this.options.requiredRole}' role.`);
    }
    // jose only checks that `sub` is present: a number or an object would pass. The value is never logged or echoed.
    const subject: unknown = payload.sub;
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) {
      throw new UnauthorizedError('The bearer token has no usable subject.', { cause: new TypeError('sub is not a non-empty string of at most 256 characters') });
    }
    const client: unknown = payload.azp ?? payload.appid;
    const clientId = typeof client === 'string' && client.length > 0 && client.length <= 256 ? client : undefined;
    return { subject, roles, ...(clientId ? { clientId } : {}) };
  }

  private async jwks() {
    if (this.keys) return this.keys;
    this.discovering ??= (async () => {
      let uri = this.options.jwksUri;
      if (!uri) {
        const response = await fetch(`${this.options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
        if (!response.ok) throw new Error(`OIDC discovery answered ${response.status}`);
        uri = ((await response.json()) as { jwks_uri?: string }).jwks_uri;
        if (!uri) throw new Error('OIDC discovery has no jwks_uri');
      }
      return createRemoteJWKSet(new URL(uri), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    })().catch((error) => {
      this.discovering = undefined; // try discovery again on the next request
      throw new UnauthorizedError('The bearer token could not be validated.', { cause: error });
    });
    this.keys = await this.discovering;
    return this.keys;
  }
}
