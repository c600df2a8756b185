// The evidence log in process: records are canonical JSON in hash chains, checkpoints are signed, and an export is
// checked offline. Each attack on an export (a record changed, removed or reordered, a checkpoint forged, a receipt
// altered) must fail verification and name the first bad record; key rotation must keep old checkpoints verifiable.
import { describe, expect, it } from 'vitest';
import { eraseSubject } from '../../src/core/erase-subject.js';
import {
  canonicalJson, chainOf, EVIDENCE_CHAINS, exportEvidence, recordHash, writeCheckpoint, type EvidenceExport,
} from '../../src/core/evidence.js';
import { verifyExport } from '../../src/core/evidence-verify.js';
import { settleReview } from '../../src/core/review.js';
import { deleteSession } from '../../src/core/delete-session.js';
import { exportSubject } from '../../src/core/subject-export.js';
import { handleCompletionMessage } from '../../src/core/collect-result.js';
import { fakeWorld, startFor, type FakeWorld } from '../fakes/index.js';

const FROM = '2026-01-01T00:00:00.000Z';
const TO = '2026-12-31T00:00:00.000Z';

/** A world with a few decided, reviewed, deleted and erased sessions of several subjects, then a checkpoint. */
async function busyWorld(): Promise<FakeWorld> {
  const w = fakeWorld({ now: '2026-03-01T10:00:00.000Z', webhooks: true });
  for (const subject of ['alice', 'bob', 'carol', 'dave']) {
    await decided(w, subject);
  }
  return w;
}

/** Starts, completes and collects a passing check of `subject`. */
async function decided(w: FakeWorld, subject: string) {
  const s = await startFor(w, subject);
  await w.sessions.mutate(s.sessionId, (c) => ({ ...c, status: 'Started', completionRequestedDateTime: w.clock.now().toISOString() }));
  w.face.addSucceededAttempt(s.faceSessionId, { matchConfidence: 0.93 });
  expect(await handleCompletionMessage(w.deps, { sessionId: s.sessionId, try: 1 })).toBe('collected');
  return s;
}

const clone = <T>(x: T): T => structuredClone(x);

