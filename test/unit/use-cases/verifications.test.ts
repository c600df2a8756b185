// Verification links in-process (core over the fakes): single use, expiry, access-token scoping, the relying party's
// ownership, the link caller's restrictions on the device routes, the returnUrl allow-list, reissue, erasure.
import { describe, expect, it } from 'vitest';
import { parseStartSessionForm } from '../../../src/contract/requests.js';
import { deviceStatus, requestCompletion } from '../../../src/core/complete-session.js';
import { ConflictError, LinkGoneError, NotFoundError, UnauthorizedError, ValidationError } from '../../../src/core/errors.js';
import { eraseSubject } from '../../../src/core/erase-subject.js';
import { exportSubject, subjectImage } from '../../../src/core/subject-export.js';
import { startSession } from '../../../src/core/start-session.js';
import { sweepSessions } from '../../../src/core/sweep.js';
import { allowedReturnUrl } from '../../../src/core/verification.js';
import {
  cancelVerification, createVerification, exchangeLink, linkCaller, readVerification, reissueLink,
} from '../../../src/core/verifications.js';
import { deviceFields, fakeWorld, fixtureImage, type FakeWorld } from '../../fakes/index.js';
import { DEFAULT_SETTINGS } from '../../fakes/world.js';

const image = fixtureImage();
const RP = 'rp-app-1';

function world(overrides: Partial<typeof DEFAULT_SETTINGS.verifications> = {}): FakeWorld {
  return fakeWorld({
    settings: {
      verifications: {
        ...DEFAULT_SETTINGS.verifications,
        returnUrls: [{ origin: 'https://good.example', path: '/cb' }],
        ...overrides,
      },
    },
  });
}

const create = (w: FakeWorld, externalUserId = 'user-1', extra: Record<string, string> = {}) =>
  createVerification(w.deps, { owner: RP, fields: { externalUserId, clientReferenceId: 'order-1', ...extra }, referenceImage: image });

const startAs = (w: FakeWorld, accessToken: string, verifyImage?: Uint8Array) => linkCaller(w.deps, accessToken).then((caller) =>
  startSession(w.deps, { caller, fields: parseStartSessionForm(deviceFields(w)), ...(verifyImage ? { verifyImage } : {}) }));

