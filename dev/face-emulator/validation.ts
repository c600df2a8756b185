// Create-session validation, in the order the real service appears to apply it (README "Face API surface"): media type →
// body parts → livenessOperationMode → authTokenTimeToLiveInSeconds → deviceCorrelationId → verify image size →
// decode → face count. The image checks are done by the caller (they need the analyzer).
import { errors } from './errors.js';
import type { FilePart, MultipartBody } from './multipart.js';

export const MIN_IMAGE_BYTES = 1024;            // "valid ≥ 1 KB"
export const MAX_IMAGE_BYTES = 6 * 1024 * 1024; // "valid ≤ 6 MB" (read as MiB)
export const DEFAULT_MODEL_VERSION = '2024-11-15';

export interface CreateParams {
  livenessOperationMode: 'Passive' | 'PassiveActive';
  deviceCorrelationId?: string;
  deviceCorrelationIdSetInClient: boolean;
  authTokenTimeToLiveInSeconds: number;
  enableSessionImage: boolean;
  modelVersion: string;
  returnVerifyImageHash: boolean;
  verifyConfidenceThreshold: number;
  verifyImage?: FilePart;
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

export function validateCreate(body: MultipartBody): CreateParams {
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
  // The backend requires a filename on the image part (azure-sdk-for-js PR #29557); mirror that so apps notice.
  if (verifyImage && !verifyImage.filename) {
    throw errors.badArgument("The verifyImage part's Content-Disposition header must have a filename.");
  }

  const params: CreateParams = {
    livenessOperationMode: mode === 'passive' ? 'Passive' : 'PassiveActive',
    deviceCorrelationIdSetInClient: setInClient,
    authTokenTimeToLiveInSeconds: ttl,
    enableSessionImage: parseBool(scalar(f.get('enablesessionimage')), false),
    modelVersion: scalar(f.get('livenessmodelversion')) || DEFAULT_MODEL_VERSION,
    returnVerifyImageHash: parseBool(scalar(f.get('returnverifyimagehash')), false),
    verifyConfidenceThreshold: threshold,
  };
  if (deviceCorrelationId) params.deviceCorrelationId = deviceCorrelationId;
  if (verifyImage) params.verifyImage = verifyImage;
  return params;
}

/** Size checks for the verify image (decode and face checks follow in the server, they need the analyzer). */
export function checkImageSize(image: FilePart): void {
  if (image.truncated || image.size > MAX_IMAGE_BYTES) throw errors.imageTooBig();
  if (image.size < MIN_IMAGE_BYTES) throw errors.imageTooSmall();
}
