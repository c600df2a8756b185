// What the function adapters call to get the app's dependencies. The composition root (and with it every Azure SDK
// the adapters use) is imported on the first invocation, not when the host indexes the functions: indexing stays
// fast, and each process pays the SDK import once.
import type { InvocationContext } from '@azure/functions';

type Composition = typeof import('./composition.js');
let composition: Promise<Composition> | undefined;

export async function loadDeps(context: InvocationContext): Promise<ReturnType<Composition['depsFor']>> {
  composition ??= import('./composition.js');
  return (await composition).depsFor(context);
}
