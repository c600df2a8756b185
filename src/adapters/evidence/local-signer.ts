// The evidence signer for local runs (`npm start`, tests): ES256 keys in files under a directory (git-ignored),
// the first generated on first use with jose. The newest file signs; every file's public half is published, so
// checkpoints signed before a rotation stay verifiable. Rotate by adding a key (`rotate()`), never by deleting one.
import { createPrivateKey, sign } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type { EvidenceSigner } from '../../core/ports.js';

interface KeyFile { kid: string; privateJwk: Record<string, unknown> }

export class LocalEvidenceSigner implements EvidenceSigner {
  private keys: Promise<KeyFile[]> | undefined;

  constructor(private readonly directory: string, private readonly clock: () => Date = () => new Date()) {}

  async currentKeyId(): Promise<string> {
    return (await this.load()).at(-1)!.kid;
  }

  async sign(keyId: string, data: Uint8Array): Promise<Uint8Array> {
    const file = (await this.load()).find((k) => k.kid === keyId);
    if (!file) throw new Error(`no local evidence key ${keyId}`);
    const key = createPrivateKey({ key: file.privateJwk as never, format: 'jwk' });
    return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  }

  async publicKeys(): Promise<Array<Record<string, unknown>>> {
    return (await this.load()).map(({ kid, privateJwk }) => {
      const { d: _d, ...pub } = privateJwk;
      return { ...pub, kid, alg: 'ES256', use: 'sig' };
    });
  }

  /** Adds a new key, which signs from now on; the old ones stay published. */
  async rotate(): Promise<string> {
    await this.load();
    const kid = await this.generate();
    this.keys = undefined;
    return kid;
  }

  private load(): Promise<KeyFile[]> {
    this.keys ??= (async () => {
      await mkdir(this.directory, { recursive: true });
      let files = await this.read();
      if (files.length === 0) {
        await this.generate();
        files = await this.read();
      }
      return files;
    })().catch((error: unknown) => {
      this.keys = undefined;
      throw error;
    });
    return this.keys;
  }

  private async read(): Promise<KeyFile[]> {
    const names = (await readdir(this.directory)).filter((n) => n.endsWith('.json')).sort();
    return Promise.all(names.map(async (n) => JSON.parse(await readFile(path.join(this.directory, n), 'utf8')) as KeyFile));
  }

  /** Key ids sort by creation time, so the newest file is the current key. */
  private async generate(): Promise<string> {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const stamp = this.clock().toISOString().replace(/[-:.TZ]/g, '');
    const kid = `local-${stamp}-${Math.random().toString(36).slice(2, 8)}`;
    const file: KeyFile = { kid, privateJwk: { ...(await exportJWK(privateKey)) } };
    await writeFile(path.join(this.directory, `${kid}.json`), JSON.stringify(file), { flag: 'wx', mode: 0o600 });
    return kid;
  }
}
