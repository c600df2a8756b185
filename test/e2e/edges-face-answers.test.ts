// Malformed Face answers, end to end: a tampering proxy between the app and the Face emulator rewrites the session
// GET. An attemptId with "../" and a boolean matchConfidence must be treated as Face failing: the session never
// passes, ends Failed with a named reason, and no blob is written outside the session's own names.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { startFaceTamperProxy, type FaceTamperProxy } from '../support/face-tamper-proxy.js';
import { complete, createSession, eventually, fixture, startStack, type Stack } from '../support/liveness.js';

const face = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
let proxy: FaceTamperProxy;
let stack: Stack;

beforeAll(async () => {
  proxy = await startFaceTamperProxy(inject('faceEndpoint'));
  stack = await startStack({}, { endpoint: proxy.url, key: inject('faceApiKey') });
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});

type Attempt = { attemptId: unknown; result?: { verifyResult?: { matchConfidence: unknown } } };

describe('malformed Face answers', () => {
  it('a traversal attemptId and a boolean matchConfidence fail the session by name and write nothing outside it', async () => {
    const marker = `evil${randomBytes(4).toString('hex')}`;
    const traversal = await createSession(stack, face, { enableSessionImage: 'true' });
    const boolean = await createSession(stack, face, { enableSessionImage: 'true' });
    const rewrites = new Map<string, (attempt: Attempt) => void>([
      [traversal.faceSessionId, (a) => { a.attemptId = `../../../${marker}/x`; }],
      [boolean.faceSessionId, (a) => { if (a.result?.verifyResult) a.result.verifyResult.matchConfidence = true; }],
    ]);
    let tampered = 0;
    proxy.tamper = ({ method, path }, body) => {
      if (method !== 'GET') return undefined;
      const rewrite = [...rewrites].find(([id]) => path.toLowerCase().includes(id.toLowerCase()))?.[1];
      const attempts = (body as { results?: { attempts?: Attempt[] } }).results?.attempts;
      if (!rewrite || !attempts?.length) return undefined;
      attempts.forEach(rewrite);
      tampered++;
      return body;
    };

    for (const session of [traversal, boolean]) {
      const attempt = await performDeviceAttempt(inject('faceEndpoint'), session.authToken, capture);
      expect(attempt.status).toBe(204);
      expect((await complete(stack, session)).status).toBe(202);
    }

    // The completion queue retries (each try a Face failure), then the poison handler fails the session.
    for (const session of [traversal, boolean]) {
      const stored = await eventually(async () => {
        const s = await stack.repository.get(session.sessionId);
        return s?.status === 'Failed' || s?.status === 'ResultAvailable' ? s : undefined;
      }, `final state of ${session.sessionId}`, 90_000);
      expect(stored.status).toBe('Failed');
      expect(stored.failureReason).toMatch(/^[A-Za-z]+$/);
      expect(stored.decision?.outcome).not.toBe('pass');
      expect(stored.result).toBeUndefined();
      expect(stored.sessionImageBlobs).toEqual([]);
    }
    expect(tampered).toBeGreaterThanOrEqual(2);
    expect(stack.logs()).toMatch(/FaceAnswerInvalidError|invalid results\.attempts/);

    // Blobs: only the two verify images, under their own session ids; nothing anywhere carries the marker.
    const ownNames = new Set([traversal.sessionId, boolean.sessionId]);
    const names: string[] = [];
    for await (const blob of stack.blobs.getContainerClient(stack.container).listBlobsFlat()) names.push(blob.name);
    const ours = names.filter((n) => [...ownNames].some((id) => n.includes(id)));
    expect(ours).toHaveLength(2);
    for (const id of ownNames) expect(ours.filter((n) => new RegExp(`^verify-images/${id}\\.(jpg|png)$`).test(n))).toHaveLength(1);
    for await (const container of stack.blobs.listContainers()) {
      expect(container.name).not.toContain(marker);
      for await (const blob of stack.blobs.getContainerClient(container.name).listBlobsFlat()) expect(blob.name).not.toContain(marker);
    }
  });
});
