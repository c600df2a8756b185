// Who may call what. Device endpoints take a bearer JWT from the app's identity provider; back-office endpoints take
// the Functions admin key (checked by the host) or, on /api/backoffice routes, an Entra ID token carrying the
// back-office app role. A device token never opens a back-office route.
import { app, type HttpHandler, type HttpResponseInit } from '@azure/functions';
import { ForbiddenError, UnauthorizedError } from '../core/errors.js';
import type { DeviceCaller } from '../core/ports.js';
import { BACKOFFICE_PREFIX, OPERATIONS, type AuthOf, type OperationId, type OperationRoute } from '../operations.js';
import { appServices, httpHandler, type Authenticate, type HttpRoute, type ServicesResolver } from './handler.js';

export type BackOfficeCaller = { via: 'admin-key' } | { via: 'entra'; objectId: string };

/**
 * A relying party's back end: `owner` is the client application its token was issued to (Entra's `azp`, or `appid`
 * in v1 tokens; the subject where neither is present). Verifications belong to their owner.
 */
export interface RelyingPartyCaller { owner: string }

/** The identity recorded with what a back-office caller does (reviewer, enroller, eraser). */
export const actor = (caller: BackOfficeCaller): string => (caller.via === 'entra' ? caller.objectId : 'admin-key');

export const anonymous: Authenticate<undefined> = async () => undefined;

/** A verification link's access token (`vla_…`): opaque, checked against the verification's stored hash. */
export const LINK_ACCESS_BEARER = /^Bearer\s+(vla_[A-Za-z0-9._-]{1,200})\s*$/i;

export const deviceBearer: Authenticate<DeviceCaller> = async (request, services) => {
  const authorization = request.headers.get('authorization');
  const link = LINK_ACCESS_BEARER.exec(authorization ?? '');
  if (link) return services.linkAccess.verify(link[1]!);
  const { subject } = await services.deviceAuth.verify(authorization);
  return { subject };
};

/**
 * The relying party's Entra ID token with the verifications app role. A device's token, or a link's access token,
 * is authenticated but the wrong kind of caller: 403, not 401.
 */
export const relyingPartyBearer: Authenticate<RelyingPartyCaller> = async (request, services) => {
  const authorization = request.headers.get('authorization');
  if (LINK_ACCESS_BEARER.test(authorization ?? '')) {
    throw new ForbiddenError("A verification link's access token cannot call the relying-party routes.");
  }
  if (!services.relyingPartyAuth) throw new UnauthorizedError('Relying-party sign-in is not configured for this app.');
  try {
    const { subject, clientId } = await services.relyingPartyAuth.verify(authorization);
    return { owner: clientId ?? subject };
  } catch (error) {
    if (error instanceof UnauthorizedError && await services.deviceAuth.verify(authorization).then(() => true, () => false)) {
      throw new ForbiddenError("A device's token cannot call the relying-party routes.");
    }
    throw error;
  }
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

/** The caller each kind of operation auth yields. */
export interface CallerOf { anonymous: undefined; device: DeviceCaller; backOffice: BackOfficeCaller; relyingParty: RelyingPartyCaller }

export interface HttpOperationOptions {
  /** Answers before the services are resolved and the caller authenticated, when it returns an answer (health). */
  before?: () => HttpResponseInit | undefined;
}

/** The handler of an operation of the table (src/operations.ts), typed with the caller its auth yields. */
export type OperationHandler<Id extends OperationId> = HttpRoute<CallerOf[AuthOf<Id>]>;

/**
 * Registers the handler of one operation of the table: its function name, route, method and auth come from the
 * table, so a function file names the operation and its handler and nothing else. A back-office operation is
 * registered twice, from one handler: at `route` with the Functions admin key (enforced by the host), and at
 * `backoffice/route` for Entra ID callers with the configured app role (checked here).
 */
export function httpOperation<Id extends OperationId>(
  id: Id, handler: OperationHandler<Id>, resolve: ServicesResolver = appServices, options: HttpOperationOptions = {},
): void {
  const { name, route, method, auth } = OPERATIONS[id] as OperationRoute;
  const methods = [method];
  const guarded = (inner: HttpHandler): HttpHandler => {
    const { before } = options;
    return before ? async (request, context) => before() ?? inner(request, context) : inner;
  };
  if (auth === 'backOffice') {
    const route_ = handler as HttpRoute<BackOfficeCaller>;
    app.http(name, { route, methods, authLevel: 'admin', handler: guarded(httpHandler(hostAdminKey, route_, resolve)) });
    app.http(`${name}-entra`, { route: `${BACKOFFICE_PREFIX}${route}`, methods, authLevel: 'anonymous', handler: guarded(httpHandler(entraBackOffice, route_, resolve)) });
  } else if (auth === 'relyingParty') {
    app.http(name, { route, methods, authLevel: 'anonymous', handler: guarded(httpHandler(relyingPartyBearer, handler as HttpRoute<RelyingPartyCaller>, resolve)) });
  } else if (auth === 'device') {
    app.http(name, { route, methods, authLevel: 'anonymous', handler: guarded(httpHandler(deviceBearer, handler as HttpRoute<DeviceCaller>, resolve)) });
  } else {
    app.http(name, { route, methods, authLevel: 'anonymous', handler: guarded(httpHandler(anonymous, handler as HttpRoute<undefined>, resolve)) });
  }
}
