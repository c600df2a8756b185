// The evidence log: one tamper-evident record per decision (automatic or reviewed), review settlement, session
// deletion, subject erasure, reference enrolment or removal and consent given. A record is canonical JSON (RFC 8785,
// `canonicalize`) holding the type, the time, keyed ids only (the subject key, a hash of the session id; never an
// image or a raw subject), the SHA-256 of what was decided, its chain, its sequence number and the previous record's
// hash. Its hash is the SHA-256 of that canonical JSON.
//
// Records go to EVIDENCE_CHAINS hash chains, chosen by the subject key (else the session): appends from many
// instances then contend only when they concern subjects on the same chain, and one subject's records stay in one
// chain, in order. A checkpoint lists every chain's head (sequence number and hash) and is signed (ES256, as a JWS);
// it is written by the sweep and on demand, and its cost is one read per chain whatever the log holds.
//
// Use cases do not append inside their conditional writes (which may run more than once): a session change adds an
// entry to the session's evidence outbox (`pendingEvidence`, written with the change, like events), and
// recordPendingEvidence appends it right after, before the session's events are published, so a decided event
// carries its record's hash. Appends are idempotent by record id, so a crash in between only delays the record
// until the sweep (the outbox makes the session due soon).
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { timeOrderedId } from './ids.js';
import { updateSession, type LivenessDeps } from './deps.js';
import type { LivenessSession } from './session.js';

/**
 * 16 chains. Each append is a read of the chain's head and one conditional batch write in the chain's partition, so
 * one chain takes appends one after another (a few ms each on Azure Table, well under a partition's ~2,000 ops/s);
 * 16 lets 16 appends for different subjects proceed at once, far more than decisions arrive (Face sessions are
 * scarce), while a checkpoint stays 16 point reads and an export 16 key-range reads. Fixed: records never move.
 */
export const EVIDENCE_CHAINS = 16;
/** The `prev` of a chain's first record, and the head of an empty chain. */
export const GENESIS_HASH = '0'.repeat(64);

export {
  EVIDENCE_TYPES, type ChainHead, type CheckpointPayload, type EvidenceEntry, type EvidenceRecord, type EvidenceRef, type EvidenceType,
  type SignedCheckpoint, type StoredEvidence,
} from './evidence-record.js';
import type {
  CheckpointPayload, EvidenceEntry, EvidenceRecord, EvidenceRef, EvidenceType, SignedCheckpoint, StoredEvidence,
} from './evidence-record.js';

export const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** RFC 8785 canonical JSON. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value cannot be canonicalized');
  return text;
}

export const digestOf = (facts: unknown) => sha256Hex(canonicalJson(facts));
export const recordHash = (record: EvidenceRecord) => sha256Hex(canonicalJson(record));
export const sessionRef = (sessionId: string) => sha256Hex(`session|${sessionId}`);

/** The chain of a record: by subject key (else session ref, else record id), so one subject's records stay in order. */
export function chainOf(entry: Pick<EvidenceEntry, 'subjectKey' | 'sessionRef' | 'recordId'>): number {
  const basis = entry.subjectKey ?? entry.sessionRef ?? entry.recordId;
  return createHash('sha256').update(basis).digest().readUInt32BE(0) % EVIDENCE_CHAINS;
}

export function refOf(stored: StoredEvidence): EvidenceRef {
  return { recordId: stored.record.recordId, recordHash: stored.hash, chain: stored.record.chain, seq: stored.record.seq };
}

// --- Entries, one builder per kind of event ---------------------------------------------------------------------

/** The chain a session's records go to (its subject's, else its own). */
export function sessionChain(session: LivenessSession): number {
  return chainOf({ ...sessionIds(session), recordId: session.sessionId });
}

function sessionIds(session: LivenessSession) {
  return { ...(session.subjectKey ? { subjectKey: session.subjectKey } : {}), sessionRef: sessionRef(session.sessionId) };
}

