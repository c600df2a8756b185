// Face Quick Link (FACE_QUICK_LINK=on) in-process: a link session gets Face's hosted page and a callback secret
// (stored only as a hash); the callback with that secret only requests collection, anything else is a 404; the
// Quick Link adapter refuses an answer that is not a hosted-page link.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpQuickLinks } from '../../src/adapters/face/quick-link.js';
import { parseStartSessionForm } from '../../src/contract/requests.js';
import { FaceAnswerInvalidError, FaceUnavailableError, NotFoundError } from '../../src/core/errors.js';
import { startSession } from '../../src/core/start-session.js';
import { createVerification, exchangeLink, linkCaller, quickLinkCallback } from '../../src/core/verifications.js';
import { deviceFields, fakeWorld, fixtureImage } from '../fakes/index.js';
import { DEFAULT_SETTINGS } from '../fakes/world.js';

describe('Quick Link in the core', () => {
  async function linkSession(failQuickLink = false) {
    const world = fakeWorld({ settings: { verifications: { ...DEFAULT_SETTINGS.verifications, quickLink: true } } });
    const tokens: string[] = [];
    world.deps.quickLinks = {
      create: async (authToken) => {
        tokens.push(authToken);
        if (failQuickLink) throw new FaceUnavailableError('down', 5);
        return 'hosted-1';
      },
    };
    const { linkToken, verificationId } = await createVerification(world.deps, { owner: 'rp', fields: { externalUserId: 'u-1' }, referenceImage: fixtureImage() });
    const { accessToken } = await exchangeLink(world.deps, linkToken);
    const caller = await linkCaller(world.deps, accessToken);
    const started = startSession(world.deps, { caller, fields: parseStartSessionForm(deviceFields(world)) });
    return { world, tokens, verificationId, started };
  }

  it("asks Face for the session's hosted page with the session's token; the secret is stored as a hash only", async () => {
    const { world, tokens, verificationId, started } = await linkSession();
    const s = await started;
    expect(tokens).toEqual([s.authToken]);
    expect(s.quickLink).toEqual({ id: 'hosted-1', callbackSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const stored = JSON.stringify(world.verifications.rows.get(verificationId));
    expect(stored).not.toContain(s.quickLink!.callbackSecret);
    expect(world.verifications.rows.get(verificationId)!.quickLinkSecretHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the callback with the secret only requests collection; a wrong secret or another verification is a 404', async () => {
    const { world, verificationId, started } = await linkSession();
    const { quickLink, sessionId } = await started;
    await expect(quickLinkCallback(world.deps, verificationId, 'A'.repeat(43))).rejects.toBeInstanceOf(NotFoundError);
    await expect(quickLinkCallback(world.deps, '019ac1f2-7a3b-7c4d-8e5f-0123456789ab', quickLink!.callbackSecret)).rejects.toBeInstanceOf(NotFoundError);
    expect(world.completions.peek()).toEqual([]);
    await quickLinkCallback(world.deps, verificationId, quickLink!.callbackSecret);
    expect(world.completions.peek().map((m) => m.message.sessionId)).toEqual([sessionId]);
    // Nothing about the outcome came from the callback: the session waits for collection from Face.
    expect(world.sessions.peek(sessionId)!.decision).toBeUndefined();
  });

  it('no hosted page, no session: the session goes and the verification may start again', async () => {
    const { world, verificationId, started } = await linkSession(true);
    await expect(started).rejects.toBeInstanceOf(FaceUnavailableError);
    expect(world.verifications.rows.get(verificationId)!.sessionId).toBeUndefined();
    expect(world.face.live()).toEqual([]);
  });
});

describe('the Quick Link adapter', () => {
  let server: Server | undefined;
  afterEach(async () => { await new Promise((r) => server?.close(r)); server = undefined; });

  async function answering(status: number, body: string): Promise<{ client: HttpQuickLinks; seen: string[] }> {
    const seen: string[] = [];
    server = createServer((req, res) => { seen.push(`${req.method} ${req.url} ${req.headers.authorization}`); res.writeHead(status, { 'content-type': 'application/json' }).end(body); });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return { client: new HttpQuickLinks({ endpoint: `http://127.0.0.1:${port}`, timeoutMs: 2000 }), seen };
  }

  it('posts the session token and reads the hosted-page id', async () => {
    const { client, seen } = await answering(200, '{"url":"/?s=abc123"}');
    expect(await client.create('session-token')).toBe('abc123');
    expect(seen).toEqual(['POST /api/quicklink Bearer session-token']);
  });

  it.each([
    '{"url":"https://evil.example/?s=abc"}', '{"url":"/?s=abc&x=<script>"}', '{"link":"/?s=abc"}', 'not json',
  ])('refuses an answer that is not a hosted-page link: %s', async (body) => {
    const { client } = await answering(200, body);
    await expect(client.create('t')).rejects.toBeInstanceOf(FaceAnswerInvalidError);
  });

  it('a refusal is Face unavailable (503 to the caller)', async () => {
    const { client } = await answering(401, '{}');
    await expect(client.create('t')).rejects.toBeInstanceOf(FaceUnavailableError);
  });
});
