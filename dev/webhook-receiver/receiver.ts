// A small webhook receiver for local runs and tests: it verifies each delivery's Standard Webhooks signature with the
// `standardwebhooks` package (as a relying party's back end would), remembers what it received, and prints one line
// per delivery. Verified deliveries are answered 204 (or with the next scripted answer), unverifiable ones 401.
// GET /deliveries lists what arrived (newest last). Local only: it listens on loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedDelivery {
  path: string;
  webhookId?: string;
  verified: boolean;
  /** Why verification failed (the library's message). */
  failure?: string;
  /** The parsed body, only when verified. */
  payload?: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
  signatures: number;
  receivedDateTime: string;
  status: number;
}

/** A scripted answer for the next verified delivery: a status, optionally with a Location (to offer a redirect). */
export interface ScriptedAnswer { status: number; location?: string }

export interface WebhookReceiverOptions {
  port?: number;
  /** The whsec_ secrets to verify with (any one verifying is enough, as during a rotation). */
  secrets: string[];
  /** Where each delivery's line goes; default stdout. */
  print?: (line: string) => void;
  /** Print the whole verified payload too (local runs), not just its summary. */
  printPayload?: boolean;
}

export interface RunningWebhookReceiver {
  url: string;
  port: number;
  deliveries: ReceivedDelivery[];
  /** Answers for the next verified deliveries, in order; afterwards 204 again. */
  script(...answers: ScriptedAnswer[]): void;
  setSecrets(secrets: string[]): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<RunningWebhookReceiver> {
  let verifiers = options.secrets.map((s) => new Webhook(s));
  const deliveries: ReceivedDelivery[] = [];
  const scripted: ScriptedAnswer[] = [];
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/deliveries') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ value: deliveries }));
      return;
    }
    if (req.method !== 'POST') { res.writeHead(405).end(); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) { res.writeHead(413).end(); req.destroy(); return; }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      let payload: ReceivedDelivery['payload'];
      let failure: string | undefined = verifiers.length === 0 ? 'no secret configured' : undefined;
      for (const verifier of verifiers) {
        try {
          payload = verifier.verify(body, headers) as ReceivedDelivery['payload'];
          failure = undefined;
          break;
        } catch (error) {
          failure = (error as Error).message;
        }
      }
      const verified = payload !== undefined;
      const answer = verified ? scripted.shift() ?? { status: 204 } : { status: 401 };
      const delivery: ReceivedDelivery = {
        path: req.url ?? '/',
        ...(headers['webhook-id'] ? { webhookId: headers['webhook-id'] } : {}),
        verified,
        ...(failure ? { failure } : {}),
        ...(payload ? { payload } : {}),
        signatures: (headers['webhook-signature'] ?? '').split(' ').filter(Boolean).length,
        receivedDateTime: new Date().toISOString(),
        status: answer.status,
      };
      deliveries.push(delivery);
      const summary = verified
        ? `verified ${payload!.type} ${payload!.id} session=${JSON.stringify(payload!.data.sessionId ?? '-')}`
          + (payload!.data.outcome ? ` outcome=${JSON.stringify(payload!.data.outcome)}` : '')
        : `REJECTED ${delivery.webhookId ?? '(no webhook-id)'}: ${failure}`;
      print(`${summary} -> ${answer.status}`);
      if (verified && options.printPayload) print(JSON.stringify(payload));
      res.writeHead(answer.status, answer.location ? { location: answer.location } : {});
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    port,
    deliveries,
    script: (...answers) => { scripted.push(...answers); },
    setSecrets: (secrets) => { verifiers = secrets.map((s) => new Webhook(s)); },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
