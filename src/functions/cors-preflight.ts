// CORS for the pages, answered by the app itself, so the pages work whatever the platform's CORS does (Flex
// Consumption's is configured in infra/app/api.bicep, siteConfig.cors, for the same one origin; where it works it
// answers preflights before this function runs). Only PAGES_ORIGIN gets Access-Control-Allow-* headers; any other
// origin gets nothing CORS-ish. The headers are those the Functions host's CORS (and the dev host's copy of it,
// dev/host/cors.ts, for `Host.CORS`) gives one listed origin without credentials: the origin echoed with
// `Vary: Origin`, and on a preflight the requested method and headers. test/unit/cors-preflight.test.ts holds the two
// to the same answers.
//
// Registered only when PAGES_ORIGIN is set (in Azure, by Bicep): an OPTIONS route on every API path, and a hook that
// adds the origin header to the HTTP answers the pages' origin receives.
import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { parsePagesOrigin } from '../config/values.js';

type Headers = Pick<HttpRequest['headers'], 'get'>;

/** The CORS headers one request from `origin` gets: none unless it is the pages' origin. */
export function corsHeaders(pagesOrigin: string | undefined, method: string, headers: Headers): Record<string, string> {
  const origin = headers.get('origin');
  if (!pagesOrigin || !origin || origin.toLowerCase() !== pagesOrigin.toLowerCase()) return {};
  const out: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
  const requestedMethod = headers.get('access-control-request-method');
  if (method.toUpperCase() === 'OPTIONS' && requestedMethod !== null) {
    out['access-control-allow-methods'] = requestedMethod;
    const requestedHeaders = headers.get('access-control-request-headers');
    if (requestedHeaders) out['access-control-allow-headers'] = requestedHeaders;
  }
  return out;
}

/** OPTIONS on any API path: 204, with the allow headers for the pages' origin only. Reads no body, needs no services. */
export function preflight(pagesOrigin: string | undefined, request: Pick<HttpRequest, 'method' | 'headers'>): HttpResponseInit {
  return { status: 204, headers: corsHeaders(pagesOrigin, request.method, request.headers) };
}

const pagesOrigin = parsePagesOrigin(process.env.PAGES_ORIGIN) ?? undefined;
if (pagesOrigin) {
  app.http('cors-preflight', {
    route: '{*path}',
    methods: ['OPTIONS'],
    authLevel: 'anonymous',
    handler: async (request) => preflight(pagesOrigin, request),
  });
  app.hook.postInvocation((hook) => {
    if (hook.invocationContext.options.trigger.type !== 'httpTrigger') return;
    const request = hook.inputs[0] as HttpRequest;
    // The app's handlers answer plain HttpResponseInit objects (src/shared/handler.ts).
    const result = hook.result as HttpResponseInit | undefined;
    if (!result || typeof result !== 'object') return;
    const extra = corsHeaders(pagesOrigin, request.method, request.headers);
    if (Object.keys(extra).length === 0) return;
    hook.result = { ...result, headers: { ...(result.headers as Record<string, string> | undefined), ...extra } };
  });
}
