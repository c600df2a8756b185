// A minimal keep-alive HTTP client on node:http (cheaper and more predictable under load than fetch + FormData),
// and a prebuilt multipart body for the create request.
import http from 'node:http';
import { randomBytes } from 'node:crypto';

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });

export interface HttpResult { status: number; body: Buffer; headers: http.IncomingHttpHeaders }

export function request(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    const req = http.request({
      method,
      hostname: u.hostname,
      port: u.port,
      path: `${u.pathname}${u.search}`,
      agent,
      headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : { 'content-length': '0' }) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    if (payload) req.end(payload); else req.end();
  });
}

export function json<T = Record<string, unknown>>(r: HttpResult): T | undefined {
  try { return JSON.parse(r.body.toString('utf8')) as T; } catch { return undefined; }
}

export interface Multipart { body: Buffer; contentType: string }

/** multipart/form-data with text fields and one file part. */
export function multipart(fields: Record<string, string>, file: { name: string; fileName: string; contentType: string; bytes: Uint8Array }): Multipart {
  const boundary = `----bench${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.fileName}"\r\nContent-Type: ${file.contentType}\r\n\r\n`));
  parts.push(Buffer.from(file.bytes));
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

export function closeAgent(): void { agent.destroy(); }
