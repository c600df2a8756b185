// Types of keyvault.mjs for the tests (the hooks are plain Node, run before anything is compiled).
export interface SecretSpec { name: string; make: () => string }
export interface SecretClientLike {
  getSecret(name: string): Promise<unknown>;
  setSecret(name: string, value: string): Promise<unknown>;
}
export const SECRETS: SecretSpec[];
export function ensureSecrets(client: SecretClientLike, options?: {
  secrets?: SecretSpec[]; log?: (line: string) => void; sleep?: (ms: number) => Promise<void>; now?: () => number; retryMs?: number; deadlineMs?: number;
}): Promise<Record<string, 'exists' | 'created'>>;
export type Arm = (method: 'GET' | 'POST', path: string) => Promise<{ status: number; body?: any }>;
export function refreshReferences(arm: Arm, siteId: string, options?: {
  log?: (line: string) => void; sleep?: (ms: number) => Promise<void>; attempts?: number; intervalMs?: number;
}): Promise<void>;
