// CORS the way the Functions host applies it (its CORS middleware, configured by `Host.CORS` in local.settings.json
// for `func start`, and by the site's allowed origins in Azure): only listed origins get
// Access-Control-Allow-Origin (their own origin echoed, with Vary: Origin); a preflight (OPTIONS with Origin and
// Access-Control-Request-Method) is answered by the host, never by a function: 204 with the allow headers for a listed
// origin, 204 without them for any other. '*' allows every origin (as in Azure), never together with credentials.
import type http from 'node:http';

export interface CorsConfig {
  allowedOrigins: string[];
  credentials: boolean;
}

/** `Host.CORS` / DEVHOST_CORS: a comma-separated list of origins (scheme://host[:port]) or '*'. */
export function parseCors(origins: string | undefined, credentials: unknown = false): CorsConfig | undefined {
  const list = (origins ?? '').split(',').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean);
  if (list.length === 0) return undefined;
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/i.test(origin)) throw new Error(`CORS origin '${origin}' is not scheme://host[:port]`);
  }
  const allowCredentials = credentials === true || String(credentials).toLowerCase() === 'true';
  if (allowCredentials && list.includes('*')) throw new Error("CORS: '*' cannot be combined with CORSCredentials");
  return { allowedOrigins: list, credentials: allowCredentials };
}

function allowed(config: CorsConfig, origin: string | undefined): origin is string {
  if (!origin) return false;
  return config.allowedOrigins.includes('*') || config.allowedOrigins.some((o) => o.toLowerCase() === origin.toLowerCase());
}

/**
 * Applies CORS to one request. Returns true when it was a preflight and has been answered (the caller stops there);
 * otherwise sets the response headers a listed origin gets and returns false.
 */
export function applyCors(config: CorsConfig | undefined, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (!config) return false;
  const origin = req.headers.origin;
  const requestedMethod = req.headers['access-control-request-method'];
  const preflight = req.method === 'OPTIONS' && origin !== undefined && requestedMethod !== undefined;
  if (allowed(config, origin)) {
    res.setHeader('access-control-allow-origin', config.allowedOrigins.includes('*') ? '*' : origin);
    res.setHeader('vary', 'Origin');
    if (config.credentials) res.setHeader('access-control-allow-credentials', 'true');
    if (preflight) {
      res.setHeader('access-control-allow-methods', String(requestedMethod));
      const requestedHeaders = req.headers['access-control-request-headers'];
      if (requestedHeaders) res.setHeader('access-control-allow-headers', String(requestedHeaders));
    }
  }
  if (preflight) {
    res.writeHead(204).end();
    req.resume();
  }
  return preflight;
}