export function decidedEntry(session: LivenessSession): EvidenceEntry {
  const d = session.decision!;
  return {
    recordId: `session.decided|${sessionRef(session.sessionId)}`, type: 'session.decided', time: d.decidedDateTime, ...sessionIds(session),
    digest: digestOf({
      outcome: d.outcome, reasons: d.reasons, attemptId: d.attemptId, faceDigest: d.digest ?? null,
      verifyImageSha256: session.storedVerifyImage.sha256, referenceId: session.reference?.referenceId ?? null,
      modelVersion: d.modelVersion ?? null, policyVersion: d.policyVersion, status: session.status,
    }),
  };
}

export function reviewEntry(session: LivenessSession): EvidenceEntry {
  const r = session.review!;
  return {
    recordId: `review.settled|${sessionRef(session.sessionId)}`, type: 'review.settled', time: r.reviewedDateTime, ...sessionIds(session),
    digest: digestOf({ outcome: r.outcome, reason: r.reason, reviewer: r.reviewer, automatedOutcome: session.decision?.outcome ?? null }),
  };
}

export function sessionDeletedEntry(session: LivenessSession, at: Date): EvidenceEntry {
  return {
    recordId: `session.deleted|${sessionRef(session.sessionId)}`, type: 'session.deleted', time: at.toISOString(), ...sessionIds(session),
    digest: digestOf({ sessionRef: sessionRef(session.sessionId), status: session.status }),
  };
}

export function consentEntry(session: LivenessSession): EvidenceEntry {
  return {
    recordId: `consent.recorded|${sessionRef(session.sessionId)}`, type: 'consent.recorded', time: session.createdDateTime, ...sessionIds(session),
    digest: digestOf({ consentVersion: session.consentVersion ?? null, givenDateTime: session.createdDateTime }),
  };
}

/** The fields of a deletion receipt its record's digest covers (everything but the evidence reference). */
export function receiptFacts(receipt: { receiptId: string; subjectKey: string; requestedDateTime: string; completedDateTime: string; requestedBy: string; deleted: Record<string, number> }) {
  const { receiptId, subjectKey, requestedDateTime, completedDateTime, requestedBy, deleted } = receipt;
  return { receiptId, subjectKey, requestedDateTime, completedDateTime, requestedBy, deleted };
}

export function referenceEntry(type: 'reference.enrolled' | 'reference.removed', subjectKey: string, reference: { referenceId: string; sha256: string; source?: string }, at: Date): EvidenceEntry {
  return {
    recordId: `${type}|${reference.referenceId}`, type, time: at.toISOString(), subjectKey, referenceId: reference.referenceId,
    digest: digestOf({ referenceId: reference.referenceId, sha256: reference.sha256, source: reference.source ?? null }),
  };
}

/**
 * A verification link was issued (create, reissue) or exchanged (opened): who, which link (by its issue time) and
 * when; never a token or its hash. In the person's chain, found by the verification's id.
 */
export function verificationLinkEntry(
  type: 'verification.link.issued' | 'verification.link.exchanged',
  v: { verificationId: string; subjectKey: string; owner: string; linkIssuedDateTime: string; linkExpiresDateTime: string },
  at: Date,
): EvidenceEntry {
  return {
    recordId: `${type}|${v.verificationId}|${v.linkIssuedDateTime}`, type, time: at.toISOString(), subjectKey: v.subjectKey,
    digest: digestOf({ verificationId: v.verificationId, owner: v.owner, linkIssuedDateTime: v.linkIssuedDateTime, linkExpiresDateTime: v.linkExpiresDateTime }),
  };
}

// --- Appending ---------------------------------------------------------------------------------------------------

/** Appends one record (idempotent by record id). */
export function appendEvidence(deps: Pick<LivenessDeps, 'evidence'>, entry: EvidenceEntry): Promise<StoredEvidence> {
  return deps.evidence.append(entry, chainOf(entry));
}

/** Adds an entry to the session's evidence outbox (call inside a session change, on the record it returns). */
export function withEvidence(session: LivenessSession, entry: EvidenceEntry): LivenessSession {
  if ((session.pendingEvidence ?? []).some((e) => e.recordId === entry.recordId)) return session;
  return { ...session, pendingEvidence: [...(session.pendingEvidence ?? []), entry] };
}

