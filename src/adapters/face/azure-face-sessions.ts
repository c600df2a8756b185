// FaceSessions over the official REST client (@azure-rest/ai-vision-face, Face API v1.2). The SDK's own retries are
// switched off: this adapter retries 429/5xx/timeouts itself so that it can honour Retry-After *within a total
// budget* and then give up with a clean FaceUnavailableError (the SDK would sleep for whatever Retry-After says).
import { Readable } from 'node:stream';
import createClient, { isUnexpected, type FaceClient } from '@azure-rest/ai-vision-face';
import { AzureKeyCredential } from '@azure/core-auth';
import { lazyDefaultAzureCredential } from '../auth/lazy-credential.js';
import { FaceAnswerInvalidError, FaceRejectedError, FaceSessionNotFoundError, FaceUnavailableError } from '../../core/errors.js';
import type {
  CallOptions, CreateFaceSessionRequest, CreatedFaceSession, FaceAttempt, FaceSessionState, FaceSessions,
} from '../../core/ports.js';
import type { VerifyImageInfo } from '../../core/session.js';
import { createdSessionSchema, errorBodySchema, parseFaceAnswer, sessionStateSchema } from './face-answers.js';

export interface AzureFaceSessionsOptions {
  endpoint: string;
  /** Key auth when set (local and emulator); Entra ID via DefaultAzureCredential otherwise. */
  apiKey?: string | undefined;
  /** Client id of a user-assigned managed identity (Entra ID auth, no key). */
  clientId?: string | undefined;
  /** One HTTP exchange's timeout. */
  timeoutMs: number;
  maxRetries: number;
  /** Total time a call may spend retrying before it gives up. */
  retryBudgetMs: number;
  /** Called after every HTTP exchange with Face (metrics, tests). Never receives bodies or headers. */
  onCall?: (call: { operation: string; status: number | 'timeout' | 'network'; durationMs: number; retry: number }) => void;
}

interface HttpLike { status: string; headers: Record<string, string | undefined>; body: unknown }

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

export class AzureFaceSessions implements FaceSessions {
  private readonly client: FaceClient;

  constructor(private readonly options: AzureFaceSessionsOptions) {
    const insecure = options.endpoint.startsWith('http://');
    const credential = options.apiKey
      ? new AzureKeyCredential(options.apiKey)
      : lazyDefaultAzureCredential(options.clientId);
    this.client = createClient(options.endpoint, credential, {
      // The Face emulator is plain http on loopback; the SDK refuses http unless told (key auth only).
      allowInsecureConnection: insecure,
      retryOptions: { maxRetries: 0 },
      userAgentOptions: { userAgentPrefix: 'face-liveness-functions' },
    });
  }

  async create(request: CreateFaceSessionRequest, options?: CallOptions): Promise<CreatedFaceSession> {
    const parts = [
      { name: 'livenessOperationMode' as const, body: request.livenessOperationMode },
      { name: 'authTokenTimeToLiveInSeconds' as const, body: request.authTokenTimeToLiveInSeconds },
      { name: 'enableSessionImage' as const, body: request.enableSessionImage },
      { name: 'returnVerifyImageHash' as const, body: true },
      ...(request.deviceCorrelationId
        ? [{ name: 'deviceCorrelationId' as const, body: request.deviceCorrelationId }]
        : [{ name: 'deviceCorrelationIdSetInClient' as const, body: true }]),
      // Face requires a file name on this part (it rejects the part without one).
      {
        name: 'verifyImage' as const,
        // As a stream of views into the caller's bytes: handed over as a Uint8Array, the SDK copies the whole image
        // (Buffer.from) for the length of the upload, a second copy of every image in flight.
        body: viewStream(request.verifyImage.bytes),
        filename: request.verifyImage.fileName,
        contentType: request.verifyImage.contentType,
      },
    ];
    // Not retried: a create that timed out may still have made a session, and a second create would make another.
    const response = await this.call('create', options, false, (signal) =>
      this.client.path('/detectLivenessWithVerify-sessions').post({ contentType: 'multipart/form-data', body: parts, abortSignal: signal }));
    if (isUnexpectedResponse(response)) throw this.translate(response, 'create');
    const body = parseFaceAnswer(createdSessionSchema, response.body, 'create');
    return {
      sessionId: body.sessionId,
      authToken: body.authToken,
      modelVersion: body.modelVersion,
      verifyImage: toVerifyImage(body.results?.verifyReferences?.[0]),
    };
  }

