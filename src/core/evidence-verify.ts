// Offline verification of an evidence export (what `npm run evidence:verify` runs, and what a third party can
// re-implement from the README): every checkpoint's ES256 signature against the export's keys (which an auditor
// compares with GET /api/evidence/keys), every record's hash, every chain link (sequence numbers without gaps, each
// `prev` the hash of the record before, the first one linked to the base checkpoint's head), every checkpoint head
// against the record it names, and, for each receipt given, that its record is present, covered by a signed
// checkpoint and is the digest of exactly that receipt. The first problem is named by chain, sequence and record id.
import { createPublicKey, verify } from 'node:crypto';
import {
  canonicalJson, digestOf, EVIDENCE_CHAINS, EVIDENCE_EXPORT_FORMAT, GENESIS_HASH, receiptFacts, recordHash,
  type CheckpointPayload, type EvidenceExport, type EvidenceRecord, type StoredEvidence,
} from './evidence.js';

export interface VerifyReport {
  ok: boolean;
  /** The first problem found, naming the record or checkpoint. */
  problem?: string;
  checkpoints: number;
  records: number;
  receipts: number;
}

/** A receipt as the API answers it (DELETE /api/subjects/{key}, or the export's deletionReceipts). */
export interface ReceiptToCheck {
  receiptId: string; subjectKey: string; requestedDateTime: string; completedDateTime: string; requestedBy: string;
  deleted: Record<string, number>; evidence?: { recordHash: string };
}

class Bad extends Error {}

const name = (r: EvidenceRecord | undefined, position: number) =>
  r ? `record ${position} (chain ${r.chain}, seq ${r.seq}, id ${r.recordId})` : `record ${position}`;

function verifyCheckpoint(jws: string, keys: Map<string, Record<string, unknown>>): CheckpointPayload {
  const [h, p, s] = jws.split('.');
  if (!h || !p || !s) throw new Bad('not a JWS compact serialization');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
  if (header.alg !== 'ES256') throw new Bad(`unexpected algorithm ${String(header.alg)}`);
  const jwk = header.kid ? keys.get(header.kid) : undefined;
  if (!jwk) throw new Bad(`signed with an unknown key ${String(header.kid)}`);
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!ok) throw new Bad('bad signature');
  return JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as CheckpointPayload;
}

