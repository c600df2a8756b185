// Runs one invocation the way the Node worker does: preInvocation hooks (may replace inputs and the handler),
// the handler, postInvocation hooks (may replace the result or the error), with an InvocationContext built from the
// app's own copy of @azure/functions and logs routed to stdout (and through `log` hooks).
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { invocationOptions, type CoreRegistry, type Registration } from './core.js';
import { describeError, functionLog, hostLog } from './log.js';

/** The runtime classes of the `@azure/functions` package the app itself uses. */
export interface FunctionsLibrary {
  HttpRequest: new (init: Record<string, unknown>) => unknown;
  HttpResponse: new (init?: Record<string, unknown>) => unknown;
  InvocationContext: new (init: Record<string, unknown>) => unknown;
}

export class FunctionTimeoutError extends Error {
  constructor(functionName: string, timeoutMs: number) {
    super(`Timeout value of ${formatTimeSpan(timeoutMs)} was exceeded by function: Functions.${functionName}`);
    this.name = 'FunctionTimeoutError';
  }
}

export function formatTimeSpan(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

export interface InvokeOptions {
  /** Why the function runs (goes into the "Executing" log line like the host's Reason). */
  reason: string;
  triggerMetadata?: Record<string, unknown>;
  invocationId?: string;
}

export class Invoker {
  /** Shared by all hooks of the app (worker: appHookData). */
  readonly appHookData: Record<string, unknown> = {};
  /** Shared by appStart and appTerminate only. */
  private readonly appLevelOnlyHookData: Record<string, unknown> = {};
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly registry: CoreRegistry,
    private readonly lib: FunctionsLibrary,
    private readonly functionTimeoutMs: number | undefined,
  ) {}

  get activeInvocations(): number { return this.inFlight.size; }

  async runAppHooks(name: 'appStart' | 'appTerminate', functionAppDirectory: string): Promise<void> {
    for (const hook of [...this.registry.hooks[name]]) {
      await hook({ hookData: this.appLevelOnlyHookData, appHookData: this.appHookData, functionAppDirectory });
    }
  }

  /** Waits (up to `ms`) for running invocations to finish. */
  async drain(ms: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
    const done = Promise.allSettled([...this.inFlight]).then(() => true);
    const result = await Promise.race([done, timeout]);
    clearTimeout(timer);
    return result;
  }

  invoke(registration: Registration, inputs: unknown[], options: InvokeOptions): Promise<unknown> {
    const p = this.run(registration, inputs, options);
    this.inFlight.add(p);
    const remove = (): void => { this.inFlight.delete(p); };
    p.then(remove, remove);
    return p;
  }

  private async run(registration: Registration, inputs: unknown[], options: InvokeOptions): Promise<unknown> {
    const name = registration.metadata.name;
    const invocationId = options.invocationId ?? randomUUID();
    const logHooks = this.registry.hooks.log;
    // Declared before the log handler that closes over it; assigned once the handler exists.
    // eslint-disable-next-line prefer-const
    let context: unknown;
    const logHandler = (level: string, ...args: unknown[]): void => {
      if (logHooks.length === 0) { functionLog(name, level, args); return; }
      const hookContext: Record<string, unknown> = { hookData: {}, appHookData: this.appHookData, level, message: format(...args), category: 'user', invocationContext: context };
      for (const hook of logHooks) {
        try { hook(hookContext); } catch (err) { hostLog(`log hook failed: ${describeError(err)}`, 'warning'); }
      }
      functionLog(name, String(hookContext.level), [hookContext.message]);
    };
    context = new this.lib.InvocationContext({
      invocationId,
      functionName: name,
      logHandler,
      ...(options.triggerMetadata ? { triggerMetadata: options.triggerMetadata } : {}),
      options: invocationOptions(registration.metadata),
    });

    const hookData: Record<string, unknown> = {};
    const pre: Record<string, unknown> = { hookData, appHookData: this.appHookData, invocationContext: context, inputs, functionCallback: registration.callback };
    const started = performance.now();
    hostLog(`Executing 'Functions.${name}' (Reason='${options.reason}', Id=${invocationId})`);
    let result: unknown;
    let error: unknown;
    try {
      for (const hook of [...this.registry.hooks.preInvocation]) await hook(pre);
      const handler = pre.functionCallback as (...a: unknown[]) => unknown;
      const args = pre.inputs as unknown[];
      result = await this.withTimeout(name, Promise.resolve().then(() => handler(...args, context)));
    } catch (err) {
      error = err;
    }
    const post: Record<string, unknown> = { hookData, appHookData: this.appHookData, invocationContext: context, inputs: pre.inputs, result, error };
    try {
      for (const hook of [...this.registry.hooks.postInvocation]) await hook(post);
    } catch (err) {
      post.error = err;
    }
    const duration = Math.round(performance.now() - started);
    if (post.error !== undefined && post.error !== null) {
      hostLog(`Executed 'Functions.${name}' (Failed, Id=${invocationId}, Duration=${duration}ms)`, 'error');
      hostLog(`Function 'Functions.${name}' failed: ${describeError(post.error)}`, 'error');
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the host rethrows what the function threw, as it is
      throw post.error;
    }
    hostLog(`Executed 'Functions.${name}' (Succeeded, Id=${invocationId}, Duration=${duration}ms)`);
    return post.result;
  }

  private withTimeout<T>(name: string, work: Promise<T>): Promise<T> {
    const limit = this.functionTimeoutMs;
    if (!limit) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // A Node handler cannot be cancelled: the real host restarts the worker. The dev host fails the invocation
        // (HTTP 500 / queue retry) and lets the handler run on in the background.
        hostLog(`Timeout value of ${formatTimeSpan(limit)} exceeded by function 'Functions.${name}'. The dev host cannot cancel it; the invocation is failed, the handler keeps running.`, 'error');
        work.catch(() => {});
        reject(new FunctionTimeoutError(name, limit));
      }, limit);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}
