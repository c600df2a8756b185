// The error invalid app settings raise. Its own module, without zod: the error mapping (src/shared/errors.ts) and the
// function modules need the class at indexing, the settings schemas (src/config/config.ts) only when first parsed.
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid app settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}
