// Google's Android key-attestation status list (https://android.googleapis.com/attestation/status): serial numbers
// (lower-case hex, no leading zeros) of revoked or suspended attestation certificates. Cached as long as Google's
// Cache-Control says (an hour by default). Fails closed: while the list cannot be read, every certificate counts as
// revoked, as in Microsoft's sample.
import { z } from 'zod';

export interface RevocationList { isRevoked(serialHex: string): Promise<boolean> }

const listSchema = z.looseObject({ entries: z.record(z.string(), z.looseObject({ status: z.string() })) });

/** Google's serial form: lower-case hex without leading zeros. */
export const normaliseSerial = (serialHex: string) => serialHex.toLowerCase().replace(/^0+(?=.)/, '');

export class HttpRevocationList implements RevocationList {
  private cached?: { serials: Set<string>; until: number };
  constructor(private readonly url: string, private readonly timeoutMs = 10_000) {}

  private async load(): Promise<Set<string> | undefined> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.serials;
    try {
      const response = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!response.ok) return undefined;
      const list = listSchema.parse(await response.json());
      const maxAge = /max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1];
      const serials = new Set(Object.keys(list.entries).map(normaliseSerial));
      this.cached = { serials, until: Date.now() + Math.min(Number(maxAge ?? 3600), 86_400) * 1000 };
      return serials;
    } catch {
      return undefined;
    }
  }

  async isRevoked(serialHex: string): Promise<boolean> {
    const serials = await this.load();
    return serials === undefined || serials.has(normaliseSerial(serialHex));
  }
}