describe('verification links', () => {
  it('a link is exchanged once; a second exchange is 410 LinkUsed, an unknown one LinkInvalid', async () => {
    const w = world();
    const { linkToken, verificationId } = await create(w);
    const exchanged = await exchangeLink(w.deps, linkToken);
    expect(exchanged.verificationId).toBe(verificationId);
    expect(exchanged.accessToken).toMatch(/^vla_/);
    await expect(exchangeLink(w.deps, linkToken)).rejects.toMatchObject({ code: 'LinkUsed' });
    await expect(exchangeLink(w.deps, `${linkToken.slice(0, -4)}AAAA`)).rejects.toMatchObject({ code: 'LinkInvalid' });
    await expect(exchangeLink(w.deps, 'nonsense')).rejects.toBeInstanceOf(LinkGoneError);
    // Nothing stores a token in the clear.
    expect(JSON.stringify([...w.verifications.rows.values()])).not.toContain(linkToken.split('.')[1]);
    expect(JSON.stringify([...w.verifications.rows.values()])).not.toContain(exchanged.accessToken.split('.')[1]);
  });

  it('of two concurrent exchanges exactly one wins', async () => {
    const w = world();
    const { linkToken } = await create(w);
    const results = await Promise.allSettled([exchangeLink(w.deps, linkToken), exchangeLink(w.deps, linkToken)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'LinkUsed' });
  });

  it('an expired link is 410 LinkExpired, and the sweep marks it expired and deletes its reference', async () => {
    const w = world();
    const { linkToken, verificationId } = await create(w);
    expect(w.images.names()).toEqual([`verification-references/${verificationId}.jpg`]);
    w.clock.advance({ minutes: 15 });
    await expect(exchangeLink(w.deps, linkToken)).rejects.toMatchObject({ code: 'LinkExpired' });
    expect((await readVerification(w.deps, verificationId, RP)).status).toBe('expired');
    await sweepSessions(w.deps);
    expect(w.images.names()).toEqual([]);
    expect(w.verifications.rows.get(verificationId)).toMatchObject({ linkState: 'expired' });
  });

  it('a link caller reads and completes only its own session; a second create is 409', async () => {
    const w = world();
    const a = await exchangeLink(w.deps, (await create(w, 'user-a')).linkToken);
    const b = await exchangeLink(w.deps, (await create(w, 'user-b')).linkToken);
    const started = await startAs(w, a.accessToken);
    const callerB = await linkCaller(w.deps, b.accessToken);
    await expect(deviceStatus(w.deps, started.sessionId, callerB)).rejects.toBeInstanceOf(NotFoundError);
    await expect(requestCompletion(w.deps, started.sessionId, callerB)).rejects.toBeInstanceOf(NotFoundError);
    // Nor does the same person's device token see a link session (it is the verification's alone).
    await expect(deviceStatus(w.deps, started.sessionId, { subject: 'user-a' })).rejects.toBeInstanceOf(NotFoundError);
    const callerA = await linkCaller(w.deps, a.accessToken);
    expect(await deviceStatus(w.deps, started.sessionId, callerA)).toEqual({ sessionId: started.sessionId, status: 'pending' });
    await expect(startAs(w, a.accessToken)).rejects.toMatchObject({ code: 'VerificationUsed' });
    const session = w.sessions.peek(started.sessionId)!;
    expect(session).toMatchObject({ origin: 'link', verificationId: a.verificationId, clientReferenceId: 'order-1', subjectKey: w.subjects.keyOf('user-a') });
    expect(session.subject).toBeUndefined();
    // The relying party's image became the session's verify image; the verification's copy is gone.
    expect(session.storedVerifyImage.sha256).toBe(w.verifications.rows.get(a.verificationId) && session.storedVerifyImage.sha256);
    expect(w.images.names().filter((n) => n.startsWith('verification-references/'))).toEqual([`verification-references/${b.verificationId}.jpg`]);
    expect((await readVerification(w.deps, a.verificationId, RP)).status).toBe('in_progress');
  });

  it('refuses a verifyImage from a link caller (400), before anything is claimed', async () => {
    const w = world();
    const { accessToken, verificationId } = await exchangeLink(w.deps, (await create(w)).linkToken);
    await expect(startAs(w, accessToken, image)).rejects.toMatchObject({ code: 'VerifyImageNotAllowed' });
    expect(w.verifications.rows.get(verificationId)!.sessionId).toBeUndefined();
    expect(w.sessions.all()).toEqual([]);
  });

  it("another relying party's token gets 404 for the verification, on read and cancel", async () => {
    const w = world();
    const { verificationId } = await create(w);
    await expect(readVerification(w.deps, verificationId, 'rp-app-2')).rejects.toMatchObject({ code: 'VerificationNotFound' });
    await expect(cancelVerification(w.deps, verificationId, 'rp-app-2')).rejects.toBeInstanceOf(NotFoundError);
    expect((await readVerification(w.deps, verificationId, RP)).status).toBe('pending');
  });

  it('cancel kills the link (410) and the access token (401)', async () => {
    const w = world();
    const first = await create(w);
    const second = await create(w, 'user-2');
    const { accessToken } = await exchangeLink(w.deps, second.linkToken);
    await cancelVerification(w.deps, first.verificationId, RP);
    await cancelVerification(w.deps, second.verificationId, RP);
    await expect(exchangeLink(w.deps, first.linkToken)).rejects.toMatchObject({ code: 'LinkInvalid' });
    await expect(linkCaller(w.deps, accessToken)).rejects.toBeInstanceOf(UnauthorizedError);
    expect((await readVerification(w.deps, first.verificationId, RP)).status).toBe('cancelled');
    expect(w.images.names()).toEqual([]);
  });

  it('reissue kills the old link and its access token; refused once a session started', async () => {
    const w = world();
    const { linkToken, verificationId } = await create(w);
    const { accessToken } = await exchangeLink(w.deps, linkToken);
    const fresh = await reissueLink(w.deps, verificationId);
    await expect(linkCaller(w.deps, accessToken)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(exchangeLink(w.deps, linkToken)).rejects.toMatchObject({ code: 'LinkInvalid' });
    const again = await exchangeLink(w.deps, fresh.linkToken);
    await startAs(w, again.accessToken);
    await expect(reissueLink(w.deps, verificationId)).rejects.toBeInstanceOf(ConflictError);
  });

  it('the access token expires', async () => {
    const w = world();
    const { accessToken } = await exchangeLink(w.deps, (await create(w)).linkToken);
    w.clock.advance({ minutes: 20 });
    await expect(linkCaller(w.deps, accessToken)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('checks the returnUrl against the allow-list before storing anything', async () => {
    const w = world();
    await expect(create(w, 'user-1', { returnUrl: 'https://evil.example/cb' })).rejects.toMatchObject({ code: 'ReturnUrlNotAllowed' });
    expect(w.verifications.rows.size).toBe(0);
    expect(w.images.names()).toEqual([]);
    const ok = await create(w, 'user-1', { returnUrl: 'https://good.example/cb/done?x=1' });
    expect((await exchangeLink(w.deps, ok.linkToken)).returnUrl).toBe('https://good.example/cb/done?x=1');
  });

  it('needs a reference: none enrolled and no image is 400 ReferenceRequired', async () => {
    const w = world();
    await expect(createVerification(w.deps, { owner: RP, fields: { externalUserId: 'x' } })).rejects.toBeInstanceOf(ValidationError);
    await expect(createVerification(w.deps, { owner: RP, fields: { externalUserId: 'x' } })).rejects.toMatchObject({ code: 'ReferenceRequired' });
  });

  it("erasure reaches the person's verifications and their reference images", async () => {
    const w = world();
    const { verificationId } = await create(w, 'user-9');
    const receipt = await eraseSubject(w.deps, w.subjects.keyOf('user-9'), 'admin-key');
    expect(receipt.deleted).toMatchObject({ verifications: 1, images: 1 });
    expect(w.verifications.rows.has(verificationId)).toBe(false);
    expect(w.images.names()).toEqual([]);
  });
});

describe('export (Art. 15)', () => {
  it("lists the person's verifications, without any token, and serves their reference image to that person's key only", async () => {
    const w = world();
    const { verificationId, linkToken } = await create(w, 'user-x', { returnUrl: 'https://good.example/cb' });
    await create(w, 'user-y');
    const exported = await exportSubject(w.deps, w.subjects.keyOf('user-x'));
    expect(exported.verifications).toEqual([expect.objectContaining({
      verificationId, owner: RP, status: 'pending', linkState: 'sent', clientReferenceId: 'order-1', returnUrl: 'https://good.example/cb',
      referenceImage: expect.objectContaining({ name: `verification-references/${verificationId}.jpg` }),
    })]);
    expect(JSON.stringify(exported)).not.toContain(linkToken.split('.')[1]);
    expect(JSON.stringify(exported)).not.toContain(w.verifications.rows.get(verificationId)!.linkTokenHash);
    const name = exported.verifications![0]!.referenceImage!.name;
    expect((await subjectImage(w.deps, w.subjects.keyOf('user-x'), name)).bytes.byteLength).toBeGreaterThan(0);
    await expect(subjectImage(w.deps, w.subjects.keyOf('user-y'), name)).rejects.toMatchObject({ code: 'ImageNotFound' });
  });
});

describe('the returnUrl allow-list', () => {
  const entries = [{ origin: 'https://good.example', path: '/cb' }, { origin: 'http://127.0.0.1:7090', path: '/' }];
  it.each([
    ['https://good.example/cb', true],
    ['https://good.example/cb/done', true],
    ['https://good.example/cbx', false],
    ['https://good.example:8443/cb', false],
    ['https://good.example.evil.com/cb', false],
    ['https://good.example/cb/../x', false],
    ['https://good.example/cb/%2e%2e/x', false],
    ['https://user:pw@good.example/cb', false],
    ['https://good.example@evil.com/cb', false],
    ['http://good.example/cb', false],
    ['https://good.example/cb#frag', false],
    ['https://good.example\\@evil.com/cb', false],
    ['//good.example/cb', false],
    ['javascript:alert(1)//good.example/cb', false],
    ['http://127.0.0.1:7090/anything', true],
    ['http://127.0.0.1:7091/anything', false],
  ])('%s → %s', (url, allowed) => {
    expect(allowedReturnUrl(url, entries) !== undefined).toBe(allowed);
  });
});
