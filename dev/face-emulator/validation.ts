// Create-session validation, in the order the real service appears to apply it (README "Face API surface"): media type →
// body parts → livenessOperationMode → authTokenTimeToLiveInSeconds → deviceCorrelationId → verify image size →
// decode → face count. The image checks are done by the caller (they need the analyzer).
import { errors } from './errors.js';
import type { FilePart, MultipartBody } from './multipart.js';
import { MAX_ATTEMPTS, type ApiVersion } from './store.js';

export const MIN_IMAGE_BYTES = 1024;            // "valid ≥ 1 KB"
export const MAX_IMAGE_BYTES = 6 * 1024 * 1024; // "valid ≤ 6 MB" (read as MiB)
export const DEFAULT_MODEL_VERSION = '2024-11-15';
/** The spec's `livenessModelVersion` enum (v1.2 and v1.3-preview.1): anything else is refused, never echoed. */
export const LIVENESS_MODEL_VERSIONS = ['2024-11-15'] as const;

/** What both creates (plain liveness and with verify) take. */
export interface SessionCreateParams {
  livenessOperationMode: 'Passive' | 'PassiveActive';
  deviceCorrelationId?: string;
  deviceCorrelationIdSetInClient: boolean;
  authTokenTimeToLiveInSeconds: number;
  enableSessionImage: boolean;
  modelVersion: string;
  /** v1.3-preview.1 only: 1 to 3, default 1 (v1.2 allows 3 per token). */
  numberOfClientAttemptsAllowed: number;
}

export interface CreateParams extends SessionCreateParams {
  returnVerifyImageHash: boolean;
  verifyConfidenceThreshold: number;
  verifyImage: FilePart;
}

/** The plain liveness create (JSON `CreateLivenessSessionContent`). */
export interface CreateLivenessParams extends SessionCreateParams {
  userCorrelationId?: string;
  userCorrelationIdSetInClient: boolean;
  expectedClientIpAddress?: string;
}

function parseBool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0' || v === '') return false;
  throw errors.badArgument();
}

/** Some clients (Kotlin sample) send scalar parts as application/json; accept a JSON string literal too. */
function scalar(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    try { return String(JSON.parse(v)); } catch { return v; }
  }
  return v;
}

/**
 * Also accepts the legacy `Parameters` JSON envelope (+ `VerifyImage`) that the Microsoft tutorial still shows for
 * v1.2; its keys are merged under the flat parts (flat parts win).
 */
function mergedFields(body: MultipartBody): Map<string, string> {
  const fields = new Map<string, string>();
  const envelope = body.fields.get('parameters');
  if (envelope !== undefined) {
    let parsed: unknown;
    try { parsed = JSON.parse(envelope); } catch { throw errors.badArgument('JSON parsing error.'); }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw errors.invalidRequestBody();
    for (const [k, v] of Object.entries(parsed)) if (v !== null && v !== undefined) fields.set(k.toLowerCase(), String(v));
  }
  for (const [k, v] of body.fields) if (k !== 'parameters') fields.set(k, v);
  return fields;
}

function modelVersionOf(raw: string | undefined): string {
  if (raw === undefined || raw === '') return DEFAULT_MODEL_VERSION;
  if (!(LIVENESS_MODEL_VERSIONS as readonly string[]).includes(raw)) throw errors.invalidModelVersion();
  return raw;
}

/** `numberOfClientAttemptsAllowed`: declared by v1.3-preview.1 only (int32, 1 to 3, default 1). */
function attemptsAllowed(raw: string | number | undefined, version: ApiVersion): number {
  if (version === 'v1.2') return MAX_ATTEMPTS;
  if (raw === undefined) return 1;
  const n = typeof raw === 'number' ? raw : /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 3) throw errors.invalidAttemptsAllowed();
  return n;
}

export function validateCreate(body: MultipartBody, version: ApiVersion = 'v1.2'): CreateParams {
  const f = mergedFields(body);

  const mode = scalar(f.get('livenessoperationmode'))?.toLowerCase();
  if (mode !== 'passive' && mode !== 'passiveactive') throw errors.invalidLivenessOperationMode();

  const ttlRaw = scalar(f.get('authtokentimetoliveinseconds'));
  let ttl = 600;
  if (ttlRaw !== undefined) {
    if (!/^-?\d+$/.test(ttlRaw)) throw errors.invalidTokenLifetime();
    ttl = Number(ttlRaw);
    if (ttl < 60 || ttl > 86400) throw errors.invalidTokenLifetime();
  }

  const setInClient = parseBool(scalar(f.get('devicecorrelationidsetinclient')), false);
  const deviceCorrelationId = scalar(f.get('devicecorrelationid'));
  if (!setInClient) {
    if (deviceCorrelationId === undefined || deviceCorrelationId.length === 0 || deviceCorrelationId.length > 64) {
      throw errors.invalidDeviceCorrelationId();
    }
  } else if (deviceCorrelationId !== undefined && deviceCorrelationId.length > 64) {
    throw errors.invalidDeviceCorrelationId();
  }

  const thresholdRaw = scalar(f.get('verifyconfidencethreshold'));
  let threshold = 0.5;
  if (thresholdRaw !== undefined) {
    threshold = Number(thresholdRaw);
    if (thresholdRaw === '' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
      throw errors.badArgument('Invalid verifyConfidenceThreshold specified. Must be within 0 to 1.');
    }
  }

  const verifyImage = body.files.get('verifyimage');
  // Required by the spec (v1.2 and v1.3-preview.1): a with-verify session has nothing to verify against without it.
  if (!verifyImage) throw errors.missingVerifyImage();
  // The backend requires a filename on the image part (azure-sdk-for-js PR #29557); mirror that so apps notice.
  if (!verifyImage.filename) {
    throw errors.badArgument("The verifyImage part's Content-Disposition header must have a filename.");
  }

  const params: CreateParams = {
    livenessOperationMode: mode === 'passive' ? 'Passive' : 'PassiveActive',
    deviceCorrelationIdSetInClient: setInClient,
    authTokenTimeToLiveInSeconds: ttl,
    enableSessionImage: parseBool(scalar(f.get('enablesessionimage')), false),
    modelVersion: modelVersionOf(scalar(f.get('livenessmodelversion'))),
    returnVerifyImageHash: parseBool(scalar(f.get('returnverifyimagehash')), false),
    verifyConfidenceThreshold: threshold,
    verifyImage,
    numberOfClientAttemptsAllowed: attemptsAllowed(scalar(f.get('numberofclientattemptsallowed')), version),
  };
  if (deviceCorrelationId) params.deviceCorrelationId = deviceCorrelationId;
  return params;
}

