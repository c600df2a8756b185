// Shared by the azd hooks (azure.yaml). azd runs each hook with the azd environment (values set with `azd env set`
// and the Bicep outputs of the last provision) as environment variables. Hooks read them only through `need` and
// `optional`, so test/unit/deploy-hooks.test.ts can list what each hook reads and check azd's `up` order provides it.

/** The values a newcomer sets before the first `azd up` (besides azd's own AZURE_ENV_NAME, AZURE_LOCATION and
 * AZURE_SUBSCRIPTION_ID). docs/deploy.md lists exactly these; the preprovision hook refuses to start without them. */
export const REQUIRED_BEFORE_UP = [
  'DEVICE_AUTH_ISSUER',
  'DEVICE_AUTH_AUDIENCE',
  'DEVICE_PAGE_CLIENT_ID',
  'DEVICE_PAGE_SCOPE',
  'BACKOFFICE_PAGE_CLIENT_ID',
  'BACKOFFICE_PAGE_SCOPE',
];

/** A value the hook cannot run without: a clear message naming it otherwise. */
export function need(env, name) {
  const value = env[name]?.trim();
  if (!value) {
    throw new Error(`${name} is not set in the azd environment: set it (azd env set ${name} <value>; docs/deploy.md, "Set before azd up"), `
      + 'or, for a Bicep output, run `azd provision` first');
  }
  return value;
}

/** A value with a fallback. */
export function optional(env, name, fallback) {
  return env[name]?.trim() || fallback;
}

/** Runs a hook's main function: prints an error's message (never a stack or a value) and exits 1. */
export function runHook(name, main) {
  main().catch((error) => {
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
