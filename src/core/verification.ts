// The verification record (a relying party's check for one of its users, started by a single-use link) and the pure
// rules over it: link and access tokens, the returnUrl allow-list, the link's life (sent → opened → used, or expired)
// and the status the relying party reads. The use cases are in verifications.ts; storage behind VerificationStore.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { LinkState, VerificationStatus } from './vocabulary.js';
import type { LivenessSession, StoredImage } from './session.js';
import type { DecisionOutcome } from './vocabulary.js';

import type { ReturnUrlEntry } from '../config/config.js';
export type { ReturnUrlEntry };

export interface Verification {
  verificationId: string;
  /** The relying party's client application that created it (token azp/appid, else sub): the only one that may read it. */
  owner: string;
  /** The person's subject key (HMAC of the relying party's externalUserId); the raw id is never kept. */
  subjectKey: string;
  clientReferenceId?: string;
  /** Checked against the allow-list at create, normalised. */
  returnUrl?: string;
  locale?: string;
  /** The photo the relying party gave at create, until a session copies it (then deleted), or the link expires. */
  referenceImage?: StoredImage;
  createdDateTime: string;
  /** SHA-256 (hex) of the current link token; absent once exchanged, expired or cancelled. */
  linkTokenHash?: string;
  /** The hash of the last token exchanged, to tell "already used" from "unknown". */
  usedLinkTokenHash?: string;
  linkIssuedDateTime: string;
  linkExpiresDateTime: string;
  linkState: LinkState;
  openedDateTime?: string;
  /** SHA-256 (hex) of the access token the exchange handed out, and when it stops working. */
  accessTokenHash?: string;
  accessExpiresDateTime?: string;
  /** The one session started from this verification (claimed before the session is created). */
  sessionId?: string;
  cancelledDateTime?: string;
  /** When the sweep next has work on this verification (link or access expiry, then record retention). */
  sweepDateTime?: string;
  etag?: string;
}

const LINK_PREFIX = 'vlt_';
const ACCESS_PREFIX = 'vla_';
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** Whether `token` hashes to `hash`, in constant time. */
export function tokenMatches(token: string, hash: string | undefined): boolean {
  if (!hash) return false;
  const a = Buffer.from(tokenHash(token), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A new token for the verification: its id (so the token finds its record with a point read) and 256 random bits,
 * base64url. Only the SHA-256 of the whole token is stored.
 */
export function newToken(kind: 'link' | 'access', verificationId: string): string {
  return `${kind === 'link' ? LINK_PREFIX : ACCESS_PREFIX}${verificationId}.${randomBytes(32).toString('base64url')}`;
}

/** The verification id a well-formed token names, or undefined. */
export function tokenVerificationId(kind: 'link' | 'access', token: string): string | undefined {
  const prefix = kind === 'link' ? LINK_PREFIX : ACCESS_PREFIX;
  if (!token.startsWith(prefix)) return undefined;
  const [id, secret, ...rest] = token.slice(prefix.length).split('.');
  if (rest.length || !id || !secret || !ID.test(id) || !SECRET.test(secret)) return undefined;
  return id;
}

const isLoopback = (hostname: string): boolean => {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
};

/**
 * The returnUrl as it will be used, when it matches an allow-list entry: same scheme, host and port, and a path equal
 * to the entry's or below it at a segment boundary (after the URL parser resolved dot segments, so `/cb/../x` is
 * `/x`). No user info, no fragment; https, or http to a loopback host. Undefined for anything else.
 */
export function allowedReturnUrl(value: string, entries: readonly ReturnUrlEntry[]): string | undefined {
  let url: URL;
  try { url = new URL(value); } catch { return undefined; }
  if (url.username || url.password || url.hash || value.includes('#')) return undefined;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) return undefined;
  // A backslash or a control character is read differently by different parsers: refused outright.
  // eslint-disable-next-line no-control-regex
  if (/[\\\x00-\x20\x7f]/.test(value)) return undefined;
  for (const entry of entries) {
    if (url.origin !== entry.origin) continue;
    const base = entry.path.endsWith('/') ? entry.path : `${entry.path}/`;
    if (url.pathname === entry.path || url.pathname.startsWith(base)) return url.toString();
  }
  return undefined;
}

/** The link state as of `now`: an unopened link past its lifetime is expired, whether or not the sweep marked it. */
export function linkStateAt(v: Verification, now: Date): LinkState {
  if (v.linkState === 'sent' && now.getTime() >= Date.parse(v.linkExpiresDateTime)) return 'expired';
  return v.linkState;
}

export interface VerificationFacts {
  status: VerificationStatus;
  linkState: LinkState;
  outcome?: DecisionOutcome;
  reasons?: string[];
  decidedDateTime?: string;
}

/**
 * What the relying party reads: from the verification and, once there is one, its session (a settled review gives
 * the reviewer's outcome; a retry is a fail, since a link starts one session). Coarse reasons only, never scores.
 */
export function verificationFacts(v: Verification, session: LivenessSession | undefined, now: Date): VerificationFacts {
  const linkState = linkStateAt(v, now);
  if (v.cancelledDateTime) return { status: 'cancelled', linkState };
  if (!v.sessionId) {
    const accessOver = v.linkState === 'opened' && v.accessExpiresDateTime !== undefined && now.getTime() >= Date.parse(v.accessExpiresDateTime);
    return { status: linkState === 'expired' || accessOver ? 'expired' : 'pending', linkState };
  }
  if (!session || session.status === 'Creating') return { status: session ? 'in_progress' : 'expired', linkState };
  const decided = session.review?.outcome ?? session.decision?.outcome;
  if (decided) {
    const outcome = decided === 'retry' ? 'fail' : decided;
    return {
      status: outcome, linkState, outcome,
      reasons: session.review ? [`Review:${session.review.outcome}`] : (session.decision?.reasons ?? []),
      decidedDateTime: session.review?.reviewedDateTime ?? session.decision?.decidedDateTime,
    };
  }
  if (session.status === 'Expired') return { status: 'expired', linkState };
  if (session.status === 'Failed') return { status: 'fail', linkState, outcome: 'fail', reasons: session.failureReason ? [session.failureReason] : [] };
  return { status: 'in_progress', linkState };
}
