// WebhookSender over HTTPS: Standard Webhooks signatures (the `standardwebhooks` package, no hand-rolled crypto), one
// POST per try with a timeout that also bounds reading the answer, no redirects followed (a 3xx is a failed try: a
// receiver that moved must be reconfigured, not followed to wherever it points), and at most a few KB of the answer
// read, then dropped: the receiver's body is never logged or stored.
import { Webhook } from 'standardwebhooks';
import { systemClock, type Clock, type DeliveryResult, type LivenessEvent, type WebhookSender } from '../../core/ports.js';

/** How much of a receiver's answer is read (and discarded) so the connection can be reused. */
export const MAX_RESPONSE_BYTES = 4096;

export interface WebhookEndpoint {
  /** From the settings only; https outside loopback (checked by the config). */
  url: string;
  /** `whsec_` secrets; the first is current, a second one (during rotation) signs too. */
  secrets: string[];
  /** Per try, shorter than the function timeout. */
  timeoutMs: number;
}

/** The Standard Webhooks headers for a payload: one `v1,` signature per secret, space-separated. */
export function webhookHeaders(secrets: string[], id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  };
}

export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly endpoint: WebhookEndpoint, private readonly clock: Clock = systemClock) {
    for (const secret of endpoint.secrets) new Webhook(secret); // fail at start, not at the first event
  }

  async send(event: LivenessEvent): Promise<DeliveryResult> {
    const { subjectKey: _routing, ...payload } = event; // the subject key is ours, never the receiver's
    const body = JSON.stringify(payload);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'face-liveness-functions-webhooks/1',
      ...webhookHeaders(this.endpoint.secrets, event.id, this.clock.now(), body),
    };
    const signal = AbortSignal.timeout(this.endpoint.timeoutMs);
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await fetch(this.endpoint.url, { method: 'POST', headers, body, redirect: 'manual', signal });
      await drain(response);
      const statusCode = response.status;
      if (statusCode >= 200 && statusCode < 300) return { delivered: true, statusCode, durationMs: elapsed() };
      // 'manual' gives the 3xx itself in Node (an opaque redirect, status 0, in a browser).
      const redirect = (statusCode >= 300 && statusCode < 400) || response.type === 'opaqueredirect';
      return { delivered: false, statusCode, error: redirect ? 'Redirect' : 'HttpStatus', durationMs: elapsed() };
    } catch {
      return { delivered: false, error: signal.aborted ? 'Timeout' : 'NetworkError', durationMs: elapsed() };
    }
  }
}

/** Reads at most MAX_RESPONSE_BYTES of the answer (within the try's timeout) and cancels the rest: a receiver cannot make us read a flood. */
async function drain(response: Response): Promise<void> {
  if (!response.body) return;
  const reader = response.body.getReader();
  let read = 0;
  try {
    while (read < MAX_RESPONSE_BYTES) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += (chunk.value as Uint8Array).byteLength;
    }
  } catch {
    // A body cut off or slower than the timeout: the status line already said what the receiver did.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
