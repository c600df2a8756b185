// DefaultAzureCredential, loaded on first use: @azure/identity costs ~200 ms to import, and key-based local runs
// (Azurite, the Face emulator) never need it.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';

export function lazyDefaultAzureCredential(managedIdentityClientId?: string): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      credential ??= import('@azure/identity').then(({ DefaultAzureCredential }) =>
        new DefaultAzureCredential(managedIdentityClientId ? { managedIdentityClientId } : {}));
      return (await credential).getToken(scopes, options);
    },
  };
}