  async get(sessionId: string, options?: CallOptions): Promise<FaceSessionState> {
    const response = await this.call('get', options, true, (signal) =>
      this.client.path('/detectLivenessWithVerify-sessions/{sessionId}', sessionId).get({ abortSignal: signal }));
    if (isUnexpectedResponse(response)) throw this.translate(response, 'get');
    const body = parseFaceAnswer(sessionStateSchema, response.body, 'get');
    // An answer about another session is as wrong as a malformed one.
    if (body.sessionId.toLowerCase() !== sessionId.toLowerCase()) throw new FaceAnswerInvalidError('Face get answered about another session.');
    const attempts: FaceAttempt[] = body.results?.attempts ?? [];
    return {
      sessionId: body.sessionId,
      ...(body.authToken ? { authToken: body.authToken } : {}),
      status: body.status,
      modelVersion: body.modelVersion,
      attempts,
      verifyReferences: (body.results?.verifyReferences ?? []).map(toVerifyImage),
    };
  }

  async delete(sessionId: string, options?: CallOptions): Promise<void> {
    const response = await this.call('delete', options, true, (signal) =>
      this.client.path('/detectLivenessWithVerify-sessions/{sessionId}', sessionId).delete({ abortSignal: signal }));
    if (response.status === '404') return; // already gone: deletion is idempotent
    if (isUnexpectedResponse(response)) throw this.translate(response, 'delete');
  }

  async getSessionImage(sessionImageId: string, options?: CallOptions): Promise<Uint8Array> {
    // As a stream: the client would otherwise decode the binary body as text and corrupt it.
    const response = await this.call('getSessionImage', options, true, async (signal) => {
      const streamed = await this.client.path('/sessionImages/{sessionImageId}', sessionImageId).get({ abortSignal: signal }).asNodeStream();
      if (!/^2\d\d$/.test(streamed.status)) {
        const text = await readAll(streamed.body, 64 * 1024);
        return { status: streamed.status, headers: streamed.headers, body: text && parseJsonOrUndefined(text.toString('utf8')) };
      }
      return { status: streamed.status, headers: streamed.headers, body: await readAll(streamed.body, MAX_SESSION_IMAGE_BYTES) };
    });
    if (!/^2\d\d$/.test(response.status)) throw this.translate(response, 'getSessionImage');
    const bytes = response.body as Uint8Array | undefined;
    if (!bytes || bytes.length === 0) throw new FaceAnswerInvalidError('Face getSessionImage answered with an empty or oversized image.');
    return bytes;
  }

  async probe(options?: CallOptions): Promise<void> {
    // A GET for a session id that cannot exist: 404 SessionNotFound proves the endpoint and the credential work.
    try {
      await this.get('00000000-0000-0000-0000-000000000000', options);
    } catch (error) {
      if (error instanceof FaceSessionNotFoundError) return;
      throw error;
    }
  }

