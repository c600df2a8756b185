// Caller authentication at the HTTP edge. Device endpoints take a bearer JWT from the app's identity provider;
// back-office endpoints take the Functions admin key (checked by the host) or, on /api/backoffice routes, an
// Entra ID token carrying the back-office app role. A device token never opens a back-office route.
import { app, type HttpFunctionOptions, type HttpHandler, type HttpRequest, type InvocationContext } from '@azure/functions';
import { loadDeps } from '../services.js';
import { UnauthorizedError } from '../core/errors.js';
import type { DeviceCaller } from '../core/ports.js';
import { contextLogger } from './logger.js';
import { toErrorResponse } from './http.js';

export async function deviceCaller(request: HttpRequest, context: InvocationContext): Promise<DeviceCaller> {
  const { subject } = await (await loadDeps(context)).deviceAuth.verify(request.headers.get('authorization'));
  return { subject };
}

/**
 * Registers a back-office operation twice, from one handler: at `route` with the Functions admin key (enforced by
 * the host), and at `backoffice/route` for Entra ID callers with the configured app role (checked here).
 */
export function backOfficeHttp(name: string, options: { route: string; methods: HttpFunctionOptions['methods']; handler: HttpHandler }): void {
  app.http(name, { route: options.route, methods: options.methods, authLevel: 'admin', handler: options.handler });
  app.http(`${name}-entra`, {
    route: `backoffice/${options.route}`,
    methods: options.methods,
    authLevel: 'anonymous',
    handler: async (request, context) => {
      try {
        const verifier = (await loadDeps(context)).backOfficeAuth;
        if (!verifier) throw new UnauthorizedError('Back-office sign-in is not configured for this app.');
        await verifier.verify(request.headers.get('authorization'));
      } catch (error) {
        return toErrorResponse(error, contextLogger(context));
      }
      return options.handler(request, context);
    },
  });
}
