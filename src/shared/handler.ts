// The one wrapper between the Functions host and the app: it resolves the app's services, authenticates the caller,
// runs the handler with its dependencies, and turns any error into an answer (HTTP) or a host retry (queue, timer).
// Handlers are plain functions of (request, dependencies, caller), so a test calls them with fakes: pass a resolver
// that returns fake services instead of the composition root.
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { AppServices } from '../composition.js';
import type { LivenessDeps } from '../core/deps.js';
import type { Logger } from '../core/ports.js';
import type { WebhookDeps } from '../core/webhook-delivery.js';
import type { DeliveryMessage } from '../contract/types.js';
import { contract } from './contract.js';
import { errorResponse } from './errors.js';
import { SECURITY_HEADERS } from './http.js';
import { contextLogger } from './logger.js';

/** Where a handler's services come from: the composition root in the app, fakes in a test. */
export type ServicesResolver = () => Promise<AppServices>;

let composition: Promise<typeof import('../composition.js')> | undefined;
/**
 * The app's services. The composition root (and with it every Azure SDK the adapters use) is imported on the first
 * invocation, not when the host indexes the functions: indexing stays fast, and each process pays the imports once.
 */
export const appServices: ServicesResolver = async () => {
  composition ??= import('../composition.js');
  return (await composition).appServices();
};

/** Decides who is calling, or throws UnauthorizedError/ForbiddenError. */
export type Authenticate<C> = (request: HttpRequest, services: AppServices) => Promise<C>;

export interface HttpInvocation<C> {
  request: HttpRequest;
  context: InvocationContext;
  /** The core's dependencies, with this invocation's logger. */
  deps: LivenessDeps;
  /** Webhook delivery's dependencies, with this invocation's logger. */
  webhooks: WebhookDeps;
  services: AppServices;
  caller: C;
}

export type HttpRoute<C> = (invocation: HttpInvocation<C>) => Promise<HttpResponseInit>;

export function httpHandler<C>(authenticate: Authenticate<C>, route: HttpRoute<C>, resolve: ServicesResolver = appServices): HttpHandler {
  return async (request, context) => {
    const logger = contextLogger(context);
    try {
      const services = await resolve();
      const caller = await authenticate(request, services);
      const response = await route({
        request, context, deps: depsFor(services, logger), webhooks: { ...services.webhooks, logger }, services, caller,
      });
      return { ...response, headers: { ...SECURITY_HEADERS, ...(response.headers as Record<string, string> | undefined) } };
    } catch (error) {
      return errorResponse(error, logger, context.invocationId);
    }
  };
}

/** A queue message as the trigger hands it over: JSON text (the host decodes base64) or already an object. */
export function queueMessage(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try { return JSON.parse(input); } catch { return undefined; }
}

/** The delivery message of a webhook queue item, or undefined (logged, never retried) when it is not one. */
export async function deliveryMessage(input: unknown, webhooks: WebhookDeps, whenMalformed: string): Promise<DeliveryMessage | undefined> {
  const parsed = (await contract()).deliveryMessageSchema.safeParse(queueMessage(input));
  if (parsed.success) return parsed.data;
  webhooks.logger.warn(whenMalformed);
  return undefined;
}

export interface TriggerInvocation<T> { input: T; context: InvocationContext; deps: LivenessDeps; webhooks: WebhookDeps }

/** Queue and timer triggers: an error propagates to the host, which retries (and poisons) the message. */
export function triggerHandler<T, R>(run: (invocation: TriggerInvocation<T>) => Promise<R>, resolve: ServicesResolver = appServices) {
  return async (input: T, context: InvocationContext): Promise<R> => {
    const services = await resolve();
    const logger = contextLogger(context);
    return run({ input, context, deps: depsFor(services, logger), webhooks: { ...services.webhooks, logger } });
  };
}

function depsFor(services: AppServices, logger: Logger): LivenessDeps {
  return { ...services.liveness, logger };
}
