// Who may call what. Device endpoints take a bearer JWT from the app's identity provider; back-office endpoints take
// the Functions admin key (checked by the host) or, on /api/backoffice routes, an Entra ID token carrying the
// back-office app role. A device token never opens a back-office route.
import { app, type HttpFunctionOptions } from '@azure/functions';
import { ForbiddenError, UnauthorizedError } from '../core/errors.js';
import type { DeviceCaller } from '../core/ports.js';
import { appServices, httpHandler, type Authenticate, type HttpRoute, type ServicesResolver } from './handler.js';

export type BackOfficeCaller = { via: 'admin-key' } | { via: 'entra'; objectId: string };

/** The identity recorded with what a back-office caller does (reviewer, enroller, eraser). */
export const actor = (caller: BackOfficeCaller): string => (caller.via === 'entra' ? caller.objectId : 'admin-key');

export const anonymous: Authenticate<undefined> = async () => undefined;

export const deviceBearer: Authenticate<DeviceCaller> = async (request, services) => {
  const { subject } = await services.deviceAuth.verify(request.headers.get('authorization'));
  return { subject };
};

/**
 * The host has already checked the admin key (authLevel 'admin') before the worker sees the request. The key is a
 * shared secret that also drives the host's admin API, so it is for local runs: a setting turns it off (off in
 * Azure), and it is refused in the URL (`?code=`), where proxies and browser histories keep it.
 */
export const hostAdminKey: Authenticate<BackOfficeCaller> = async (request, services) => {
  if (!services.adminKeyEnabled) {
    throw new ForbiddenError('The admin key is turned off for the back office; use /api/backoffice with an Entra ID token.');
  }
  if (new URL(request.url).searchParams.has('code')) {
    throw new UnauthorizedError('Send the key in the x-functions-key header, never in the URL.');
  }
  return { via: 'admin-key' };
};

export const entraBackOffice: Authenticate<BackOfficeCaller> = async (request, services) => {
  if (!services.backOfficeAuth) throw new UnauthorizedError('Back-office sign-in is not configured for this app.');
  const { subject } = await services.backOfficeAuth.verify(request.headers.get('authorization'));
  return { via: 'entra', objectId: subject };
};

interface RouteOptions<C> { route: string; methods: HttpFunctionOptions['methods']; handler: HttpRoute<C> }

export function anonymousHttp(name: string, options: RouteOptions<undefined>, resolve: ServicesResolver = appServices): void {
  app.http(name, { route: options.route, methods: options.methods, authLevel: 'anonymous', handler: httpHandler(anonymous, options.handler, resolve) });
}

export function deviceHttp(name: string, options: RouteOptions<DeviceCaller>, resolve: ServicesResolver = appServices): void {
  app.http(name, { route: options.route, methods: options.methods, authLevel: 'anonymous', handler: httpHandler(deviceBearer, options.handler, resolve) });
}

/**
 * Registers a back-office operation twice, from one handler: at `route` with the Functions admin key (enforced by
 * the host), and at `backoffice/route` for Entra ID callers with the configured app role (checked here).
 */
export function backOfficeHttp(name: string, options: RouteOptions<BackOfficeCaller>, resolve: ServicesResolver = appServices): void {
  app.http(name, { route: options.route, methods: options.methods, authLevel: 'admin', handler: httpHandler(hostAdminKey, options.handler, resolve) });
  app.http(`${name}-entra`, {
    route: `backoffice/${options.route}`,
    methods: options.methods,
    authLevel: 'anonymous',
    handler: httpHandler(entraBackOffice, options.handler, resolve),
  });
}
