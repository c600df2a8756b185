// Setting readers that function modules need while the host indexes them (which functions to register, what health
// reports), kept apart from the settings schemas (config.ts, zod) so indexing does not load zod.

/** PAGES_ORIGIN: undefined when unset, null when it is not an origin (https, or http for local runs). */
export function parsePagesOrigin(value: string | undefined): string | undefined | null {
  const v = value?.trim().replace(/\/+$/, '');
  if (!v) return undefined;
  return /^https?:\/\/[^/\s?#@]+$/i.test(v) ? v : null;
}

/**
 * Names of settings that are still Key Vault references: App Service hands an unresolved reference (the secret is
 * missing, or the identity may not read it) to the app as its own text. Names only, never values.
 */
export function unresolvedKeyVaultReferences(env: Record<string, string | undefined>): string[] {
  return Object.entries(env).filter(([, v]) => /^\s*@Microsoft\.KeyVault\(/i.test(v ?? '')).map(([name]) => name).sort();
}
