// In Azure the app itself answers CORS preflights for the pages' origin (PAGES_ORIGIN), whatever the platform's CORS
// does; here the dev host runs without Host.CORS, so every preflight reaches the app. And a setting that is still a
// Key Vault reference: health names it, every other route answers ConfigurationError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/liveness.js';

const PAGES = 'https://pages.example';

describe('CORS answered by the app (PAGES_ORIGIN, no Host.CORS)', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ PAGES_ORIGIN: PAGES, DEVHOST_CORS: '' }); });
  afterAll(async () => { await stack?.stop(); });

  const preflight = (path: string, origin: string) => fetch(`${stack.api}/${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

  it("answers a preflight from the pages' origin on every API path, without running anything else", async () => {
    for (const path of ['liveness-sessions', 'liveness-sessions/0190a1b2-0000-7000-8000-000000000000/complete', 'backoffice/liveness-sessions']) {
      const answer = await preflight(path, PAGES);
      expect(answer.status, path).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(PAGES);
      expect(answer.headers.get('access-control-allow-methods')).toBe('POST');
      expect(answer.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
      expect(answer.headers.get('vary')).toBe('Origin');
      expect(await answer.text()).toBe('');
    }
  });

  it('gives another origin nothing CORS-ish', async () => {
    const answer = await preflight('liveness-sessions', 'https://evil.example');
    expect(answer.status).toBe(204);
    expect([...answer.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
    const health = await fetch(`${stack.api}/health`, { headers: { origin: 'https://evil.example' } });
    expect(health.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("adds the origin to the app's answers to the pages' origin (errors included)", async () => {
    const health = await fetch(`${stack.api}/health`, { headers: { origin: PAGES } });
    expect(health.headers.get('access-control-allow-origin')).toBe(PAGES);
    const refused = await fetch(`${stack.api}/liveness-sessions`, { method: 'POST', headers: { origin: PAGES } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(PAGES);
  });
});

describe('a setting that is still a Key Vault reference', () => {
  let stack: Stack;
  const reference = '@Microsoft.KeyVault(SecretUri=https://kv-e2e.vault.azure.net/secrets/subject-key-secret/)';
  beforeAll(async () => { stack = await startStack({ SUBJECT_KEY_SECRET: reference }); });
  afterAll(async () => { await stack?.stop(); });

  it('health answers 503 naming the setting, never its reference; other routes answer ConfigurationError', async () => {
    const health = await fetch(`${stack.api}/health`);
    expect(health.status).toBe(503);
    const text = await health.text();
    expect(JSON.parse(text)).toEqual({ status: 'unhealthy', checks: { settings: { status: 'unhealthy', latencyMs: 0, reason: 'unresolved Key Vault reference: SUBJECT_KEY_SECRET' } } });
    expect(text).not.toContain('vault.azure.net');
    const other = await fetch(`${stack.api}/privacy`);
    expect(other.status).toBe(500);
    expect(await other.json()).toMatchObject({ error: { code: 'ConfigurationError' } });
    expect(stack.logs()).toContain('SUBJECT_KEY_SECRET: is an unresolved Key Vault reference');
    expect(stack.logs()).not.toContain('kv-e2e.vault.azure.net');
  });
});
