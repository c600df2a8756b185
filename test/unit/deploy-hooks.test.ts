// The first `azd up` on a fresh environment, played offline over azure.yaml: the order azd runs the steps and hooks in,
// what each hook reads from the azd environment, and whether it is there by then (set before `up`, as docs/deploy.md
// lists, or an output of a step before it). Also: every hook runs the same Node script on both platform families, the
// secrets hook never overwrites and retries only 403, and the docs name the same values everywhere.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createHttpHeaders, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { SecretClient } from '@azure/keyvault-secrets';
import { parse } from 'yaml';
import { REQUIRED_BEFORE_UP } from '../../scripts/hooks/env.mjs';
import { ensureSecrets, refreshReferences, SECRETS, type Arm, type SecretClientLike } from '../../scripts/hooks/keyvault.mjs';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const read = (...parts: string[]) => readFileSync(join(root, ...parts), 'utf8');

// ---------------------------------------------------------------------------------------------------------------
// azure.yaml, the hooks and what they read
// ---------------------------------------------------------------------------------------------------------------

interface HookEntry { run?: string; shell?: string; continueOnError?: boolean }
type HookConfig = HookEntry & { posix?: HookEntry; windows?: HookEntry };
interface AzureYaml {
  services: Record<string, { hooks?: Record<string, HookConfig> }>;
  hooks?: Record<string, HookConfig>;
  workflows?: { up?: { steps?: { azd: string }[] } | { azd: string }[] };
}

const azureYaml = (): AzureYaml => parse(read('azure.yaml')) as AzureYaml;