const CREATE_LIVENESS_FIELDS: Record<ApiVersion, readonly string[]> = {
  'v1.2': ['livenessOperationMode', 'deviceCorrelationId', 'deviceCorrelationIdSetInClient', 'enableSessionImage', 'livenessModelVersion', 'authTokenTimeToLiveInSeconds'],
  'v1.3-preview.1': ['livenessOperationMode', 'deviceCorrelationId', 'deviceCorrelationIdSetInClient', 'enableSessionImage', 'livenessModelVersion', 'authTokenTimeToLiveInSeconds',
    'numberOfClientAttemptsAllowed', 'userCorrelationId', 'userCorrelationIdSetInClient', 'expectedClientIpAddress'],
};

/** IPv4 or IPv6 address, optionally with a CIDR prefix length (`expectedClientIpAddress`). */
export function isIpOrCidr(value: string): boolean {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(value);
  if (!m) return false;
  const ip = m[1]!;
  const v4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(ip);
  const v6 = !v4 && /^[0-9a-f:.]+$/i.test(ip) && ip.includes(':') && ip.length <= 45;
  if (!v4 && !v6) return false;
  return m[2] === undefined || Number(m[2]) <= (v4 ? 32 : 128);
}

/** The plain liveness create: a JSON object of the declared fields (unknown fields are a BadArgument). */
export function validateCreateLiveness(json: unknown, version: ApiVersion): CreateLivenessParams {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw errors.invalidRequestBody();
  const body = json as Record<string, unknown>;
  const declared = CREATE_LIVENESS_FIELDS[version];
  const unknown = Object.keys(body).filter((k) => !declared.includes(k));
  if (unknown.length > 0) throw errors.badArgument(`Unknown field '${unknown[0]}' in the request body.`);
  const str = (k: string): string | undefined => {
    const v = body[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw errors.badArgument(`'${k}' must be a string.`);
    return v;
  };
  const bool = (k: string): boolean => {
    const v = body[k];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') throw errors.badArgument(`'${k}' must be a boolean.`);
    return v;
  };
  const mode = str('livenessOperationMode');
  if (mode !== 'Passive' && mode !== 'PassiveActive') throw errors.invalidLivenessOperationMode();
  let ttl = 600;
  if (body.authTokenTimeToLiveInSeconds !== undefined) {
    const v = body.authTokenTimeToLiveInSeconds;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 60 || v > 86400) throw errors.invalidTokenLifetime();
    ttl = v;
  }
  const deviceSetInClient = bool('deviceCorrelationIdSetInClient');
  const deviceCorrelationId = str('deviceCorrelationId');
  if (deviceSetInClient ? deviceCorrelationId !== undefined : (!deviceCorrelationId || deviceCorrelationId.length > 64)) {
    throw errors.invalidDeviceCorrelationId();
  }
  const userSetInClient = bool('userCorrelationIdSetInClient');
  const userCorrelationId = str('userCorrelationId');
  if (userSetInClient && userCorrelationId !== undefined) {
    throw errors.badArgument("'userCorrelationId' must be absent when 'userCorrelationIdSetInClient' is true.");
  }
  if (userCorrelationId !== undefined && (userCorrelationId.length === 0 || userCorrelationId.length > 64)) {
    throw errors.badArgument("'userCorrelationId' must be 1 to 64 characters.");
  }
  const expectedClientIpAddress = str('expectedClientIpAddress');
  if (expectedClientIpAddress !== undefined && !isIpOrCidr(expectedClientIpAddress)) {
    throw errors.badArgument("'expectedClientIpAddress' must be an IP address or a CIDR block.");
  }
  const attempts = body.numberOfClientAttemptsAllowed;
  if (attempts !== undefined && typeof attempts !== 'number') throw errors.invalidAttemptsAllowed();
  return {
    livenessOperationMode: mode,
    deviceCorrelationIdSetInClient: deviceSetInClient,
    ...(deviceCorrelationId !== undefined ? { deviceCorrelationId } : {}),
    authTokenTimeToLiveInSeconds: ttl,
    enableSessionImage: bool('enableSessionImage'),
    modelVersion: modelVersionOf(str('livenessModelVersion')),
    numberOfClientAttemptsAllowed: attemptsAllowed(attempts, version),
    userCorrelationIdSetInClient: userSetInClient,
    ...(userCorrelationId !== undefined ? { userCorrelationId } : {}),
    ...(expectedClientIpAddress !== undefined ? { expectedClientIpAddress } : {}),
  };
}

/** Size checks for the verify image (decode and face checks follow in the server, they need the analyzer). */
export function checkImageSize(image: FilePart): void {
  if (image.truncated || image.size > MAX_IMAGE_BYTES) throw errors.imageTooBig();
  if (image.size < MIN_IMAGE_BYTES) throw errors.imageTooSmall();
}
