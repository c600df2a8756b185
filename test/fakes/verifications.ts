// VerificationStore in memory: ETags per write, so mutate's conditional write and re-apply behave like the table's.
// A hook lets a test run something between a mutate's read and its write (a concurrent writer).
import { ConflictError } from '../../src/core/errors.js';
import type { Page, VerificationChange, VerificationStore } from '../../src/core/ports.js';
import type { Verification } from '../../src/core/verification.js';

export class InMemoryVerificationStore implements VerificationStore {
  readonly rows = new Map<string, Verification>();
  private version = 0;
  /** Runs once per mutate round, after the read and before the write. */
  beforeWrite?: (verificationId: string) => Promise<void> | void;

  private stamp(v: Verification): Verification {
    const stored = { ...structuredClone({ ...v, etag: undefined }), etag: `"${++this.version}"` };
    this.rows.set(v.verificationId, stored);
    return structuredClone(stored);
  }

  async create(verification: Verification): Promise<Verification> {
    if (this.rows.has(verification.verificationId)) throw new ConflictError('VerificationExists', 'exists');
    return this.stamp(verification);
  }

  async get(verificationId: string): Promise<Verification | undefined> {
    const v = this.rows.get(verificationId.toLowerCase());
    return v ? structuredClone(v) : undefined;
  }

  async mutate(verificationId: string, change: VerificationChange): Promise<Verification | undefined> {
    for (let round = 0; round < 8; round++) {
      const current = await this.get(verificationId);
      if (!current) return undefined;
      const next = change(current);
      if (!next) return current;
      await this.beforeWrite?.(verificationId);
      const now = this.rows.get(verificationId);
      if (!now || now.etag !== current.etag) continue; // a concurrent writer won: read again, decide again
      return this.stamp(next);
    }
    throw new ConflictError('ConcurrentUpdate', 'The verification is changing too often; try again.');
  }

  async delete(verification: Verification): Promise<void> {
    this.rows.delete(verification.verificationId);
  }

  async list(top: number, continuationToken?: string): Promise<Page<Verification>> {
    const all = [...this.rows.values()].sort((a, b) => b.verificationId.localeCompare(a.verificationId));
    const start = continuationToken ? Number(continuationToken) : 0;
    const items = all.slice(start, start + top).map((v) => structuredClone(v));
    return { items, ...(start + top < all.length ? { continuationToken: String(start + top) } : {}) };
  }

  async listBySubject(subjectKey: string): Promise<Verification[]> {
    return [...this.rows.values()].filter((v) => v.subjectKey === subjectKey).map((v) => structuredClone(v));
  }

  async listDue(now: Date, top: number): Promise<Verification[]> {
    return [...this.rows.values()]
      .filter((v) => v.sweepDateTime !== undefined && Date.parse(v.sweepDateTime) <= now.getTime())
      .sort((a, b) => a.sweepDateTime!.localeCompare(b.sweepDateTime!))
      .slice(0, top)
      .map((v) => structuredClone(v));
  }
}
