// An HTTP proxy (node:http) in front of one Azurite service port that can fail a fraction of the requests, for fault
// runs. Requests are forwarded byte for byte (method, path, headers including Host, streamed bodies), so shared-key
// signatures stay valid. When faults are on, a failed request is, at random:
//   - refused before it reaches Azurite (503 ServerBusy, or the socket is reset), or
//   - forwarded, and then its answer is lost (503 or a reset after Azurite did the work). This is the nasty case:
//     the client cannot know whether its write happened, and its retry may see 409/412/404.
// Answers to GET requests are never lost after forwarding: a lost queue receive would hide its messages for the whole
// lease (10 minutes in the dev host), which says nothing about the app.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StorageFaults {
  /** Fraction of requests that fail (0..1). */
  errorRate: number;
  /** Of the failed ones, the fraction answered with a reset socket instead of a 503. Default 0.25. */
  resetShare?: number;
  /** Of the failed ones, the fraction that reach Azurite before failing (lost answer). Default 0.5. */
  afterShare?: number;
}

export interface StorageFaultStats { forwarded: number; refused503: number; refusedReset: number; lost503: number; lostReset: number }

export interface StorageFaultProxy {
  port: number;
  setFaults(faults: StorageFaults | undefined): void;
  /**
   * Refuses the next `times` requests that `match` picks, before they reach Azurite, with `status` (default 403, which
   * the storage SDKs do not retry: the caller sees the failure, as after a crash or an outage).
   */
  failNext(match: (method: string, url: string) => boolean, times?: number, status?: number): void;
  stats: StorageFaultStats;
  close(): Promise<void>;
}

export async function startStorageFaultProxy(targetPort: number, targetHost = '127.0.0.1', random: () => number = Math.random): Promise<StorageFaultProxy> {
  let faults: StorageFaults | undefined;
  let oneShot: { match: (method: string, url: string) => boolean; left: number; status: number } | undefined;
  const stats: StorageFaultStats = { forwarded: 0, refused503: 0, refusedReset: 0, lost503: 0, lostReset: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const busy = (res: http.ServerResponse) => {
    if (res.headersSent) { res.destroy(); return; }
    const body = '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>Injected fault: the server is busy.</Message></Error>';
    res.writeHead(503, { 'content-type': 'application/xml', 'x-ms-error-code': 'ServerBusy', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    if (oneShot && oneShot.left > 0 && oneShot.match(req.method ?? 'GET', req.url ?? '/')) {
      oneShot.left--;
      const status = oneShot.status;
      req.resume();
      req.on('end', () => {
        const body = '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code><Message>Injected fault.</Message></Error>';
        res.writeHead(status, { 'content-type': 'application/xml', 'x-ms-error-code': 'AuthorizationFailure', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    const plan = faults && random() < faults.errorRate
      ? { reset: random() < (faults.resetShare ?? 0.25), after: req.method !== 'GET' && random() < (faults.afterShare ?? 0.5) }
      : undefined;

    if (plan && !plan.after) {
      // Refused before Azurite sees it: drain the body, then fail.
      req.resume();
      req.on('end', () => {
        if (plan.reset) { stats.refusedReset++; req.socket.destroy(); } else { stats.refused503++; busy(res); }
      });
      return;
    }

    const upstream = http.request({
      host: targetHost, port: targetPort, method: req.method, path: req.url, headers: req.headers, agent,
    }, (answer) => {
      stats.forwarded++;
      if (plan) {
        // Azurite did the work; the client never learns it.
        answer.resume();
        answer.on('end', () => {
          if (plan.reset) { stats.lostReset++; req.socket.destroy(); } else { stats.lost503++; busy(res); }
        });
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    });
    upstream.on('error', () => { if (!res.headersSent) busy(res); else res.destroy(); });
    req.on('aborted', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    setFaults: (f) => { faults = f && f.errorRate > 0 ? f : undefined; },
    failNext: (match, times = 1, status = 403) => { oneShot = { match, left: times, status }; },
    stats,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
      agent.destroy();
    }),
  };
}

/** The blob, queue and table ports of an Azurite connection string (as built by dev/azurite.ts connectionStringFor). */
export function azuritePorts(connectionString: string): { blob: number; queue: number; table: number } {
  const port = (name: string) => {
    const m = new RegExp(`${name}Endpoint=https?://[^:/;]+:(\\d+)`, 'i').exec(connectionString);
    if (!m) throw new Error(`no ${name}Endpoint with a port in the storage connection string`);
    return Number(m[1]);
  };
  return { blob: port('Blob'), queue: port('Queue'), table: port('Table') };
}
