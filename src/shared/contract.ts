// The request contract (src/contract: zod schemas with their documentation), loaded on the first request that needs
// it rather than when the host indexes the functions: building the schemas is most of the app's import time, and
// cold start is paid by whichever caller wakes an instance.
type Contract = typeof import('../contract/index.js');
let loading: Promise<Contract> | undefined;

export function contract(): Promise<Contract> {
  loading ??= import('../contract/index.js');
  return loading;
}