/** What one script reads: `need(env, 'X')` / `need('X')` are required; `optional(env, 'X', …)` and `env.X` may be unset. */
function scriptReads(file: string, seen = new Set<string>()): { required: Set<string>; optional: Set<string> } {
  const required = new Set<string>();
  const optional = new Set<string>();
  if (seen.has(file)) return { required, optional };
  seen.add(file);
  const src = read(file);
  for (const m of src.matchAll(/\bneed\(\s*(?:(?:process\.)?env\s*,\s*)?'([A-Za-z_][A-Za-z0-9_]*)'/g)) required.add(m[1]!);
  for (const m of src.matchAll(/\boptional\(\s*(?:process\.)?env\s*,\s*'([A-Za-z_][A-Za-z0-9_]*)'/g)) optional.add(m[1]!);
  for (const m of src.matchAll(/\b(?:process\.)?env\.([A-Z][A-Z0-9_]*)\b/g)) optional.add(m[1]!);
  if (/\bREQUIRED_BEFORE_UP\b/.test(src) && file !== 'scripts/hooks/env.mjs') for (const n of REQUIRED_BEFORE_UP) required.add(n);
  // Scripts it runs or imports: ./x.mjs next to it, or dist/scripts/<name>.js (compiled from scripts/<name>.ts).
  const others = [
    ...[...src.matchAll(/from '\.\/([\w-]+\.mjs)'/g)].map((m) => `scripts/hooks/${m[1]}`),
    ...[...src.matchAll(/'dist',\s*'scripts',\s*'([\w-]+)\.js'|dist\/scripts\/([\w-]+)\.js/g)].map((m) => `scripts/${m[1] ?? m[2]}.ts`),
  ];
  for (const other of others) {
    const inner = scriptReads(other, seen);
    inner.required.forEach((n) => required.add(n));
    inner.optional.forEach((n) => optional.add(n));
  }
  for (const n of required) optional.delete(n);
  return { required, optional };
}

/** The script a hook entry runs (`node scripts/hooks/x.mjs`), or undefined for anything else. */
const hookScript = (entry: HookEntry | undefined): string | undefined => /^node (scripts\/hooks\/[\w-]+\.mjs)$/.exec(entry?.run?.trim() ?? '')?.[1];

/** The hooks of azure.yaml: project hooks and each service's, with both platform entries. */
function hooks(y: AzureYaml): { owner: string; name: string; config: HookConfig }[] {
  return [
    ...Object.entries(y.hooks ?? {}).map(([name, config]) => ({ owner: 'project', name, config })),
    ...Object.entries(y.services).flatMap(([service, s]) => Object.entries(s.hooks ?? {}).map(([name, config]) => ({ owner: service, name, config }))),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// azd's `up`, played over azure.yaml
// ---------------------------------------------------------------------------------------------------------------

/** Outputs of infra/main.bicep: what azd writes to the environment after provisioning. */
const bicepOutputs = (): string[] => [...read('infra', 'main.bicep').matchAll(/^output ([A-Za-z_][A-Za-z0-9_]*) /gm)].map((m) => m[1]!);

/** azd sets these itself before any hook runs (`azd env new`, the subscription and location prompts or `azd env set`). */
const AZD_OWN = ['AZURE_ENV_NAME', 'AZURE_LOCATION', 'AZURE_SUBSCRIPTION_ID'];

/**
 * The steps of `up`: the declared `workflows: up:` or azd's own order without one (azd 1.20's cmd/up.go packages, then
 * provisions, then deploys; newer azd packages while it provisions, which for the hooks is no better).
 */
function upSteps(y: AzureYaml): string[] {
  const declared = y.workflows?.up;
  const steps = Array.isArray(declared) ? declared : declared?.steps;
  return steps ? steps.map((s) => s.azd.trim()) : ['package --all', 'provision', 'deploy --all'];
}

interface HookRun { step: string; owner: string; hook: string; needs: string[]; missing: string[] }

/** Plays `up`: each hook as it runs, what it needs, and what it would not find. */
function playUp(y: AzureYaml, setBeforeUp: string[]): HookRun[] {
  const known = new Set([...AZD_OWN, ...setBeforeUp]);
  const runs: HookRun[] = [];
  const services = Object.keys(y.services);
  const run = (step: string, owner: string, hook: string) => {
    const config = owner === 'project' ? y.hooks?.[hook] : y.services[owner]?.hooks?.[hook];
    if (!config) return;
    const needs = new Set<string>();
    for (const entry of [config, config.posix, config.windows]) {
      const script = hookScript(entry);
      if (script) scriptReads(script).required.forEach((n) => needs.add(n));
    }
    runs.push({ step, owner, hook, needs: [...needs].sort(), missing: [...needs].filter((n) => !known.has(n)).sort() });
  };
  const packageAll = (step: string) => {
    run(step, 'project', 'prepackage');
    for (const s of services) { run(step, s, 'prepackage'); run(step, s, 'postpackage'); }
    run(step, 'project', 'postpackage');
  };
  for (const step of upSteps(y)) {
    const verb = step.split(/\s+/)[0];
    if (verb === 'provision') {
      run(step, 'project', 'preprovision');
      bicepOutputs().forEach((o) => known.add(o));
      run(step, 'project', 'postprovision');
    } else if (verb === 'package') {
      packageAll(step);
    } else if (verb === 'deploy') {
      // `azd deploy` packages each service again (with its package hooks) before deploying it.
      packageAll(step);
      run(step, 'project', 'predeploy');
      for (const s of services) { run(step, s, 'predeploy'); run(step, s, 'postdeploy'); }
      run(step, 'project', 'postdeploy');
    } else {
      throw new Error(`azure.yaml workflows.up: step '${step}' is not one this test knows how to play`);
    }
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------------------------
// docs/deploy.md
// ---------------------------------------------------------------------------------------------------------------

/** The text of a markdown section, from its heading to the next heading of the same or a higher level. */
function section(md: string, heading: string): string {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => l.replace(/^#+\s*/, '') === heading && /^#+\s/.test(l));
  if (start < 0) throw new Error(`docs/deploy.md has no section '${heading}'`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+\s/.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

const tableNames = (text: string): string[] =>
  [...text.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`/gm)].map((m) => m[1]!);
const codeBlocks = (text: string): string[] => [...text.matchAll(/```(?:bash|sh)?\n([\s\S]*?)```/g)].map((m) => m[1]!);
const setInCode = (code: string): string[] =>
  [...code.matchAll(/azd env (?:set|new)\s+([A-Z][A-Z0-9_]*)?/g)].map((m) => m[1] ?? 'AZURE_ENV_NAME');

/** The one list of values to set before `azd up` (docs/deploy.md, "Set before azd up"). */
const docsBeforeUp = (): string[] => tableNames(section(read('docs', 'deploy.md'), 'Set before `azd up`'));

/** Bicep parameters without a default, by the azd variable main.parameters.json maps them from. */
function requiredBicepVariables(): string[] {
  const bicep = read('infra', 'main.bicep');
  const params = JSON.parse(read('infra', 'main.parameters.json')) as { parameters: Record<string, { value: string }> };
  return [...bicep.matchAll(/^param (\w+) \w+\s*$/gm)].map((m) => m[1]!).map((p) => {
    const variable = /^\$\{([A-Z0-9_]+)\}$/.exec(params.parameters[p]?.value ?? '')?.[1];
    if (!variable) throw new Error(`required Bicep parameter ${p} is not mapped to an azd variable without a default in infra/main.parameters.json`);
    return variable;
  });
}

describe('azd up, played over azure.yaml', () => {
  it('declares up as provision, then package, then deploy', () => {
    expect(upSteps(azureYaml())).toEqual(['provision', 'package --all', 'deploy --all']);
  });

  it('reads what each hook reads, through the scripts it runs', () => {
    const reads = (f: string) => [...scriptReads(f).required].sort();
    expect(reads('scripts/hooks/web-prepackage.mjs')).toEqual(['BACKOFFICE_AUTH_ISSUER', 'BACKOFFICE_PAGE_CLIENT_ID', 'BACKOFFICE_PAGE_SCOPE',
      'DEVICE_AUTH_ISSUER', 'DEVICE_PAGE_CLIENT_ID', 'DEVICE_PAGE_SCOPE', 'SERVICE_API_URI']);
    expect([...scriptReads('scripts/hooks/web-prepackage.mjs').optional]).toEqual(['FACE_UI_MODULE_URL']);
    expect(reads('scripts/hooks/postprovision.mjs')).toEqual(['AZURE_KEY_VAULT_ENDPOINT', 'AZURE_RESOURCE_GROUP', 'AZURE_SUBSCRIPTION_ID',
      'AZURE_TENANT_ID', 'SERVICE_API_NAME']);
    expect(reads('scripts/hooks/preprovision.mjs')).toEqual([...REQUIRED_BEFORE_UP].sort());
  });

  it('every hook, at its step, finds each value it needs: set before up, or an output of a step before it', () => {
    const runs = playUp(azureYaml(), docsBeforeUp());
    expect(runs.map((r) => `${r.step}: ${r.owner} ${r.hook}`)).toEqual([
      'provision: project preprovision',
      'provision: project postprovision',
      'package --all: web prepackage',
      'deploy --all: web prepackage',
    ]);
    expect(runs.filter((r) => r.missing.length > 0)).toEqual([]);
    expect(runs.every((r) => r.needs.length > 0)).toBe(true);
  });

  it("fails in azd's own order (package before provision): the pages' hook runs before the Bicep outputs exist", () => {
    const y = azureYaml();
    delete y.workflows;
    const broken = playUp(y, docsBeforeUp()).filter((r) => r.missing.length > 0);
    expect(broken).toEqual([
      expect.objectContaining({ step: 'package --all', owner: 'web', hook: 'prepackage', missing: ['BACKOFFICE_AUTH_ISSUER', 'SERVICE_API_URI'] }),
    ]);
  });

  it('fails when a value the hooks need is not in the docs list', () => {
    const list = docsBeforeUp().filter((n) => n !== 'DEVICE_PAGE_SCOPE');
    const broken = playUp(azureYaml(), list).filter((r) => r.missing.length > 0);
    expect(broken.map((r) => `${r.owner} ${r.hook}: ${r.missing.join(', ')}`)).toEqual([
      'project preprovision: DEVICE_PAGE_SCOPE',
      'web prepackage: DEVICE_PAGE_SCOPE',
      'web prepackage: DEVICE_PAGE_SCOPE',
    ]);
  });
});

describe('hooks on both platform families', () => {
  it('every hook has a posix and a windows entry running the same Node script, which exists', () => {
    const all = hooks(azureYaml());
    expect(all.map((h) => `${h.owner} ${h.name}`).sort()).toEqual(['project postprovision', 'project preprovision', 'web prepackage']);
    for (const { owner, name, config } of all) {
      const where = `${owner} ${name}`;
      expect(config.run, `${where}: a top-level run is not used on Windows when posix/windows exist; put it in both`).toBeUndefined();
      expect(config.posix?.shell, where).toBe('sh');
      expect(config.windows?.shell, where).toBe('pwsh');
      const posix = hookScript(config.posix);
      expect(posix, `${where}: posix runs node scripts/hooks/<name>.mjs`).toBeDefined();
      expect(hookScript(config.windows), where).toBe(posix);
      expect(existsSync(join(root, posix!)), posix).toBe(true);
      expect(config.posix?.continueOnError, where).toBe(false);
      expect(config.windows?.continueOnError, where).toBe(false);
    }
  });

  it('no hook needs the Azure CLI or a POSIX shell', () => {
    for (const f of ['preprovision', 'postprovision', 'keyvault', 'web-prepackage', 'env']) {
      const src = read('scripts', 'hooks', `${f}.mjs`);
      expect(src, f).not.toMatch(/['"`]az['"`]|\baz (keyvault|rest|login)\b/);
      expect(src, f).not.toMatch(/\/dev\/urandom|\bbash\b|['"`]sh['"`]/);
    }
    expect(existsSync(join(root, 'scripts', 'ensure-secrets.sh'))).toBe(false);
  });
});

describe('docs/deploy.md: one list of values to set before azd up', () => {
  const md = read('docs', 'deploy.md');
  const list = docsBeforeUp();

  it('is exactly azd\'s own values, the required Bicep parameters and what the hooks need before provisioning', () => {
    expect([...list].sort()).toEqual([...new Set([...AZD_OWN, ...requiredBicepVariables(), ...REQUIRED_BEFORE_UP])].sort());
  });

  it('is set in the Deploy steps, listed in the --no-prompt table and set in the CI example', () => {
    const steps = setInCode(codeBlocks(section(md, 'Deploy'))[0] ?? '');
    const unattended = section(md, 'Unattended runs (`azd up --no-prompt`, CI)');
    const table = tableNames(unattended);
    const ci = codeBlocks(unattended).flatMap(setInCode);
    for (const name of list) {
      // The steps let azd prompt for the subscription and region; everything else is set explicitly.
      if (!['AZURE_LOCATION', 'AZURE_SUBSCRIPTION_ID'].includes(name)) expect(steps, `Deploy steps: ${name}`).toContain(name);
      expect(table, `--no-prompt table: ${name}`).toContain(name);
      expect(ci, `CI example: ${name}`).toContain(name);
    }
  });
});

describe('postprovision: Key Vault secrets', () => {
  class RestError extends Error {
    constructor(readonly statusCode: number, readonly code: string) { super(`${statusCode} ${code}: details that must not be printed`); }
  }
  /** A SecretClient stand-in: `answers` are what successive getSecret calls do. */
  function fakeVault(answers: Record<string, (RestError | 'exists')[]>, setAnswers: RestError[] = []) {
    const sets: { name: string; value: string }[] = [];
    const gets: string[] = [];
    const client: SecretClientLike = {
      async getSecret(name) {
        gets.push(name);
        const next = answers[name]!.length > 1 ? answers[name]!.shift()! : answers[name]![0]!;
        if (next === 'exists') return { name, value: 'old' };
        throw next;
      },
      async setSecret(name, value) {
        const fail = setAnswers.shift();
        if (fail) throw fail;
        sets.push({ name, value });
        return { name };
      },
    };
    return { client, sets, gets };
  }
  const clock = () => {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => { t += ms; } };
  };
  const notFound = () => new RestError(404, 'SecretNotFound');
  const forbidden = () => new RestError(403, 'Forbidden');

  it('leaves an existing secret alone and creates a missing one only on a definite 404', async () => {
    const vault = fakeVault({ 'subject-key-secret': ['exists'], 'webhook-secret': [notFound()] });
    const log: string[] = [];
    const outcome = await ensureSecrets(vault.client, { log: (l) => log.push(l), ...clock() });
    expect(outcome).toEqual({ 'subject-key-secret': 'exists', 'webhook-secret': 'created' });
    expect(vault.sets.map((s) => s.name)).toEqual(['webhook-secret']);
    expect(vault.sets[0]!.value).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(log.join('\n')).not.toContain(vault.sets[0]!.value);
    expect(SECRETS.find((s) => s.name === 'subject-key-secret')!.make()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('retries 403 while the role propagates, then creates', async () => {
    const vault = fakeVault({ 'subject-key-secret': [forbidden(), forbidden(), notFound()], 'webhook-secret': ['exists'] });
    const log: string[] = [];
    const c = clock();
    await ensureSecrets(vault.client, { log: (l) => log.push(l), ...c, retryMs: 10_000, deadlineMs: 600_000 });
    expect(vault.gets.filter((n) => n === 'subject-key-secret')).toHaveLength(3);
    expect(vault.sets.map((s) => s.name)).toEqual(['subject-key-secret']);
    expect(c.now()).toBe(20_000);
    expect(log.filter((l) => /403 Forbidden.*propagating/.test(l))).toHaveLength(2);
  });

  it('gives up on 403 after the bound with a clear message, creating nothing', async () => {
    const vault = fakeVault({ 'subject-key-secret': [forbidden()], 'webhook-secret': [notFound()] });
    const c = clock();
    await expect(ensureSecrets(vault.client, { log: () => {}, ...c, retryMs: 10_000, deadlineMs: 60_000 }))
      .rejects.toThrow(/reading secret subject-key-secret: still 403 Forbidden after 60 s.*Key Vault Secrets Officer.*nothing was created/);
    expect(vault.sets).toEqual([]);
    expect(c.now()).toBe(60_000);
  });

  it('never creates on any other failure (a transient error must not replace the subject-key secret)', async () => {
    for (const failure of [new RestError(500, 'InternalServerError'), new RestError(404, 'VaultNotFound'), new RestError(429, 'Throttled'), new Error('getaddrinfo ENOTFOUND')]) {
      const vault = fakeVault({ 'subject-key-secret': [failure as RestError], 'webhook-secret': [notFound()] });
      await expect(ensureSecrets(vault.client, { log: () => {}, ...clock() })).rejects.toThrow(/reading secret subject-key-secret failed \((500|VaultNotFound|404|429|Error)\); nothing was created or changed/);
      expect(vault.sets).toEqual([]);
    }
  });

  it('says how to recover a soft-deleted secret instead of replacing it', async () => {
    const vault = fakeVault({ 'subject-key-secret': [notFound()], 'webhook-secret': ['exists'] }, [new RestError(409, 'Conflict')]);
    await expect(ensureSecrets(vault.client, { log: () => {}, ...clock() })).rejects.toThrow(/deleted but recoverable.*recover it/);
  });
});

describe('postprovision: Key Vault reference refresh', () => {
  const siteId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/func';
  const references = (status: string) => ({ value: [{ name: 'func/SUBJECT_KEY_SECRET', properties: { status, reference: '@Microsoft.KeyVault(...)' } }] });

  it('refreshes, then waits until every reference is Resolved', async () => {
    const calls: string[] = [];
    const statuses = ['AccessToKeyVaultDenied', 'Resolved'];
    const arm: Arm = async (method, path) => {
      calls.push(`${method} ${path}`);
      return method === 'POST' ? { status: 200 } : { status: 200, body: references(statuses.shift() ?? 'Resolved') };
    };
    await refreshReferences(arm, siteId, { log: () => {}, sleep: async () => {} });
    expect(calls).toEqual([
      `POST ${siteId}/config/configreferences/appsettings/refresh?api-version=2022-03-01`,
      `GET ${siteId}/config/configreferences/appsettings?api-version=2022-03-01`,
      `GET ${siteId}/config/configreferences/appsettings?api-version=2022-03-01`,
    ]);
  });

  it('fails naming the setting (never a value) when a reference stays unresolved, or when the refresh is refused', async () => {
    const unresolved: Arm = async (method) => (method === 'POST' ? { status: 200 } : { status: 200, body: references('SecretNotFound') });
    await expect(refreshReferences(unresolved, siteId, { log: () => {}, sleep: async () => {}, attempts: 3 }))
      .rejects.toThrow(/still not resolved: SUBJECT_KEY_SECRET \(SecretNotFound\)/);
    const refused: Arm = async () => ({ status: 403 });
    await expect(refreshReferences(refused, siteId, { log: () => {}, sleep: async () => {} })).rejects.toThrow(/refreshing the Key Vault references failed: HTTP 403/);
  });
});

describe('Key Vault purge protection', () => {
  it('is a parameter: off by default (dev: azd down --purge works), on for production, never sent as false', () => {
    const secrets = read('infra', 'app', 'secrets.bicep');
    expect(secrets).toMatch(/param enablePurgeProtection bool = false/);
    expect(secrets).toMatch(/enablePurgeProtection: enablePurgeProtection \? true : null/);
    expect(read('infra', 'main.bicep')).toMatch(/enablePurgeProtection: keyVaultPurgeProtection/);
    const params = JSON.parse(read('infra', 'main.parameters.json')) as { parameters: Record<string, { value: string }> };
    expect(params.parameters.keyVaultPurgeProtection?.value).toBe('${AZURE_KEY_VAULT_PURGE_PROTECTION=false}');
    expect(tableNames(section(read('docs', 'deploy.md'), 'Unattended runs (`azd up --no-prompt`, CI)'))).toContain('AZURE_KEY_VAULT_PURGE_PROTECTION');
  });
});

describe('postprovision with the real Key Vault client (fake transport): the errors it sees are the ones it expects', () => {
  interface Call { method: string; path: string }
  /** A vault answering over a fake HttpClient: the Key Vault challenge first, then `answer` for each authorized call. */
  function vaultClient(answer: (call: Call) => { status: number; body?: unknown }) {
    const calls: Call[] = [];
    const httpClient = {
      async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
        const call = { method: request.method, path: new URL(request.url).pathname };
        if (!request.headers.get('authorization')) {
          return { request, status: 401, headers: createHttpHeaders({ 'www-authenticate': 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"' }) };
        }
        calls.push(call);
        const { status, body } = answer(call);
        return { request, status, headers: createHttpHeaders({ 'content-type': 'application/json' }), bodyAsText: body === undefined ? '' : JSON.stringify(body) };
      },
    };
    const credential = { getToken: async () => ({ token: 'token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const client = new SecretClient('https://kv-test.vault.azure.net/', credential, { httpClient, retryOptions: { maxRetries: 0 } });
    return { client, calls };
  }
  const secretBody = (name: string) => ({ id: `https://kv-test.vault.azure.net/secrets/${name}/0123456789abcdef0123456789abcdef`, value: 'x', attributes: { enabled: true } });
  const notFoundBody = { error: { code: 'SecretNotFound', message: 'A secret with (name/id) subject-key-secret was not found in this key vault.' } };

  it('a 404 SecretNotFound from the service creates the secret; an existing one is left alone', async () => {
    const { client, calls } = vaultClient(({ method, path }) => {
      if (method === 'GET' && path.startsWith('/secrets/subject-key-secret')) return { status: 404, body: notFoundBody };
      if (method === 'GET') return { status: 200, body: secretBody('webhook-secret') };
      return { status: 200, body: secretBody('subject-key-secret') };
    });
    expect(await ensureSecrets(client, { log: () => {} })).toEqual({ 'subject-key-secret': 'created', 'webhook-secret': 'exists' });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /secrets/subject-key-secret/', 'PUT /secrets/subject-key-secret', 'GET /secrets/webhook-secret/']);
  });

  it('403 and 500 from the service never create', async () => {
    const forbidden = vaultClient(() => ({ status: 403, body: { error: { code: 'Forbidden', message: 'Caller is not authorized' } } }));
    let t = 0;
    await expect(ensureSecrets(forbidden.client, { log: () => {}, now: () => t, sleep: async (ms) => { t += ms; }, deadlineMs: 30_000 }))
      .rejects.toThrow(/still 403 Forbidden/);
    expect(forbidden.calls.every((c) => c.method === 'GET')).toBe(true);
    const failing = vaultClient(() => ({ status: 500, body: { error: { code: 'InternalError', message: 'x' } } }));
    await expect(ensureSecrets(failing.client, { log: () => {} })).rejects.toThrow(/reading secret subject-key-secret failed \(500\)/);
    expect(failing.calls.every((c) => c.method === 'GET')).toBe(true);
  });
});
