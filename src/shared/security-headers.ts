// Two headers on every HTTP answer of the app, success or error, whatever the function returned: responses carry
// session tokens and biometric metadata, so no cache may keep them (Cache-Control: no-store), and no browser may
// guess a content type other than the one declared (X-Content-Type-Options: nosniff). Set in one postInvocation
// hook, so no handler can forget them.
import { app, type HttpResponseInit } from '@azure/functions';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

/** The function's result with the security headers set (an HTTP function that returned nothing answers 204). */
export function withSecurityHeaders(result: unknown): unknown {
  if (result === undefined || result === null) return { status: 204, headers: { ...SECURITY_HEADERS } };
  if (typeof result !== 'object') return result; // not an HTTP response: the host reports it as it would
  const current = (result as { headers?: unknown }).headers;
  if (current instanceof Headers) { // an HttpResponse: its headers are a live Headers object
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) current.set(name, value);
    return result;
  }
  const headers = new Headers((current ?? undefined) as ConstructorParameters<typeof Headers>[0]);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  return { ...(result as HttpResponseInit), headers };
}

let registered = false;
export function registerSecurityHeaders(): void {
  if (registered) return;
  registered = true;
  app.hook.postInvocation((hook) => {
    if (hook.invocationContext.options.trigger.type.toLowerCase() !== 'httptrigger') return;
    if (hook.error !== undefined && hook.error !== null) return;
    hook.result = withSecurityHeaders(hook.result);
  });
}