export function verifyExport(exported: EvidenceExport, receipts: ReceiptToCheck[] = []): VerifyReport {
  const report: VerifyReport = { ok: false, checkpoints: 0, records: 0, receipts: 0 };
  try {
    if (exported.format !== EVIDENCE_EXPORT_FORMAT) throw new Bad(`not an evidence export (format ${String(exported.format)})`);
    const keys = new Map(exported.keys.keys.filter((k) => typeof k.kid === 'string').map((k) => [k.kid as string, k]));

    // 1. Checkpoints: signatures, then order.
    const payloads = exported.checkpoints.map((c, i) => {
      try {
        const payload = verifyCheckpoint(c.jws, keys);
        if (payload.checkpointId !== c.checkpointId || payload.time !== c.time) throw new Bad('its id or time differs from the signed ones');
        return payload;
      } catch (error) {
        if (error instanceof Bad) throw new Bad(`checkpoint ${i} (${c.checkpointId}): ${error.message}`);
        throw new Bad(`checkpoint ${i} (${c.checkpointId}): unreadable`);
      }
    });
    report.checkpoints = payloads.length;
    for (let i = 1; i < payloads.length; i++) {
      if (payloads[i]!.time < payloads[i - 1]!.time) throw new Bad(`checkpoint ${i} (${payloads[i]!.checkpointId}) is older than the one before it`);
    }
    const base = exported.baseCheckpointId ? payloads[0] : undefined;
    if (exported.baseCheckpointId && base?.checkpointId !== exported.baseCheckpointId) throw new Bad('the base checkpoint is not the first one');

    // 2. Records: each hash, then each link, in the order the export lists them.
    const expected = new Map<number, { seq: number; hash: string }>();
    for (let c = 0; c < EVIDENCE_CHAINS; c++) {
      const head = base?.heads.find((h) => h.chain === c);
      expected.set(c, { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH });
    }
    const bySeq = new Map<string, string>(); // `${chain}|${seq}` -> hash
    for (const h of base?.heads ?? []) bySeq.set(`${h.chain}|${h.seq}`, h.hash);
    const records: StoredEvidence[] = exported.records;
    for (let i = 0; i < records.length; i++) {
      const { record, hash } = records[i]!;
      const here = name(record, i);
      if (!Number.isInteger(record.chain) || record.chain < 0 || record.chain >= EVIDENCE_CHAINS) throw new Bad(`${here}: no such chain`);
      if (recordHash(record) !== hash) throw new Bad(`${here}: its content does not match its hash (changed after it was written)`);
      const want = expected.get(record.chain)!;
      if (record.seq !== want.seq + 1) {
        throw new Bad(record.seq > want.seq + 1
          ? `${here}: chain ${record.chain} seq ${want.seq + 1} is missing before it (removed, or out of order)`
          : `${here}: out of order (chain ${record.chain} already reached seq ${want.seq})`);
      }
      if (record.prev !== want.hash) {
        const before = records.slice(0, i).reverse().find((r) => r.record.chain === record.chain);
        throw new Bad(before
          ? `${name(before.record, records.indexOf(before))}: its hash is not the one the next record links to (changed after it was written)`
          : `${here}: does not link to the base checkpoint's head of chain ${record.chain}`);
      }
      expected.set(record.chain, { seq: record.seq, hash });
      bySeq.set(`${record.chain}|${record.seq}`, hash);
    }
    report.records = records.length;

    // 3. Every head each checkpoint signed must be a record in the export (or the base's).
    for (const [i, p] of payloads.entries()) {
      for (const head of p.heads) {
        if (head.seq === 0) continue;
        const found = bySeq.get(`${head.chain}|${head.seq}`);
        if (found === undefined) throw new Bad(`checkpoint ${i} (${p.checkpointId}): signs chain ${head.chain} seq ${head.seq}, which the export lacks`);
        if (found !== head.hash) {
          const r = records.find((x) => x.record.chain === head.chain && x.record.seq === head.seq);
          throw new Bad(`${name(r?.record, r ? records.indexOf(r) : -1)}: not the record checkpoint ${p.checkpointId} signed`);
        }
      }
    }

    // 4. Receipts: present, covered by a signed checkpoint, and the digest of exactly this receipt.
    for (const receipt of receipts) {
      const hash = receipt.evidence?.recordHash;
      const at = records.findIndex((r) => r.hash === hash);
      if (!hash || at < 0) throw new Bad(`receipt ${receipt.receiptId}: its record ${hash ?? '(none named)'} is not in the export`);
      const r = records[at]!.record;
      if (r.type !== 'subject.erased' || r.receiptId !== receipt.receiptId) throw new Bad(`receipt ${receipt.receiptId}: ${name(r, at)} is not its erasure record`);
      if (r.digest !== digestOf(receiptFacts(receipt))) throw new Bad(`receipt ${receipt.receiptId}: differs from what ${name(r, at)} recorded`);
      if (!payloads.some((p) => (p.heads.find((h) => h.chain === r.chain)?.seq ?? 0) >= r.seq)) {
        throw new Bad(`receipt ${receipt.receiptId}: ${name(r, at)} is covered by no checkpoint in the export`);
      }
      report.receipts++;
    }
    report.ok = true;
  } catch (error) {
    if (!(error instanceof Bad)) throw error;
    report.problem = error.message;
  }
  return report;
}

/** Canonical JSON of a whole export (for storing it byte-stably). */
export const canonicalExport = (exported: EvidenceExport) => canonicalJson(exported);
