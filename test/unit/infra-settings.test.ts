// Keeps infra/ and docs/deploy.md in step with the settings the code reads. Reads the sources as text: every setting
// config.ts declares (settingNames()) and every %SETTING% a binding names must be set by Bicep or documented as optional, and the
// binding settings (resolved by the Functions host before any of our code runs) must be set by Bicep.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { settingNames } from '../../src/config/config.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const read = (...parts: string[]) => readFileSync(join(root, ...parts), 'utf8');

function envSchemaKeys(): string[] {
  const names = settingNames();
  // The list comes from the schemas themselves; guard against a walk that silently finds nothing.
  if (names.length < 40 || !names.includes('FACE_ENDPOINT')) throw new Error('settingNames() did not find the settings in src/config/config.ts');
  return names;
}

function bindingSettings(): string[] {
  const dir = join(root, 'src', 'functions');
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const m of read('src', 'functions', file).matchAll(/%([A-Za-z_][A-Za-z0-9_]*)%/g)) names.add(m[1]!);
  }
  return [...names].sort();
}

/** Settings read directly from an env object outside config.ts (e.g. telemetry start-up): `env.NAME`, `process.env.NAME`. */
function directEnvReads(): string[] {
  const dir = join(root, 'src');
  const names = new Set<string>();
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('config.ts'))) {
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b/g)) names.add(m[1]!);
  }
  return [...names].sort();
}

function bicepText(): string {
  const dir = join(root, 'infra');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.bicep'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

/** Keys written as `NAME: value` (object properties) anywhere in the Bicep: the app settings objects among them. */
function bicepKeys(text: string): Set<string> {
  return new Set([...text.matchAll(/^\s*'?([A-Za-z_][A-Za-z0-9_]*)'?\s*:/gm)].map((m) => m[1]!));
}

/** Rows of markdown tables in docs/deploy.md that start with a setting name in backticks. */
function docRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of read('docs', 'deploy.md').matchAll(/^\|\s*`([A-Za-z_][A-Za-z0-9_]*)`\s*\|(.*)$/gm)) rows.set(m[1]!, m[2]!);
  return rows;
}

describe('infra settings', () => {
  const envKeys = envSchemaKeys();
  const bindings = bindingSettings();
  const direct = directEnvReads();
  const bicep = bicepText();
  const setByBicep = bicepKeys(bicep);
  const docs = docRows();
  const optional = new Set([...docs].filter(([, row]) => /\boptional\b/i.test(row)).map(([name]) => name));

  it('finds the settings in the sources', () => {
    expect(envKeys.length).toBeGreaterThan(10);
    expect(envKeys).toContain('FACE_ENDPOINT');
    expect(envKeys).toContain('LIVENESS_RECORD_RETENTION_DAYS');
    expect(bindings).toEqual(expect.arrayContaining(['LIVENESS_COMPLETION_QUEUE', 'LIVENESS_SWEEP_SCHEDULE']));
    expect(bicep).toMatch(/targetScope = 'subscription'/);
  });

  it('sets every setting in Bicep or documents it as optional', () => {
    expect(direct).toContain('APPLICATIONINSIGHTS_CONNECTION_STRING');
    const missing = [...new Set([...envKeys, ...bindings, ...direct])].filter((k) => !setByBicep.has(k) && !optional.has(k));
    expect(missing).toEqual([]);
  });

  it('sets every %binding% setting in Bicep (the host needs them before the app starts)', () => {
    expect(bindings.filter((k) => !setByBicep.has(k))).toEqual([]);
  });

  it('documents every envSchema key in the docs/deploy.md settings table', () => {
    expect(envKeys.filter((k) => !docs.has(k))).toEqual([]);
  });

  it('sets no app setting that nothing reads (a misspelt name would be silently ignored)', () => {
    // Read by the Functions host or the Azure SDK, not by our code.
    const readByHostOrSdk = new Set(['AzureWebJobsStorage__credential', 'AzureWebJobsStorage__clientId', 'AZURE_CLIENT_ID',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT']);
    const read = new Set([...envKeys, ...bindings, ...direct]);
    const appSettings = [...setByBicep].filter((k) => /^[A-Z][A-Z0-9_]*$|^AzureWebJobsStorage__/.test(k));
    expect(appSettings).toEqual(expect.arrayContaining(['FACE_ENDPOINT', 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT', 'AzureWebJobsStorage__clientId']));
    expect(appSettings.filter((k) => !read.has(k) && !readByHostOrSdk.has(k))).toEqual([]);
  });

  it('turns the back-office admin key off and caps request bodies in Azure', () => {
    expect(bicep).toMatch(/BACKOFFICE_ADMIN_KEY_ENABLED: 'false'/);
    const limit = /param requestBodySizeLimitBytes int = (\d+)/.exec(bicep)?.[1];
    expect(Number(limit)).toBeGreaterThanOrEqual(6 * 1024 * 1024);
    expect(Number(limit)).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(bicep).toMatch(/FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: string\(requestBodySizeLimitBytes\)/);
  });

  it('runs without keys in Azure', () => {
    for (const k of ['FACE_ENDPOINT', 'FACE_CLIENT_ID', 'AZURE_CLIENT_ID', 'AzureWebJobsStorage__clientId',
      'AzureWebJobsStorage__blobServiceUri', 'AzureWebJobsStorage__queueServiceUri', 'AzureWebJobsStorage__tableServiceUri',
      'APPLICATIONINSIGHTS_CONNECTION_STRING', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING']) {
      expect(setByBicep, k).toContain(k);
    }
    expect(bicep).toMatch(/AzureWebJobsStorage__credential: 'managedidentity'/);
    expect(bicep).toMatch(/allowSharedKeyAccess: false/);
    expect(bicep).toMatch(/disableLocalAuth: true/);
    // No key and no connection string: FACE_API_KEY would switch the app to key auth, which the resource refuses.
    expect(setByBicep).not.toContain('FACE_API_KEY');
    expect(setByBicep).not.toContain('AzureWebJobsStorage');
  });
});
