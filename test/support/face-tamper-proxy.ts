// A small HTTP proxy in front of the Face emulator for end-to-end tests: it counts every Face call the app makes
// (method and path, so tests can assert how many reached Face) and can rewrite Face's JSON answers (to play a Face
// that answers something malformed). Loopback only.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaceCall { method: string; path: string; status: number }

/** Gets the parsed JSON answer of a Face call and returns what the app should receive instead (or undefined: unchanged). */
export type Tamper = (call: { method: string; path: string; status: number }, body: unknown) => unknown;

export interface FaceTamperProxy {
  url: string;
  calls: FaceCall[];
  tamper: Tamper | undefined;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length', 'upgrade', 'te', 'trailer']);

export async function startFaceTamperProxy(target: string): Promise<FaceTamperProxy> {
  const base = target.replace(/\/+$/, '');
  const proxy: FaceTamperProxy = { url: '', calls: [], tamper: undefined, close: async () => {} };
  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      const upstream = await fetch(`${base}${path}`, {
        method, headers, ...(chunks.length && method !== 'GET' && method !== 'HEAD' ? { body: Buffer.concat(chunks) } : {}),
      });
      let body: Buffer = Buffer.from(await upstream.arrayBuffer());
      if (!path.startsWith('/emulator/')) proxy.calls.push({ method, path, status: upstream.status });
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => { if (!HOP_BY_HOP.has(k) && k !== 'content-encoding') out[k] = v; });
      if (proxy.tamper && /json/i.test(upstream.headers.get('content-type') ?? '') && body.length) {
        const replaced = proxy.tamper({ method, path, status: upstream.status }, JSON.parse(body.toString('utf8')));
        if (replaced !== undefined) body = Buffer.from(JSON.stringify(replaced));
      }
      out['content-length'] = String(body.length);
      res.writeHead(upstream.status, out).end(body);
    })().catch(() => { if (!res.headersSent) res.writeHead(502).end(); else res.destroy(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return proxy;
}
