// Token edge cases at the device verifier, in-process against a local JWKS: a `sub` that is not a non-empty string is
// refused (and never echoed), and with a maximum token age a token without `iat`, or one too old, is refused.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/adapters/auth/jwt-verifier.js';
import { UnauthorizedError } from '../../src/core/errors.js';
import { errorResponse } from '../../src/shared/errors.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'api://device-test';
let server: http.Server;
let jwksUri: string;
let sign: (payload: JWTPayload, options?: { iat?: number | 'none' }) => Promise<string>;

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
  server = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(jwks); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  sign = async (payload, options = {}) => {
    // SignJWT.setSubject only takes strings: the odd `sub` values go in the payload directly.
    const jwt = new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m');
    if (options.iat !== 'none') jwt.setIssuedAt(options.iat);
    return jwt.sign(privateKey);
  };
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const verifier = (maxTokenAgeSeconds?: number) => new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri, ...(maxTokenAgeSeconds ? { maxTokenAgeSeconds } : {}) });
const refusal = async (v: JwtVerifier, token: string): Promise<unknown> => v.verify(`Bearer ${token}`).then(() => undefined, (error: unknown) => error);

describe('device token edge cases', () => {
  it('accepts a string subject', async () => {
    await expect(verifier().verify(`Bearer ${await sign({ sub: 'device-1' })}`)).resolves.toMatchObject({ subject: 'device-1' });
  });

  it.each([
    ['a number', 12345678],
    ['an object', { id: 'secret-subject-value' }],
    ['an array', ['secret-subject-value']],
    ['an empty string', ''],
    ['a boolean', true],
  ])('refuses a sub that is %s with 401, without echoing or logging the value', async (_name, sub) => {
    const error = await refusal(verifier(), await sign({ sub } as unknown as JWTPayload));
    expect(error).toBeInstanceOf(UnauthorizedError);
    const logged: unknown[] = [];
    const logger = { info: (...a: unknown[]) => logged.push(a), warn: (...a: unknown[]) => logged.push(a), error: (...a: unknown[]) => logged.push(a) };
    const response = errorResponse(error, logger, 'test-correlation-id');
    expect(response.status).toBe(401);
    const everything = JSON.stringify([response.jsonBody, logged, (error as Error).message]);
    expect(everything).not.toContain('secret-subject-value');
    expect(everything).not.toContain('12345678');
  });

  it('without a maximum age, a token without iat is accepted (the setting is off by default)', async () => {
    await expect(verifier().verify(`Bearer ${await sign({ sub: 'd' }, { iat: 'none' })}`)).resolves.toMatchObject({ subject: 'd' });
  });

  it('with a maximum age, refuses a token without iat and one issued too long ago; accepts a fresh one', async () => {
    const strict = verifier(300);
    const now = Math.floor(Date.now() / 1000);
    expect(await refusal(strict, await sign({ sub: 'd' }, { iat: 'none' }))).toBeInstanceOf(UnauthorizedError);
    expect(await refusal(strict, await sign({ sub: 'd' }, { iat: now - 3600 }))).toBeInstanceOf(UnauthorizedError);
    await expect(strict.verify(`Bearer ${await sign({ sub: 'd' }, { iat: now - 10 })}`)).resolves.toMatchObject({ subject: 'd' });
  });
});

describe("the relying party's client application (verification ownership)", () => {
  it.each([
    ['azp (Entra v2)', { sub: 'sp-object-id', azp: 'client-app-a' }, 'client-app-a'],
    ['appid (Entra v1)', { sub: 'sp-object-id', appid: 'client-app-b' }, 'client-app-b'],
    ['neither: none (the edge then uses sub)', { sub: 'sp-object-id' }, undefined],
    ['an azp that is not a string: none', { sub: 'sp-object-id', azp: 42 }, undefined],
  ])('reads %s', async (_name, payload, clientId) => {
    const verified = await verifier().verify(`Bearer ${await sign(payload as JWTPayload)}`);
    expect(verified.clientId).toBe(clientId);
  });
});
