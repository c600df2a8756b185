// The sweep timer, fired through the host's admin endpoint. Expiry is simulated by moving a session's token expiry
// (and its sweep index row) into the past in storage, exactly as time passing would leave them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import type { LivenessSession } from '../../src/core/session.js';
import {
  blobNames, complete, createSession, eventually, faceSessionIds, fixture, getJson, startStack, type Stack,
} from '../support/liveness.js';

const face = fixture('face-grace-hopper.jpg');
const capture = fixture('face-astronaut.png');
let stack: Stack;

beforeAll(async () => { stack = await startStack({ LIVENESS_RECORD_RETENTION_DAYS: '1', LIVENESS_IMAGE_RETENTION_HOURS: '0' }); });
afterAll(async () => { await stack?.stop(); });

/** Moves a session back in time by `ms`: its creation, token expiry and sweep index row. */
async function age(sessionId: string, ms: number): Promise<LivenessSession> {
  const shift = (iso: string) => new Date(Date.parse(iso) - ms).toISOString();
  // The repository moves the sweep index row along with nextSweepDateTime.
  const aged = await stack.repository.mutate(sessionId, (s) => ({
    ...s,
    authTokenExpiresDateTime: shift(s.authTokenExpiresDateTime),
    nextSweepDateTime: s.nextSweepDateTime ? shift(s.nextSweepDateTime) : undefined,
  }));
  return aged!;
}

async function sweep(): Promise<void> {
  const logsBefore = stack.logs().length;
  const res = await fetch(`${stack.api.replace(/\/api$/, '')}/admin/functions/liveness-sweep`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":""}',
  });
  expect(res.status).toBe(202);
  await eventually(async () => (/sweep finished/.test(stack.logs().slice(logsBefore)) ? true : undefined), 'the sweep to finish');
}

describe('the sweep', () => {
  it('collects a result nobody collected, then deletes the Face session and the images, and keeps the record', async () => {
    const created = await createSession(stack, face, { enableSessionImage: 'true' });
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    const aged = await age(created.sessionId, 11 * 60_000); // the 10-minute token expired a minute ago

    await sweep();

    const session = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`);
    expect(session.body).toMatchObject({ status: 'ResultAvailable', sessionExpired: true, result: { id: 1 } });
    expect((await faceSessionIds(stack)).has(created.faceSessionId)).toBe(false);
    const names = await blobNames(stack);
    expect(names).not.toContain(aged.storedVerifyImage.blobName);
    expect(names.filter((n) => n.includes(created.sessionId))).toEqual([]);
    const after = (await stack.repository.get(created.sessionId))!;
    expect(after).toMatchObject({ faceSessionDeleted: true, imagesDeleted: true });
    // Next due: when record retention (1 day after expiry) ends.
    expect(Date.parse(after.nextSweepDateTime!)).toBe(Date.parse(after.authTokenExpiresDateTime) + 86_400_000);
  });

  it('marks a session that never got an attempt Expired', async () => {
    const created = await createSession(stack, face);
    await age(created.sessionId, 11 * 60_000);
    await sweep();
    const session = await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`);
    expect(session.body).toMatchObject({ status: 'Expired', failureReason: 'NoFinishedAttemptBeforeExpiry' });
    expect(session.body).not.toHaveProperty('result');
    expect((await faceSessionIds(stack)).has(created.faceSessionId)).toBe(false);
    const list = await getJson(`${stack.api}/liveness-sessions?status=Expired&top=1000`);
    expect(list.body.value.map((s: { id: string }) => s.id)).toContain(created.sessionId);
  });

  it('deletes the records once record retention ends', async () => {
    const created = await createSession(stack, face);
    await performDeviceAttempt(stack.faceEndpoint, created.authToken, capture);
    await complete(stack, created);
    await eventually(async () => ((await stack.repository.get(created.sessionId))?.status === 'ResultAvailable' ? true : undefined), 'result');
    await age(created.sessionId, 2 * 86_400_000);
    await sweep();
    expect((await getJson(`${stack.api}/liveness-sessions/${created.sessionId}`)).status).toBe(404);
    expect(await stack.audit.list(created.sessionId)).toEqual([]);
  });

  it('leaves live sessions alone', async () => {
    const created = await createSession(stack, face);
    await sweep();
    expect((await stack.repository.get(created.sessionId))).toMatchObject({ status: 'NotStarted', faceSessionDeleted: false, imagesDeleted: false });
    expect((await faceSessionIds(stack)).has(created.faceSessionId)).toBe(true);
  });

  it('finishes a delete that was interrupted', async () => {
    const created = await createSession(stack, face);
    const s = (await stack.repository.mutate(created.sessionId, (row) => ({ ...row, deleting: true })))!; // as if the host died mid-delete
    await age(created.sessionId, 11 * 60_000);
    await sweep();
    expect(await stack.repository.get(created.sessionId)).toBeUndefined();
    expect(await blobNames(stack)).not.toContain(s.storedVerifyImage.blobName);
    expect((await faceSessionIds(stack)).has(created.faceSessionId)).toBe(false);
  });
});
