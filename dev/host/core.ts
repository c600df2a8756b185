// The `@azure/functions-core` seam. Inside Azure, the Node worker answers `require('@azure/functions-core')` with an
// object through which the `@azure/functions` library registers every `app.*` function and `app.hook.*` hook
// (azure-functions-nodejs-worker src/setupCoreModule.ts). The dev host answers that require the same way, so it
// receives exactly the (metadata, callback) pairs the real host would index. The seam is internal: the dev host's
// registration test (test/e2e/dev-host.test.ts) fails if an @azure/functions upgrade changes it.
import Module from 'node:module';

/**
 * A scalar from binding metadata or host.json as text (strings, numbers and booleans; anything else is `fallback`):
 * those values are typed `unknown` because the host reads them from JSON.
 */
export function scalarText(value: unknown, fallback = ''): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return fallback;
}

export interface BindingMetadata {
  type: string;
  /** 'in', 'out' or 'inout'. */
  direction: string;
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, BindingMetadata>;
  retryOptions?: unknown;
  [key: string]: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;
export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';
export type HookCallback = (context: Record<string, unknown>) => unknown;

export interface Registration { metadata: FunctionMetadata; callback: FunctionCallback }

export class Disposable {
  #callback: (() => void) | undefined;
  static from(...items: { dispose(): unknown }[]): Disposable { return new Disposable(() => items.forEach((i) => i.dispose())); }
  constructor(callback: () => void) { this.#callback = callback; }
  dispose(): void { this.#callback?.(); this.#callback = undefined; }
}

export interface CoreRegistry {
  registrations: Registration[];
  hooks: Record<HookName, HookCallback[]>;
  programmingModel: unknown;
  /** System log lines the library writes through coreApi.log. */
  onSystemLog: (level: string, category: string, message: string) => void;
}

const KEY = Symbol.for('devhost.functionsCore');

/** Installs the seam (idempotent) and returns the registry it fills. Must run before the app is imported. */
export function installCoreSeam(): CoreRegistry {
  const g = globalThis as unknown as Record<symbol, CoreRegistry | undefined>;
  const existing = g[KEY];
  if (existing) return existing;
  const registry: CoreRegistry = {
    registrations: [],
    hooks: { appStart: [], appTerminate: [], preInvocation: [], postInvocation: [], log: [] },
    programmingModel: undefined,
    onSystemLog: () => {},
  };
  const coreApi = {
    version: '3.10.1-devhost',
    hostVersion: '4.1040.0-devhost',
    registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
      if (registry.registrations.some((r) => r.metadata.name.toLowerCase() === metadata.name.toLowerCase())) {
        throw new Error(`A function with the name "${metadata.name}" has already been registered.`);
      }
      const registration = { metadata, callback };
      registry.registrations.push(registration);
      return new Disposable(() => { const i = registry.registrations.indexOf(registration); if (i >= 0) registry.registrations.splice(i, 1); });
    },
    registerHook(hookName: string, callback: HookCallback): Disposable {
      const list = registry.hooks[hookName as HookName];
      if (!list) throw new RangeError(`Unrecognized hook "${hookName}"`);
      list.push(callback);
      return new Disposable(() => { const i = list.indexOf(callback); if (i >= 0) list.splice(i, 1); });
    },
    setProgrammingModel(model: unknown): void { registry.programmingModel = model; },
    getProgrammingModel(): unknown { return registry.programmingModel; },
    log(level: string, category: string, message: string): void { registry.onSystemLog(level, category, message); },
    Disposable,
  };
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg, args: [string, ...unknown[]]) {
      return args[0] === '@azure/functions-core' ? coreApi : (Reflect.apply(target, thisArg, args) as unknown);
    },
  });
  g[KEY] = registry;
  return registry;
}

/** The trigger binding (direction in, type ending in "Trigger") of a registration. */
export function triggerOf(metadata: FunctionMetadata): (BindingMetadata & { name: string }) | undefined {
  for (const [name, binding] of Object.entries(metadata.bindings)) {
    if (/trigger$/i.test(binding.type)) return { ...binding, name };
  }
  return undefined;
}

/** The `options` object InvocationContext exposes (same shape as the library's fromRpcBindings). */
export function invocationOptions(metadata: FunctionMetadata): { trigger: Record<string, unknown>; return?: Record<string, unknown>; extraInputs: Record<string, unknown>[]; extraOutputs: Record<string, unknown>[] } {
  let trigger: Record<string, unknown> | undefined;
  let ret: Record<string, unknown> | undefined;
  const extraInputs: Record<string, unknown>[] = [];
  const extraOutputs: Record<string, unknown>[] = [];
  for (const [name, binding] of Object.entries(metadata.bindings)) {
    const b = { ...binding, name };
    if (/trigger$/i.test(binding.type)) trigger = b;
    else if (name === '$return') ret = b;
    else if (binding.direction === 'in') extraInputs.push(b);
    else if (binding.direction === 'out') extraOutputs.push(b);
  }
  return { trigger: trigger ?? { name: 'unknown', type: 'unknown' }, ...(ret ? { return: ret } : {}), extraInputs, extraOutputs };
}