/**
 * Appends the session's pending evidence, then, in one session write, removes it from the outbox, remembers where
 * each record sits (`evidence`) and stamps the decided event still in the event outbox with its record. A failure is
 * logged and leaves the outbox for the sweep; the caller then holds the events back too.
 * @returns the session as written, and whether the outbox is empty now
 */
export async function recordPendingEvidence(deps: LivenessDeps, session: LivenessSession): Promise<{ session: LivenessSession; done: boolean }> {
  // Another writer may add to the outbox meanwhile (a collection's decision while the sweep appends the consent
  // record): what it added is appended too, in a further round, instead of being left for the next sweep.
  let current = session;
  for (let round = 0; round < 3; round++) {
    const step = await recordOnce(deps, current);
    if (step.done || !step.appended) return { session: step.session, done: step.done };
    current = step.session;
  }
  return { session: current, done: (current.pendingEvidence ?? []).length === 0 };
}

/** One round of recordPendingEvidence: appends what the outbox holds now and clears those entries. */
async function recordOnce(deps: LivenessDeps, session: LivenessSession): Promise<{ session: LivenessSession; done: boolean; appended: boolean }> {
  const pending = session.pendingEvidence ?? [];
  if (pending.length === 0) return { session, done: true, appended: false };
  let refs: Array<{ type: EvidenceType; ref: EvidenceRef }>;
  try {
    refs = [];
    for (const entry of pending) refs.push({ type: entry.type, ref: refOf(await appendEvidence(deps, entry)) });
  } catch (error) {
    deps.logger.warn('could not append evidence; the sweep retries', { sessionId: session.sessionId, error: (error as Error).name });
    return { session, done: false, appended: false };
  }
  const appended = new Set(refs.map((r) => r.ref.recordId));
  const written = await updateSession(deps, session, (current) => {
    const before = current.pendingEvidence ?? [];
    const rest = before.filter((e) => !appended.has(e.recordId));
    if (rest.length === before.length) return undefined;
    const decided = refs.find((r) => r.type === 'session.decided')?.ref;
    return {
      ...current,
      pendingEvidence: rest,
      evidence: [...(current.evidence ?? []).filter((r) => !appended.has(r.recordId)), ...refs.map((r) => r.ref)],
      ...(decided && current.pendingEvents ? {
        pendingEvents: current.pendingEvents.map((e) => (e.type === 'liveness.session.decided'
          ? { ...e, data: { ...e.data, evidence: { recordHash: decided.recordHash, chain: decided.chain, seq: decided.seq } } }
          : e)),
      } : {}),
    };
  });
  // No row any more (deleted meanwhile): nothing is left waiting on it.
  if (!written) return { session, done: true, appended: true };
  return { session: written, done: (written.pendingEvidence ?? []).length === 0, appended: true };
}

// --- Checkpoints, proofs and exports -----------------------------------------------------------------------------

const b64url = (data: string | Uint8Array) => Buffer.from(data).toString('base64url');

/**
 * Signs the chain heads as they are now, unless nothing was appended since the latest checkpoint (then that one is
 * returned). Costs one read per chain, one read of the latest checkpoint, one signature and two writes, whatever the
 * log holds.
 */
export async function writeCheckpoint(deps: Pick<LivenessDeps, 'evidence' | 'evidenceSigner' | 'clock'>): Promise<{ checkpoint: SignedCheckpoint; created: boolean }> {
  const [heads, latest] = await Promise.all([deps.evidence.heads(), deps.evidence.latestCheckpoint()]);
  if (latest) {
    const before = decodeCheckpoint(latest).heads;
    if (heads.every((h) => before.some((b) => b.chain === h.chain && b.seq === h.seq && b.hash === h.hash))) {
      return { checkpoint: latest, created: false };
    }
  }
  const now = deps.clock.now();
  const payload: CheckpointPayload = {
    v: 1, checkpointId: timeOrderedId(now.getTime()), time: now.toISOString(),
    ...(latest ? { previous: { checkpointId: latest.checkpointId, time: latest.time } } : {}),
    heads,
  };
  const kid = await deps.evidenceSigner.currentKeyId();
  const signingInput = `${b64url(canonicalJson({ alg: 'ES256', kid, typ: 'evidence-checkpoint+jws' }))}.${b64url(canonicalJson(payload))}`;
  const signature = await deps.evidenceSigner.sign(kid, new TextEncoder().encode(signingInput));
  const checkpoint: SignedCheckpoint = { checkpointId: payload.checkpointId, time: payload.time, jws: `${signingInput}.${b64url(signature)}` };
  await deps.evidence.putCheckpoint(checkpoint);
  return { checkpoint, created: true };
}

