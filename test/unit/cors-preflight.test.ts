// The app's own CORS for the pages (src/functions/cors-preflight.ts) against the dev host's copy of the Functions host's
// CORS (dev/host/cors.ts, configured by Host.CORS): for the pages' origin both give the same headers, for any other
// origin neither gives anything CORS-ish. And the health answer for a setting that is still a Key Vault reference.
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { applyCors, parseCors } from '../../dev/host/cors.js';
import { ConfigurationError, parseConfig, parsePagesOrigin } from '../../src/config/config.js';
import { healthSchema } from '../../src/contract/responses.js';
import { corsHeaders, preflight } from '../../src/functions/cors-preflight.js';
import { unresolvedSettingsReport } from '../../src/functions/health.js';

const PAGES = 'https://nice-sea-0a1b2c3d4.6.azurestaticapps.net';

/** What the dev host answers (status when it answered, and the headers it set). */
function devHost(method: string, headers: Record<string, string>): { answered: number | undefined; headers: Record<string, string> } {
  const set: Record<string, string> = {};
  let answered: number | undefined;
  const req = { method, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), resume() {} };
  const res = {
    setHeader(name: string, value: string) { set[name.toLowerCase()] = String(value); },
    writeHead(status: number) { answered = status; return { end() {} }; },
  };
  applyCors(parseCors(PAGES), req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
  return { answered, headers: set };
}

/** What the app answers to OPTIONS, or adds to another answer. */
function app(method: string, headers: Record<string, string>): Record<string, string> {
  const h = new Headers(headers);
  if (method === 'OPTIONS') {
    const answer = preflight(PAGES, { method, headers: h } as never);
    expect(answer.status).toBe(204);
    return answer.headers as Record<string, string>;
  }
  return corsHeaders(PAGES, method, h);
}

describe('CORS for the pages, answered by the app', () => {
  const preflightFrom = (origin: string) => ({
    origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key',
  });

  it("answers a preflight from the pages' origin with the same headers as the dev host's Host.CORS", () => {
    const dev = devHost('OPTIONS', preflightFrom(PAGES));
    expect(dev.answered).toBe(204);
    expect(app('OPTIONS', preflightFrom(PAGES))).toEqual(dev.headers);
    expect(dev.headers).toEqual({
      'access-control-allow-origin': PAGES, vary: 'Origin',
      'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'authorization, content-type, idempotency-key',
    });
  });

  it('gives nothing CORS-ish to any other origin, lookalikes included (same as the dev host)', () => {
    for (const origin of ['https://evil.example', `${PAGES}.evil.example`, PAGES.replace('https:', 'http:'), 'null', `${PAGES}:444`]) {
      const dev = devHost('OPTIONS', preflightFrom(origin));
      expect(dev).toEqual({ answered: 204, headers: {} });
      expect(app('OPTIONS', preflightFrom(origin)), origin).toEqual({});
      expect(app('GET', { origin }), origin).toEqual({});
    }
    expect(app('OPTIONS', { 'access-control-request-method': 'GET' })).toEqual({});
  });

  it("adds the origin (not the preflight headers) to other answers to the pages' origin, as the dev host does", () => {
    const dev = devHost('GET', { origin: PAGES });
    expect(dev.answered).toBeUndefined();
    expect(app('GET', { origin: PAGES })).toEqual(dev.headers);
    expect(dev.headers).toEqual({ 'access-control-allow-origin': PAGES, vary: 'Origin' });
    expect(app('POST', { origin: PAGES.toUpperCase().replace('HTTPS://', 'https://'), 'access-control-request-method': 'POST' }))
      .toEqual(devHost('POST', { origin: PAGES.toUpperCase().replace('HTTPS://', 'https://'), 'access-control-request-method': 'POST' }).headers);
  });

  it('answers nothing CORS-ish when no pages origin is configured', () => {
    expect(preflight(undefined, { method: 'OPTIONS', headers: new Headers(preflightFrom(PAGES)) } as never)).toEqual({ status: 204, headers: {} });
  });

  it('reads PAGES_ORIGIN as an origin only', () => {
    expect(parsePagesOrigin(`${PAGES}/`)).toBe(PAGES);
    expect(parsePagesOrigin(undefined)).toBeUndefined();
    expect(parsePagesOrigin(' ')).toBeUndefined();
    for (const bad of [`${PAGES}/device/`, '*', 'nice-sea.azurestaticapps.net', `${PAGES}?x=1`, 'https://user@pages.example']) {
      expect(parsePagesOrigin(bad), bad).toBeNull();
    }
    const env = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', FACE_ENDPOINT: 'https://face.example.com', DEVICE_AUTH_ISSUER: 'https://login.example.com', DEVICE_AUTH_AUDIENCE: 'api://x' };
    expect(parseConfig({ ...env, PAGES_ORIGIN: PAGES }).pages.origin).toBe(PAGES);
    expect(parseConfig(env).pages.origin).toBeUndefined();
    expect(() => parseConfig({ ...env, PAGES_ORIGIN: '*' })).toThrow(/PAGES_ORIGIN: must be an origin/);
  });
});

describe('a setting that is still a Key Vault reference', () => {
  const reference = '@Microsoft.KeyVault(SecretUri=https://kv-abc.vault.azure.net/secrets/subject-key-secret/)';
  const env = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true', FACE_ENDPOINT: 'https://face.example.com',
    DEVICE_AUTH_ISSUER: 'https://login.example.com', DEVICE_AUTH_AUDIENCE: 'api://x',
  };

  it('health names the setting, never the reference or a value, in the documented shape', () => {
    const report = unresolvedSettingsReport({ ...env, SUBJECT_KEY_SECRET: reference, WEBHOOK_SECRET: ` ${reference.replace('subject-key', 'webhook')}` });
    expect(report).toEqual({ status: 'unhealthy', checks: { settings: { status: 'unhealthy', latencyMs: 0, reason: 'unresolved Key Vault reference: SUBJECT_KEY_SECRET, WEBHOOK_SECRET' } } });
    expect(JSON.stringify(report)).not.toMatch(/vault\.azure\.net|subject-key-secret/);
    expect(healthSchema.parse(report)).toEqual(report);
    expect(unresolvedSettingsReport({ ...env, SUBJECT_KEY_SECRET: 'a'.repeat(64) })).toBeUndefined();
  });

  it('config refuses it by name, for any setting', () => {
    let error: unknown;
    try { parseConfig({ ...env, WEBHOOK_URL: 'https://rp.example/hook', WEBHOOK_SECRET: reference }); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems).toEqual([
      'WEBHOOK_SECRET: is an unresolved Key Vault reference: create the secret (the postprovision hook, scripts/hooks/postprovision.mjs) and check the app identity can read it',
    ]);
    expect((error as Error).message).not.toContain('vault.azure.net');
  });
});