  /** Runs one Face call with a per-try timeout and retries within the budget. */
  private async call(
    operation: string,
    options: CallOptions | undefined,
    retryable: boolean,
    send: (signal: AbortSignal) => PromiseLike<HttpLike>,
  ): Promise<HttpLike> {
    const started = Date.now();
    for (let retry = 0; ; retry++) {
      const t0 = Date.now();
      const signals = [AbortSignal.timeout(this.options.timeoutMs)];
      if (options?.abortSignal) signals.push(options.abortSignal);
      let response: HttpLike | undefined;
      let failure: 'timeout' | 'network' | undefined;
      try {
        response = await send(AbortSignal.any(signals));
      } catch (error) {
        if (options?.abortSignal?.aborted) throw error;
        failure = (error as { name?: string }).name === 'AbortError' ? 'timeout' : 'network';
      }
      const status = response ? Number(response.status) : failure!;
      this.options.onCall?.({ operation, status, durationMs: Date.now() - t0, retry });
      const transient = failure !== undefined || RETRYABLE.has(Number(response?.status));
      if (!transient) return response!;
      const retryAfterMs = backoffMs(retry, response?.headers['retry-after']);
      const elapsed = Date.now() - started;
      const canRetry = (retryable || Number(response?.status) === 429) && retry < this.options.maxRetries
        && elapsed + retryAfterMs <= this.options.retryBudgetMs;
      if (!canRetry) {
        const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
        const what = failure ? (failure === 'timeout' ? `timed out after ${this.options.timeoutMs} ms` : 'could not be reached')
          : `answered ${response!.status}`;
        throw new FaceUnavailableError(`Face ${operation} ${what}.`, retryAfterSeconds, response ? Number(response.status) : undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    }
  }

  private translate(response: HttpLike, operation: string): Error {
    const status = Number(response.status);
    // Face's code and message may go back to the caller (FaceRejectedError): only when they fit the error schema.
    const parsed = errorBodySchema.safeParse(response.body);
    const error = parsed.success ? parsed.data.error : undefined;
    const headerCode = response.headers['x-ms-error-code'];
    const code = error?.code ?? (headerCode && /^[A-Za-z0-9._-]{1,64}$/.test(headerCode) ? headerCode : String(status));
    const message = error?.message ?? `Face ${operation} failed with status ${status}.`;
    if (status === 404) return new FaceSessionNotFoundError(message);
    if (status === 401 || status === 403) {
      // Our credential or resource is wrong: not the caller's fault, and not something a retry fixes.
      return new FaceUnavailableError(`Face refused this app's credentials (${code}).`, 60, status);
    }
    if (status >= 400 && status < 500) return new FaceRejectedError(code, message, status);
    return new FaceUnavailableError(`Face ${operation} failed with status ${status}.`, 5, status);
  }
}

/** Exponential backoff with jitter, or the server's Retry-After when it gives one. */
function backoffMs(retry: number, retryAfter: string | undefined): number {
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  const base = Math.min(4000, 200 * 2 ** retry);
  return Math.round(base * (0.5 + Math.random() / 2));
}

function isUnexpectedResponse(response: HttpLike): boolean {
  // The typed isUnexpected() narrows per operation; every status outside 2xx is unexpected for our calls.
  return isUnexpected(response as Parameters<typeof isUnexpected>[0]) || !/^2\d\d$/.test(response.status);
}

function parseJsonOrUndefined(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}

/** The bytes as a Node stream of 64 KiB views (no copy). */
function viewStream(bytes: Uint8Array): NodeJS.ReadableStream {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Readable.from((function* () {
    for (let offset = 0; offset < view.length; offset += 65_536) yield view.subarray(offset, offset + 65_536);
  })());
}

/** A session image is a camera frame; anything far larger is not one. */
const MAX_SESSION_IMAGE_BYTES = 16 * 1024 * 1024;

/** Reads a body up to `max` bytes; undefined (and the rest left unread) when it is larger. */
async function readAll(stream: NodeJS.ReadableStream | undefined, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (stream) {
    for await (const chunk of stream) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buffer.length;
      if (size > max) {
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        return undefined;
      }
      chunks.push(buffer);
    }
  }
  return Buffer.concat(chunks);
}

function toVerifyImage(reference: unknown): VerifyImageInfo {
  const r = (reference ?? {}) as VerifyImageInfo;
  return {
    ...(r.faceRectangle ? { faceRectangle: r.faceRectangle } : {}),
    ...(r.qualityForRecognition ? { qualityForRecognition: r.qualityForRecognition } : {}),
  };
}