/** The payload of a checkpoint's JWS (unverified: verifyExport checks signatures). */
export function decodeCheckpoint(checkpoint: SignedCheckpoint): CheckpointPayload {
  const payload = checkpoint.jws.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as CheckpointPayload;
}

/** How many checkpoints after a record are looked at for the first one that covers it. */
const COVER_SEARCH = 20;

/** The first checkpoint whose head of the record's chain is at or past it, if one was written yet. */
export async function coveringCheckpoint(deps: Pick<LivenessDeps, 'evidence'>, ref: Pick<EvidenceRef, 'chain' | 'seq'>, since: string): Promise<SignedCheckpoint | undefined> {
  const candidates = await deps.evidence.listCheckpoints(since, undefined, COVER_SEARCH);
  return candidates.find((c) => (decodeCheckpoint(c).heads.find((h) => h.chain === ref.chain)?.seq ?? 0) >= ref.seq);
}

/** A reference with the covering checkpoint's id added once there is one. */
export async function withCheckpoint(deps: Pick<LivenessDeps, 'evidence'>, ref: EvidenceRef, since: string): Promise<EvidenceRef> {
  if (ref.checkpointId) return ref;
  const covering = await coveringCheckpoint(deps, ref, since);
  return covering ? { ...ref, checkpointId: covering.checkpointId } : ref;
}

export const EVIDENCE_EXPORT_FORMAT = 'liveness-evidence-export/1';

export interface EvidenceExport {
  format: typeof EVIDENCE_EXPORT_FORMAT;
  from: string;
  to: string;
  exportedDateTime: string;
  /** The checkpoint the export starts from (its heads are the records' predecessors); absent from the log's start. */
  baseCheckpointId?: string;
  /** The signing keys' public halves (JWKS), old ones included. */
  keys: { keys: Array<Record<string, unknown>> };
  /** The base checkpoint first (when there is one), then every checkpoint written in [from, to], oldest first. */
  checkpoints: SignedCheckpoint[];
  /** Every record those checkpoints cover after the base, chain by chain, in sequence order. */
  records: StoredEvidence[];
}

/** The back office's export: the checkpoints of a time range and every record they cover (key-range reads only). */
export async function exportEvidence(deps: Pick<LivenessDeps, 'evidence' | 'evidenceSigner' | 'clock'>, from: string, to: string): Promise<EvidenceExport> {
  const inRange = await deps.evidence.listCheckpoints(from, to);
  const first = inRange[0] ? decodeCheckpoint(inRange[0]) : undefined;
  const base = first?.previous ? await deps.evidence.getCheckpoint(first.previous.time, first.previous.checkpointId) : undefined;
  const startHeads = base ? decodeCheckpoint(base).heads : [];
  const lastHeads = inRange.length ? decodeCheckpoint(inRange[inRange.length - 1]!).heads : [];
  const records: StoredEvidence[] = [];
  for (const head of lastHeads) {
    const fromSeq = (startHeads.find((h) => h.chain === head.chain)?.seq ?? 0) + 1;
    if (head.seq >= fromSeq) records.push(...await deps.evidence.listRecords(head.chain, fromSeq, head.seq));
  }
  return {
    format: EVIDENCE_EXPORT_FORMAT, from, to, exportedDateTime: deps.clock.now().toISOString(),
    ...(base ? { baseCheckpointId: base.checkpointId } : {}),
    keys: { keys: await deps.evidenceSigner.publicKeys() },
    checkpoints: [...(base ? [base] : []), ...inRange],
    records,
  };
}