describe('evidence records', () => {
  it('canonical JSON (RFC 8785): key order and number forms do not change the hash', () => {
    expect(canonicalJson({ b: 1, a: [1e21, 0.1, 'é'] })).toBe('{"a":[1e+21,0.1,"é"],"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('a decision, a consent and an erasure each append one record of keyed ids only (no raw subject, no session id)', async () => {
    const w = await busyWorld();
    const all = w.evidence.all();
    const types = all.map((r) => r.record.type);
    expect(types.filter((t) => t === 'session.decided')).toHaveLength(4);
    expect(types.filter((t) => t === 'consent.recorded')).toHaveLength(4);
    const text = JSON.stringify(all);
    for (const subject of ['alice', 'bob', 'carol', 'dave']) expect(text).not.toMatch(new RegExp(`"${subject}"`));
    for (const s of w.sessions.all()) expect(text).not.toContain(s.sessionId);
    // One subject's records stay in one chain, in order.
    const alice = w.subjects.keyOf('alice');
    expect(new Set(all.filter((r) => r.record.subjectKey === alice).map((r) => r.record.chain))).toEqual(new Set([chainOf({ subjectKey: alice, recordId: 'x' })]));
  });

  it('the decided event carries its record hash; the record is in the log', async () => {
    const w = await busyWorld();
    const decided = w.webhookQueue.events().filter((e) => e.type === 'liveness.session.decided');
    expect(decided).toHaveLength(4);
    const hashes = new Set(w.evidence.all().map((r) => r.hash));
    for (const e of decided) expect(hashes.has((e.data.evidence as { recordHash: string }).recordHash)).toBe(true);
  });

  it('a review settlement and a session delete append their records', async () => {
    const w = fakeWorld({ now: '2026-03-01T10:00:00.000Z', settings: { policy: { matchThreshold: 0.8, reviewLowerBound: 0.1 } } });
    const s = await startFor(w, 'erin');
    await w.sessions.mutate(s.sessionId, (x) => ({ ...x, status: 'ResultAvailable', decision: { outcome: 'review', reasons: [], attemptId: 1, verifyImageHashMatches: true, policyVersion: 'p', decidedDateTime: '2026-03-01T10:00:00.000Z' } }));
    await settleReview(w.deps, s.sessionId, { outcome: 'pass', reason: 'ok' }, 'r');
    await deleteSession(w.deps, s.sessionId);
    expect(w.evidence.all().map((r) => r.record.type)).toEqual(expect.arrayContaining(['review.settled', 'session.deleted']));
  });
});

describe('checkpoints and offline verification', () => {
  it('an untouched export verifies: every link, every signature', async () => {
    const w = await busyWorld();
    await writeCheckpoint(w.deps);
    const exported = await exportEvidence(w.deps, FROM, TO);
    expect(exported.records).toHaveLength(8);
    expect(verifyExport(exported)).toMatchObject({ ok: true, checkpoints: 1, records: 8 });
  });

  it('a checkpoint with no new records since the latest is not written again', async () => {
    const w = await busyWorld();
    expect((await writeCheckpoint(w.deps)).created).toBe(true);
    expect((await writeCheckpoint(w.deps)).created).toBe(false);
  });

  async function exported(): Promise<EvidenceExport> {
    const w = await busyWorld();
    await writeCheckpoint(w.deps);
    return exportEvidence(w.deps, FROM, TO);
  }

  /** Index of the second record of the chain holding the most records (so a record follows it). */
  function middleOf(e: EvidenceExport): number {
    const counts = new Map<number, number>();
    e.records.forEach((r) => counts.set(r.record.chain, (counts.get(r.record.chain) ?? 0) + 1));
    const chain = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    return e.records.findIndex((r) => r.record.chain === chain && r.record.seq === 2);
  }

  it('a changed record fails and is named', async () => {
    const e = await exported();
    const i = middleOf(e);
    const bad = clone(e);
    bad.records[i]!.record.digest = 'f'.repeat(64);
    const report = verifyExport(bad);
    expect(report.ok).toBe(false);
    expect(report.problem).toContain(`id ${e.records[i]!.record.recordId}`);
    expect(report.problem).toContain('changed');
  });

  it('a changed record whose hash was recomputed fails (the next link and the checkpoint disagree) and is named', async () => {
    const e = await exported();
    const i = middleOf(e);
    const bad = clone(e);
    bad.records[i]!.record.digest = 'f'.repeat(64);
    bad.records[i]!.hash = recordHash(bad.records[i]!.record);
    const report = verifyExport(bad);
    expect(report.ok).toBe(false);
    expect(report.problem).toContain(`id ${e.records[i]!.record.recordId}`);
  });

  it('a removed record fails, naming where the gap is', async () => {
    const e = await exported();
    const i = middleOf(e) - 1; // the chain's first record
    const bad = clone(e);
    const removed = bad.records.splice(i, 1)[0]!.record;
    const report = verifyExport(bad);
    expect(report.ok).toBe(false);
    expect(report.problem).toContain(`chain ${removed.chain} seq ${removed.seq} is missing`);
  });

  it('two reordered records fail, naming the first out of place', async () => {
    const e = await exported();
    const i = middleOf(e);
    const bad = clone(e);
    [bad.records[i - 1], bad.records[i]] = [bad.records[i]!, bad.records[i - 1]!];
    const report = verifyExport(bad);
    expect(report.ok).toBe(false);
    expect(report.problem).toContain(`id ${e.records[i]!.record.recordId}`);
  });

  it('a forged checkpoint (heads changed after signing) fails', async () => {
    const e = await exported();
    const bad = clone(e);
    const [h, p, s] = bad.checkpoints[0]!.jws.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.heads[0].seq += 1;
    bad.checkpoints[0]!.jws = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expect(verifyExport(bad).problem).toMatch(/checkpoint 0 .*bad signature/);
  });

  it('a checkpoint signed by a key the export does not list fails', async () => {
    const e = await exported();
    const bad = clone(e);
    bad.keys.keys = [];
    expect(verifyExport(bad).problem).toMatch(/unknown key/);
  });

  it('key rotation keeps old checkpoints verifiable (the old key stays published)', async () => {
    const w = await busyWorld();
    await writeCheckpoint(w.deps);
    const oldKid = await w.evidenceSigner.currentKeyId();
    w.evidenceSigner.rotate();
    w.clock.advance({ seconds: 60 });
    await decided(w, 'frank');
    await writeCheckpoint(w.deps);
    const e = await exportEvidence(w.deps, FROM, TO);
    const kids = e.checkpoints.map((c) => JSON.parse(Buffer.from(c.jws.split('.')[0]!, 'base64url').toString()).kid);
    expect(kids).toEqual([oldKid, await w.evidenceSigner.currentKeyId()]);
    expect(verifyExport(e)).toMatchObject({ ok: true, checkpoints: 2 });
    // An export of only the later range starts from the earlier checkpoint (its base), still signed by the old key.
    const later = await exportEvidence(w.deps, new Date(w.clock.now().getTime() - 1000).toISOString(), TO);
    expect(later.baseCheckpointId).toBe(e.checkpoints[0]!.checkpointId);
    expect(later.records.map((r) => r.record.type)).toEqual(expect.arrayContaining(['session.decided', 'consent.recorded']));
    expect(verifyExport(later)).toMatchObject({ ok: true, checkpoints: 2 });
  });

  it("an erasure receipt's record is in the export, covered by a checkpoint, and is the digest of that receipt", async () => {
    const w = await busyWorld();
    const alice = w.subjects.keyOf('alice');
    const receipt = await eraseSubject(w.deps, alice, 'admin-key');
    expect(receipt.evidence).toMatchObject({ recordHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(receipt.evidence?.checkpointId).toBeUndefined();
    expect(verifyExport(await exportEvidence(w.deps, FROM, TO), [receipt]).problem).toMatch(/not in the export/);
    const { checkpoint } = await writeCheckpoint(w.deps);
    // The export of the subject names the covering checkpoint once there is one.
    const shown = (await exportSubject(w.deps, alice)).deletionReceipts[0]!;
    expect(shown.evidence?.checkpointId).toBe(checkpoint.checkpointId);
    const e = await exportEvidence(w.deps, FROM, TO);
    expect(verifyExport(e, [shown])).toMatchObject({ ok: true, receipts: 1 });
    // A receipt whose counts were edited no longer matches its record.
    expect(verifyExport(e, [{ ...shown, deleted: { ...shown.deleted, sessions: 0 } }]).problem).toMatch(/differs from what/);
    // Its record removed from the export: named as missing.
    const without = clone(e);
    without.records = without.records.filter((r) => r.hash !== receipt.evidence!.recordHash);
    expect(verifyExport(without, [shown]).ok).toBe(false);
  });

  it('a resumed erasure answers the same receipt and appends no second record', async () => {
    const w = await busyWorld();
    const bob = w.subjects.keyOf('bob');
    const first = await eraseSubject(w.deps, bob, 'admin-key');
    const again = await eraseSubject(w.deps, bob, 'admin-key');
    expect(again).toEqual(first);
    expect(w.evidence.all().filter((r) => r.record.type === 'subject.erased')).toHaveLength(1);
  });

  it(`checkpoint cost does not depend on how many records the log holds (${EVIDENCE_CHAINS} head reads)`, async () => {
    const w = await busyWorld();
    w.evidence.calls.heads = 0;
    await writeCheckpoint(w.deps);
    expect(w.evidence.calls).toMatchObject({ heads: 1, putCheckpoint: 1, listRecords: 0, listCheckpoints: 0 });
  });
});
