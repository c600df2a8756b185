// The evidence log and its signer in memory: the Table adapter's algorithm (src/adapters/storage/table-evidence-log.ts)
// over maps (a head per chain, records by seq, an id index for idempotent appends, checkpoints in time order), and
// an ES256 signer with keys made in process that can rotate (old keys stay published, as in Key Vault).
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  EVIDENCE_CHAINS, GENESIS_HASH, recordHash, type ChainHead, type EvidenceEntry, type EvidenceRecord, type SignedCheckpoint,
  type StoredEvidence,
} from '../../src/core/evidence.js';
import type { EvidenceLog, EvidenceSigner, SubjectActivity } from '../../src/core/ports.js';

export class InMemoryEvidenceLog implements EvidenceLog {
  readonly chains = new Map<number, StoredEvidence[]>();
  readonly checkpoints: SignedCheckpoint[] = [];
  calls = { append: 0, heads: 0, putCheckpoint: 0, listCheckpoints: 0, listRecords: 0 };
  /** Makes the next appends fail (an outage). */
  failAppends = 0;
  /** Makes each append take a turn of the event loop, so appends can overlap (as on Table storage). */
  slowAppends = false;
  /** The most appends to one chain that were under way at once (contention the Table adapter pays retries for). */
  maxConcurrentPerChain = 0;
  private readonly inFlight = new Map<number, number>();

  async append(entry: EvidenceEntry, chain: number): Promise<StoredEvidence> {
    this.calls.append++;
    const now = (this.inFlight.get(chain) ?? 0) + 1;
    this.inFlight.set(chain, now);
    this.maxConcurrentPerChain = Math.max(this.maxConcurrentPerChain, now);
    try {
      if (this.slowAppends) await new Promise((resolve) => setImmediate(resolve));
      return this.appendNow(entry, chain);
    } finally {
      this.inFlight.set(chain, (this.inFlight.get(chain) ?? 1) - 1);
    }
  }

  private appendNow(entry: EvidenceEntry, chain: number): StoredEvidence {
    if (this.failAppends > 0) {
      this.failAppends--;
      throw Object.assign(new Error('evidence log down'), { name: 'StorageUnavailableError' });
    }
    const records = this.chains.get(chain) ?? [];
    const existing = records.find((r) => r.record.recordId === entry.recordId);
    if (existing) return structuredClone(existing);
    const last = records.at(-1);
    const record: EvidenceRecord = { v: 1, ...entry, chain, seq: (last?.record.seq ?? 0) + 1, prev: last?.hash ?? GENESIS_HASH };
    const stored = { record, hash: recordHash(record) };
    this.chains.set(chain, [...records, stored]);
    return structuredClone(stored);
  }

  async heads(): Promise<ChainHead[]> {
    this.calls.heads++;
    return Array.from({ length: EVIDENCE_CHAINS }, (_, chain) => {
      const last = this.chains.get(chain)?.at(-1);
      return { chain, seq: last?.record.seq ?? 0, hash: last?.hash ?? GENESIS_HASH };
    });
  }

  async putCheckpoint(checkpoint: SignedCheckpoint): Promise<void> {
    this.calls.putCheckpoint++;
    this.checkpoints.push(checkpoint);
    this.checkpoints.sort((a, b) => `${a.time}|${a.checkpointId}`.localeCompare(`${b.time}|${b.checkpointId}`));
  }

  async latestCheckpoint(): Promise<SignedCheckpoint | undefined> {
    return this.checkpoints.at(-1);
  }

  async getCheckpoint(time: string, checkpointId: string): Promise<SignedCheckpoint | undefined> {
    return this.checkpoints.find((c) => c.time === time && c.checkpointId === checkpointId);
  }

  async listCheckpoints(from: string, to?: string, top?: number): Promise<SignedCheckpoint[]> {
    this.calls.listCheckpoints++;
    const found = this.checkpoints.filter((c) => c.time >= from && (to === undefined || c.time <= to));
    return top === undefined ? found : found.slice(0, top);
  }

  async listRecords(chain: number, fromSeq: number, toSeq: number): Promise<StoredEvidence[]> {
    this.calls.listRecords++;
    return structuredClone((this.chains.get(chain) ?? []).filter((r) => r.record.seq >= fromSeq && r.record.seq <= toSeq));
  }

  /** Every record, chain by chain (test helper). */
  all(): StoredEvidence[] {
    return [...this.chains.keys()].sort((a, b) => a - b).flatMap((c) => this.chains.get(c)!);
  }
}

export class MemoryEvidenceSigner implements EvidenceSigner {
  private readonly keys: Array<{ kid: string; privateKey: KeyObject; publicJwk: Record<string, unknown> }> = [];

  constructor() {
    this.rotate();
  }

  /** A new current key; the old ones stay published. @returns its kid */
  rotate(): string {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = `test-key-${this.keys.length + 1}`;
    this.keys.push({ kid, privateKey, publicJwk: publicKey.export({ format: 'jwk' }) as Record<string, unknown> });
    return kid;
  }

  async currentKeyId(): Promise<string> {
    return this.keys.at(-1)!.kid;
  }

  async sign(keyId: string, data: Uint8Array): Promise<Uint8Array> {
    const key = this.keys.find((k) => k.kid === keyId)!;
    return sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  }

  async publicKeys(): Promise<Array<Record<string, unknown>>> {
    return this.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: 'ES256', use: 'sig' }));
  }
}

/** The activity index (table-subject-activity.ts) in memory: one row per subject, keyed by the day of its last interaction. */
export class InMemorySubjectActivity implements SubjectActivity {
  /** `${yyyyMMdd}|${subjectKey}` -> seen */
  readonly rows = new Map<string, string>();

  async touch(subjectKey: string, at: Date, before?: string): Promise<void> {
    if (before && day(before) === day(at.toISOString())) return;
    this.rows.set(`${day(at.toISOString())}|${subjectKey}`, at.toISOString());
    if (before) this.rows.delete(`${day(before)}|${subjectKey}`);
  }

  async listIdle(before: Date, top: number): Promise<Array<{ subjectKey: string; seen: string }>> {
    const cut = day(before.toISOString());
    return [...this.rows].filter(([k]) => k.split('|')[0]! < cut).sort(([a], [b]) => a.localeCompare(b)).slice(0, top)
      .map(([k, seen]) => ({ subjectKey: k.split('|')[1]!, seen }));
  }

  async remove(subjectKey: string, seen: string): Promise<void> {
    this.rows.delete(`${day(seen)}|${subjectKey}`);
  }
}

const day = (iso: string) => iso.slice(0, 10).replace(/-/g, '');
