// The evidence signer in Azure: an EC P-256 key in Key Vault that never leaves it. The app's managed identity signs
// with CryptographyClient.sign (role "Key Vault Crypto User" on the vault, in the Bicep) and reads the key's
// versions' public halves for GET /api/evidence/keys; rotating the key in Key Vault adds a version, and the old
// versions stay listed, so checkpoints signed before the rotation stay verifiable.
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import type { EvidenceSigner } from '../../core/ports.js';

/** How long the list of public keys is kept before Key Vault is asked again. */
const KEYS_TTL_MS = 5 * 60_000;

export class KeyVaultEvidenceSigner implements EvidenceSigner {
  private readonly vaultUrl: string;
  private readonly keyName: string;
  private sdk: Promise<typeof import('@azure/keyvault-keys')> | undefined;
  private cachedKeys: { at: number; keys: Array<Record<string, unknown>> } | undefined;

  /** @param keyUrl the key's URL without a version: https://<vault>.vault.azure.net/keys/<name> */
  constructor(keyUrl: string, private readonly credential: TokenCredential) {
    const url = new URL(keyUrl);
    this.vaultUrl = url.origin;
    this.keyName = url.pathname.split('/').filter(Boolean)[1] ?? '';
  }

  async currentKeyId(): Promise<string> {
    const { KeyClient } = await this.load();
    const key = await new KeyClient(this.vaultUrl, this.credential).getKey(this.keyName);
    return key.id!;
  }

  async sign(keyId: string, data: Uint8Array): Promise<Uint8Array> {
    const { CryptographyClient } = await this.load();
    const digest = createHash('sha256').update(data).digest();
    const signed = await new CryptographyClient(keyId, this.credential).sign('ES256', digest);
    return signed.result; // r || s, 64 bytes: the JWS form
  }

  async publicKeys(): Promise<Array<Record<string, unknown>>> {
    if (this.cachedKeys && Date.now() - this.cachedKeys.at < KEYS_TTL_MS) return this.cachedKeys.keys;
    const { KeyClient } = await this.load();
    const client = new KeyClient(this.vaultUrl, this.credential);
    const keys: Array<Record<string, unknown>> = [];
    for await (const version of client.listPropertiesOfKeyVersions(this.keyName)) {
      const key = await client.getKey(this.keyName, { version: version.version });
      const jwk = key.key;
      if (!jwk?.x || !jwk.y) continue;
      keys.push({
        kty: 'EC', crv: 'P-256', x: Buffer.from(jwk.x).toString('base64url'), y: Buffer.from(jwk.y).toString('base64url'),
        kid: key.id, alg: 'ES256', use: 'sig',
      });
    }
    this.cachedKeys = { at: Date.now(), keys };
    return keys;
  }

  /** The SDK is loaded on first use (local runs never need it). */
  private load() {
    this.sdk ??= import('@azure/keyvault-keys');
    return this.sdk;
  }
}
