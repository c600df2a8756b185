// A small typed client for a relying party's back end: create a verification for one of your users, hand the person
// its link, verify the webhook events this app sends, read and cancel verifications.
//
// The request and response types are generated from the app's OpenAPI document by openapi-typescript
// (./api.gen.ts, rewritten by `npm run build`; never edit it by hand), and the calls go through openapi-fetch, which
// types each path, method, parameter and answer from them. Webhooks are verified with `standardwebhooks`. Nothing
// here writes an API shape by hand. See README.md next to this file for the whole flow.
import createClient, { type Client } from 'openapi-fetch';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { components, paths, webhooks } from './api.gen.js';

/** The API's schemas by name, as the OpenAPI document defines them. */
export type Schemas = components['schemas'];
export type Verification = Schemas['Verification'];
export type CreatedVerification = Schemas['CreatedVerification'];

/** The text fields of POST /verifications, as the document states them (the file part is typed below). */
type CreateVerificationForm = Omit<NonNullable<paths['/verifications']['post']['requestBody']>['content']['multipart/form-data'], 'referenceImage'>;

export interface CreateVerificationInput extends CreateVerificationForm {
  /**
   * The photo to verify the person against (JPEG, PNG, BMP, GIF or WebP, 1 KB to 6 MB). Leave it out when the back
   * office enrolled a reference for the person: that one is used.
   */
  referenceImage?: Blob | Uint8Array;
  /** An Idempotency-Key: a retry with the same key and the same request gets the first answer instead of a second verification. */
  idempotencyKey?: string;
}

/** Every webhook event this app sends, by its `type` (liveness.session.decided, ...), as the document states them. */
type WebhookBodies = { [K in keyof webhooks]: NonNullable<webhooks[K]['post']>['requestBody'] };
export type WebhookEvent = { [K in keyof WebhookBodies]: WebhookBodies[K] extends { content: { 'application/json': infer B } } ? B : never }[keyof WebhookBodies];

/** An error answer of the API: its HTTP status and the `{ error: { code, message } }` it carried. */
export class VerificationsApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'VerificationsApiError';
  }
}

export interface VerificationsClientOptions {
  /** The API's base URL, with the Functions route prefix: `https://<app>.azurewebsites.net/api`. */
  baseUrl: string;
  /**
   * An access token for the API, asked for before every call: an Entra ID client-credentials token for
   * `api://<app>/.default` whose `roles` hold `Verifications.Create` (cache it until it expires, e.g. with MSAL's
   * ConfidentialClientApplication.acquireTokenByClientCredential, which does).
   */
  getAccessToken: () => string | Promise<string>;
  /** A fetch to use instead of the global one (tests, proxies). */
  fetch?: typeof fetch;
}

export interface VerificationsClient {
  /** Creates a verification for one of your users: 201 with `verificationId`, the single-use `url` and when it expires. */
  createVerification(input: CreateVerificationInput): Promise<CreatedVerification>;
  /** Reads a verification you created: status, link state, outcome and coarse reasons (never scores). */
  getVerification(verificationId: string): Promise<Verification>;
  /** Cancels a verification you created: its link stops working, its session goes with its images and records; it then reads `cancelled`. */
  cancelVerification(verificationId: string): Promise<void>;
  /** The openapi-fetch client underneath, typed from the whole document, for anything else. */
  readonly raw: Client<paths>;
}

function apiError(response: Response, body: unknown): VerificationsApiError {
  const error = (body as Partial<Schemas['ErrorResponse']> | undefined)?.error;
  return new VerificationsApiError(response.status, error?.code ?? `HTTP${response.status}`, error?.message ?? `The service answered ${response.status}.`);
}

export function createVerificationsClient(options: VerificationsClientOptions): VerificationsClient {
  const raw = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), ...(options.fetch ? { fetch: options.fetch } : {}) });
  raw.use({
    async onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${await options.getAccessToken()}`);
      return request;
    },
  });

  return {
    raw,

    async createVerification({ referenceImage, idempotencyKey, ...fields }) {
      const { data, error, response } = await raw.POST('/verifications', {
        // The document types the file part as a string (binary); the form is built here from the fields as given.
        body: fields,
        bodySerializer(body) {
          const form = new FormData();
          for (const [name, value] of Object.entries(body ?? {})) if (value !== undefined) form.append(name, String(value));
          if (referenceImage) {
            const blob = referenceImage instanceof Blob ? referenceImage : new Blob([new Uint8Array(referenceImage)]);
            form.append('referenceImage', blob, 'reference');
          }
          return form;
        },
        ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
      });
      if (!data) throw apiError(response, error);
      return data;
    },

    async getVerification(verificationId) {
      const { data, error, response } = await raw.GET('/verifications/{verificationId}', { params: { path: { verificationId } } });
      if (!data) throw apiError(response, error);
      return data;
    },

    async cancelVerification(verificationId) {
      const { error, response } = await raw.DELETE('/verifications/{verificationId}', { params: { path: { verificationId } } });
      if (!response.ok) throw apiError(response, error);
    },
  };
}

/** The signature headers of a Standard Webhooks delivery, from a Fetch `Headers`, Node's `req.headers` or a plain object. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Verifies a webhook delivery and returns its event. Call it with the raw body exactly as received (not re-serialised
 * JSON), the request's headers (webhook-id, webhook-timestamp, webhook-signature) and your `whsec_` secret (or the
 * old and the new one during a rotation: any one verifying is enough). Deliveries older or newer than five minutes are
 * refused (replays).
 * @throws WebhookVerificationError when no secret verifies the signature, a header is missing or the timestamp is off
 */
export function verifyWebhook(payload: string | Uint8Array, headers: WebhookHeaders, secret: string | readonly string[]): WebhookEvent {
  const flat: Record<string, string> = {};
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [name, value] of entries) {
    if (typeof value === 'string') flat[name.toLowerCase()] = value;
    else if (Array.isArray(value) && value.length > 0) flat[name.toLowerCase()] = value.join(',');
  }
  const body = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new WebhookVerificationError('No webhook secret given');
  let failure: unknown;
  for (const candidate of secrets) {
    try {
      return new Webhook(candidate).verify(body, flat) as WebhookEvent;
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

export { WebhookVerificationError };
