// Plays the phone: what the Vision Face UI SDK sends after a capture (README "Playing the phone") — a multipart POST to
// `/face/v1.2/detectLivenessWithVerify/singleModal` with the session token as Bearer, the capture as `Content`
// and an opaque `Metadata` string. Used by tests, the README and benchmarks; plain fetch + FormData, no SDK.

export interface DeviceAttemptOptions {
  metadata?: string;
  userAgent?: string;
  /** Optional verify image supplied by the device (mobile SDK variant); sent as `VerifyImage`. */
  verifyImage?: Uint8Array;
  /** Defaults to v1.2. */
  apiVersion?: string;
  /** The session kind: liveness with verify (default) or plain liveness (`detectLiveness/singleModal`). */
  kind?: 'livenessWithVerify' | 'liveness';
}

export async function performDeviceAttempt(
  endpoint: string,
  authToken: string,
  capture: Uint8Array,
  options: DeviceAttemptOptions = {},
): Promise<{ status: number; body?: unknown }> {
  const form = new FormData();
  form.append('Content', new Blob([new Uint8Array(capture)], { type: 'application/octet-stream' }), 'video.webp');
  form.append('Metadata', options.metadata ?? JSON.stringify({ sdk: 'face-emulator-device', version: 1 }));
  if (options.verifyImage) {
    form.append('VerifyImage', new Blob([new Uint8Array(options.verifyImage)], { type: 'application/octet-stream' }), 'verify.jpg');
  }
  const operation = options.kind === 'liveness' ? 'detectLiveness' : 'detectLivenessWithVerify';
  const url = `${endpoint.replace(/\/+$/, '')}/face/${options.apiVersion ?? 'v1.2'}/${operation}/singleModal`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${authToken}`,
      'user-agent': options.userAgent ?? 'face-emulator-device/1.0',
    },
    body: form,
  });
  const text = await response.text();
  if (!text) return { status: response.status };
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}
