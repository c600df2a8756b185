// The offline guard for Azure Verified Module pins (there is no Bicep compiler here). Every `br/public:avm/...:<version>`
// module in infra/**/*.bicep must have a snapshot in infra/avm-snapshots/ for exactly that module and version, made by
// extract.mjs from the module's main.json at its release tag. Checked against it: every parameter we pass is declared,
// every required one is passed, every literal has the declared type and one of the allowed values, every key of an
// object literal is declared where the module types the object; where it does not (an `object` parameter), the keys
// are checked against the module's own nested deployment that reads them (storage-account's blobServices) or against
// the Azure resource schema the module hands the object to (web/site's functionAppConfig and siteConfig,
// infra/avm-snapshots/resource-schemas/); and every `<module>.outputs.<name>` we read exists. This is the class of
// bug Bicep reports as BCP037 (undeclared property), BCP036/BCP088 (wrong type or value) and BCP053 (unknown output);
// Azure itself ignores an unknown key inside an untyped object without a word.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const snapshotDir = join(root, 'infra', 'avm-snapshots');

// ---------------------------------------------------------------------------------------------------------------
// A small reader for the part of Bicep the guard needs: module declarations and the object literals in them.
// ---------------------------------------------------------------------------------------------------------------

type BicepValue =
  | { kind: 'object'; props: Map<string, BicepValue> }
  | { kind: 'array'; items: BicepValue[] }
  | { kind: 'expr'; text: string };

class BicepReader {
  constructor(private readonly src: string, public pos = 0) {}

  private peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  private fail(message: string): never {
    const line = this.src.slice(0, this.pos).split('\n').length;
    throw new Error(`Bicep reader: ${message} at line ${line}`);
  }

  /** Skips spaces, tabs and comments; with `newlines`, also line breaks and commas (item separators). */
  skip(newlines: boolean): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (newlines && (c === '\n' || c === ',')) this.pos++;
      else if (c === '/' && this.peek(1) === '/') while (this.pos < this.src.length && this.peek() !== '\n') this.pos++;
      else if (c === '/' && this.peek(1) === '*') {
        const end = this.src.indexOf('*/', this.pos + 2);
        this.pos = end < 0 ? this.src.length : end + 2;
      } else return;
    }
  }

  /** Skips a string literal ('…' with escapes and ${…} interpolation, or '''…'''). */
  private skipString(): void {
    if (this.src.startsWith("'''", this.pos)) {
      const end = this.src.indexOf("'''", this.pos + 3);
      if (end < 0) this.fail('unterminated multi-line string');
      this.pos = end + 3;
      return;
    }
    this.pos++; // opening quote
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (c === '\\') this.pos += 2;
      else if (c === "'") {
        this.pos++;
        return;
      } else if (c === '$' && this.peek(1) === '{') {
        this.pos += 2;
        this.skipBalanced('}');
      } else this.pos++;
    }
    this.fail('unterminated string');
  }

  /** Skips up to and including `close`, across nested brackets and strings. */
  private skipBalanced(close: string): void {
    const closers: string[] = [close];
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (c === "'") {
        this.skipString();
        continue;
      }
      if (c === '/' && (this.peek(1) === '/' || this.peek(1) === '*')) {
        this.skip(false);
        continue;
      }
      this.pos++;
      if (c === '(') closers.push(')');
      else if (c === '[') closers.push(']');
      else if (c === '{') closers.push('}');
      else if (c === closers[closers.length - 1]) {
        closers.pop();
        if (closers.length === 0) return;
      }
    }
    this.fail(`missing ${close}`);
  }

  /** An expression: everything up to a line break, comma or closing bracket at depth 0 (a line starting with an
   * operator continues it, as in a multi-line ternary). */
  private readExpr(): BicepValue {
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === '' || c === ',' || c === '}' || c === ']') break;
      if (c === '\n') {
        const rest = this.src.slice(this.pos + 1).match(/^[ \t\r]*(\S)/);
        if (rest && '?:.&|'.includes(rest[1]!)) {
          this.pos++;
          continue;
        }
        break;
      }
      if (c === "'") this.skipString();
      else if (c === '(' || c === '[' || c === '{') {
        this.pos++;
        this.skipBalanced(c === '(' ? ')' : c === '[' ? ']' : '}');
      } else if (c === '/' && this.peek(1) === '/') break;
      else this.pos++;
    }
    return { kind: 'expr', text: this.src.slice(start, this.pos).trim() };
  }

  value(): BicepValue {
    this.skip(false);
    const start = this.pos;
    let value: BicepValue;
    if (this.peek() === '{') value = this.object();
    else if (this.peek() === '[' && !/^\[\s*for\b/.test(this.src.slice(this.pos, this.pos + 40))) value = this.array();
    else return this.readExpr();
    // `{ … }.x` or `[ … ][0]` are expressions built on a literal, not literals.
    this.skip(false);
    if (this.peek() === '.' || this.peek() === '[' || this.peek() === '?') {
      this.pos = start;
      return this.readExpr();
    }
    return value;
  }

  object(): BicepValue {
    if (this.peek() !== '{') this.fail('expected {');
    this.pos++;
    const props = new Map<string, BicepValue>();
    for (;;) {
      this.skip(true);
      if (this.peek() === '}') {
        this.pos++;
        return { kind: 'object', props };
      }
      if (this.src.startsWith('...', this.pos)) {
        this.pos += 3;
        this.readExpr(); // spread: its keys are not known here
        continue;
      }
      let key: string;
      if (this.peek() === "'") {
        const start = this.pos;
        this.skipString();
        key = this.src.slice(start + 1, this.pos - 1);
      } else {
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
        if (!m) this.fail('expected a property name');
        key = m[0];
        this.pos += key.length;
      }
      this.skip(false);
      if (this.peek() !== ':') this.fail(`expected : after ${key}`);
      this.pos++;
      props.set(key, this.value());
    }
  }

  array(): BicepValue {
    this.pos++; // [
    const items: BicepValue[] = [];
    for (;;) {
      this.skip(true);
      if (this.peek() === ']') {
        this.pos++;
        return { kind: 'array', items };
      }
      if (this.peek() === '') this.fail('missing ]');
      items.push(this.value());
    }
  }
}

interface ModuleUse {
  file: string;
  symbol: string;
  path: string; // e.g. avm/res/web/site
  version: string;
  params: BicepValue | undefined;
  outputs: Set<string>;
}

/** Every `module <symbol> 'br/public:<path>:<version>'` in one Bicep source, with its params and the outputs read. */
function avmModules(file: string, src: string): ModuleUse[] {
  const uses: ModuleUse[] = [];
  for (const m of src.matchAll(/^module\s+([A-Za-z_][A-Za-z0-9_]*)\s+'br\/public:([^':]+):([^']+)'\s*=\s*/gm)) {
    const reader = new BicepReader(src, m.index! + m[0].length);
    // Skip a loop header (`[for … :`) and a condition (`if (…)`) in front of the body.
    const head = /^(\[\s*for\b[^:]*:\s*)?(if\s*\([^\n]*?\)\s*)?\{/.exec(src.slice(reader.pos));
    if (!head) throw new Error(`${file}: module ${m[1]} has a body this reader does not follow`);
    reader.pos += head[0].length - 1;
    const body = reader.object();
    const outputs = new Set(
      [...src.matchAll(new RegExp(`\\b${m[1]}(?:\\[[^\\]]*\\])?\\.outputs\\.\\??([A-Za-z_][A-Za-z0-9_]*)`, 'g'))].map((o) => o[1]!),
    );
    uses.push({
      file,
      symbol: m[1]!,
      path: m[2]!,
      version: m[3]!,
      params: body.kind === 'object' ? body.props.get('params') : undefined,
      outputs,
    });
  }
  return uses;
}

/** The guard's schema (extract.mjs writes it): a type, allowed values, and for objects the declared keys. */
interface Schema {
  type: string;
  allowedValues?: unknown[];
  properties?: Record<string, Schema>;
  /** Keys not in `properties` are errors. */
  closed?: boolean;
  required?: string[];
  items?: Schema;
  nullable?: boolean;
}

interface Snapshot {
  module: string;
  version: string;
  source: { repository: string; path: string; tag: string; commit: string };
  parameters: Record<string, Schema & { mustPass: boolean }>;
  nested: Record<string, { source: string; schema: Schema }>;
  resourceSchemas: Record<string, { resource: string; property: string; file: string; definition: string }>;
  outputs: string[];
}

interface ResourceSchemaFile {
  resource: string;
  source: { repository: string; path: string; commit: string; generatedFrom: string; how: string };
  definitions: Record<string, Schema>;
}

function loadSnapshots(): Snapshot[] {
  return readdirSync(snapshotDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const s = JSON.parse(readFileSync(join(snapshotDir, f), 'utf8')) as Snapshot;
      const expected = `${s.module.replace(/^avm\/res\//, '').replaceAll('/', '-')}@${s.version}.json`;
      if (f !== expected) throw new Error(`${f}: a snapshot of ${s.module} ${s.version} belongs in ${expected}`);
      return s;
    });
}

const resourceSchema = (file: string): ResourceSchemaFile => JSON.parse(readFileSync(join(snapshotDir, file), 'utf8')) as ResourceSchemaFile;

/** A literal's type and value, or undefined for an expression (a parameter, a function call, an interpolated string). */
function literal(text: string): { type: string; value: unknown } | undefined {
  if (text === 'true' || text === 'false') return { type: 'bool', value: text === 'true' };
  if (text === 'null') return { type: 'null', value: null };
  if (/^-?\d+$/.test(text)) return { type: 'int', value: Number(text) };
  const s = /^'((?:[^'\\$]|\\.|\$(?!\{))*)'$/.exec(text);
  if (s) return { type: 'string', value: s[1]!.replace(/\\(.)/g, '$1') };
  return undefined;
}

/** Everything wrong with `value` against `schema`, one line each. */
function checkValue(value: BicepValue, schema: Schema, path: string, problems: string[]): void {
  const type = schema.type;
  if (type === 'any') return;
  if (value.kind === 'expr') {
    const lit = literal(value.text);
    if (!lit) return; // an expression: not evaluated here
    if (lit.type === 'null') {
      if (!schema.nullable) problems.push(`'${path}' is null, which its type does not allow`);
      return;
    }
    if (lit.type !== type) {
      problems.push(`'${path}' is a ${lit.type}, declared ${type}`);
      return;
    }
    if (schema.allowedValues && !schema.allowedValues.includes(lit.value)) {
      problems.push(`'${path}' is ${JSON.stringify(lit.value)}, not one of the allowed values ${JSON.stringify(schema.allowedValues)}`);
    }
    return;
  }
  if (value.kind === 'array') {
    if (type !== 'array') {
      problems.push(`'${path}' is an array, declared ${type}`);
      return;
    }
    value.items.forEach((item, i) => {
      // For an array, ARM's allowedValues constrain each item.
      if (schema.allowedValues) checkValue(item, { type: 'string', allowedValues: schema.allowedValues }, `${path}[${i}]`, problems);
      if (schema.items) checkValue(item, schema.items, `${path}[${i}]`, problems);
    });
    return;
  }
  if (type !== 'object') {
    problems.push(`'${path}' is an object, declared ${type}`);
    return;
  }
  if (!schema.properties) return;
  for (const [key, inner] of value.props) {
    const declared = schema.properties[key];
    if (!declared) {
      if (schema.closed) problems.push(`passes '${path}.${key}', which the type of '${path}' does not declare`);
      continue;
    }
    checkValue(inner, declared, `${path}.${key}`, problems);
  }
  for (const key of schema.required ?? []) {
    if (!value.props.has(key)) problems.push(`'${path}' lacks required property '${key}'`);
  }
}

/** Everything wrong with the module uses against the snapshots, one line each; empty when all is declared. */
function checkModules(uses: ModuleUse[], snapshots: Snapshot[]): string[] {
  const problems: string[] = [];
  for (const use of uses) {
    const where = `${use.file}: module ${use.symbol} (${use.path}:${use.version})`;
    const snap = snapshots.find((s) => s.module === use.path && s.version === use.version);
    if (!snap) {
      const others = snapshots.filter((s) => s.module === use.path).map((s) => s.version);
      problems.push(`${where}: no snapshot of ${use.path} ${use.version} in infra/avm-snapshots/` +
        (others.length ? ` (there is one for ${others.join(', ')}: the pin changed without its snapshot)` : ''));
      continue;
    }
    if (use.params?.kind !== 'object') {
      problems.push(`${where}: params is not an object literal, so it cannot be checked`);
      continue;
    }
    for (const [name, value] of use.params.props) {
      const declared = snap.parameters[name];
      if (!declared) {
        problems.push(`${where}: passes '${name}', which ${use.path} ${use.version} does not declare`);
        continue;
      }
      const found: string[] = [];
      checkValue(value, declared, name, found);
      // An untyped object: what the module does with it decides which keys mean anything.
      if (declared.type === 'object' && !declared.properties && value.kind === 'object') {
        const nested = snap.nested[name];
        const target = snap.resourceSchemas[name];
        if (nested) checkValue(value, nested.schema, name, found);
        else if (target) checkValue(value, resourceSchema(target.file).definitions[target.definition]!, name, found);
        else found.push(`'${name}' is an untyped object and infra/avm-snapshots has no schema for what the module does with it`);
      }
      problems.push(...found.map((p) => `${where}: ${p}`));
    }
    for (const [name, p] of Object.entries(snap.parameters)) {
      if (p.mustPass && !use.params.props.has(name)) problems.push(`${where}: does not pass required parameter '${name}'`);
    }
    const outputs = new Set(snap.outputs);
    for (const name of use.outputs) {
      if (!outputs.has(name)) problems.push(`${where}: reads output '${name}', which ${use.path} ${use.version} does not declare`);
    }
  }
  return problems;
}

function infraFiles(): { file: string; src: string }[] {
  const dir = join(root, 'infra');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.bicep'))
    .map((f) => ({ file: `infra/${f}`, src: readFileSync(join(dir, f), 'utf8') }));
}

/** infra/ with one replacement made in one file (a scratch change the guard must catch). */
function infraWith(file: string, from: string | RegExp, to: string): ModuleUse[] {
  return infraFiles().flatMap(({ file: f, src }) => {
    if (f !== file) return avmModules(f, src);
    const changed = src.replace(from, to);
    if (changed === src) throw new Error(`${file}: '${String(from)}' not found`);
    return avmModules(f, changed);
  });
}

// infra/app/api.bicep as it was before issue 14 (abridged to the module block): web/site 0.9.0 with functionAppConfig.
const oldApiBicep = `
module api 'br/public:avm/res/web/site:0.9.0' = {
  name: '\${serviceName}-flex-consumption'
  params: {
    kind: 'functionapp,linux'
    name: name
    location: location
    tags: union(tags, { 'azd-service-name': serviceName })
    serverFarmResourceId: appServicePlanId
    managedIdentities: {
      systemAssigned: false
      userAssignedResourceIds: [identityId]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '\${stg.properties.primaryEndpoints.blob}\${deploymentStorageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: runtimeName
        version: runtimeVersion
      }
    }
    siteConfig: {
      alwaysOn: false
    }
    appSettingsKeyValuePairs: union(appSettings, hostSettings)
  }
}
output SERVICE_API_NAME string = api.outputs.name
`;

// Parameter names of a web/site release from before functionAppConfig existed (first in 0.10.0), read from
// Azure/bicep-registry-modules avm/res/web/site/main.bicep at commit 8bf4d23a5e18aaefd06ca62b8344532bae4158b9. It
// stands in for 0.9.0, the old pin, to show the check names the missing parameter, not only the missing snapshot.
const preFunctionAppConfigNames = ['name', 'location', 'kind', 'serverFarmResourceId', 'managedEnvironmentId', 'httpsOnly', 'clientAffinityEnabled',
  'appServiceEnvironmentResourceId', 'managedIdentities', 'keyVaultAccessIdentityResourceId', 'storageAccountRequired',
  'virtualNetworkSubnetId', 'vnetContentShareEnabled', 'vnetImagePullEnabled', 'vnetRouteAllEnabled', 'scmSiteAlsoStopped',
  'siteConfig', 'storageAccountResourceId', 'storageAccountUseIdentityAuthentication', 'apiManagementConfiguration',
  'msDeployConfiguration', 'appInsightResourceId', 'appSettingsKeyValuePairs', 'authSettingV2Configuration', 'lock',
  'logsConfiguration', 'privateEndpoints', 'slots', 'tags', 'enableTelemetry', 'roleAssignments', 'diagnosticSettings',
  'clientCertEnabled', 'clientCertExclusionPaths', 'clientCertMode', 'cloningInfo', 'containerSize', 'dailyMemoryTimeQuota',
  'enabled', 'hostNameSslStates', 'hyperV', 'redundancyMode', 'basicPublishingCredentialsPolicies', 'hybridConnectionRelays',
  'publicNetworkAccess'];
const preFunctionAppConfigSite: Snapshot = {
  module: 'avm/res/web/site',
  version: '0.9.0',
  source: { repository: 'Azure/bicep-registry-modules', path: 'avm/res/web/site/main.bicep', tag: 'none (pre-0.10.0 source)', commit: '8bf4d23a5e18aaefd06ca62b8344532bae4158b9' },
  parameters: Object.fromEntries(preFunctionAppConfigNames.map((n) => [n, { type: 'any', mustPass: ['name', 'kind', 'serverFarmResourceId'].includes(n) }])),
  nested: {},
  resourceSchemas: {},
  outputs: ['name', 'resourceId', 'resourceGroupName', 'location', 'defaultHostname'],
};

describe('AVM module parameters against infra/avm-snapshots', () => {
  const snapshots = loadSnapshots();
  const uses = infraFiles().flatMap(({ file, src }) => avmModules(file, src));

  it('finds the pinned modules and their params in infra/', () => {
    const pins = uses.map((u) => `${u.path}:${u.version}`);
    expect(pins).toContain('avm/res/web/site:0.14.0');
    expect(pins.length).toBeGreaterThanOrEqual(6);
    const site = uses.find((u) => u.path === 'avm/res/web/site')!;
    expect(site.params?.kind).toBe('object');
    if (site.params?.kind !== 'object') return;
    expect([...site.params.props.keys()]).toEqual(expect.arrayContaining(['functionAppConfig', 'appSettingsKeyValuePairs', 'managedIdentities']));
    // The reader walked into the nested literal: functionAppConfig.runtime is an object with name and version.
    const fac = site.params.props.get('functionAppConfig');
    expect(fac?.kind === 'object' && fac.props.get('runtime')?.kind).toBe('object');
    expect(site.outputs).toContain('name');
  });

  it('passes only declared parameters and keys, with declared types and allowed values, all required ones, and reads only declared outputs', () => {
    expect(checkModules(uses, snapshots)).toEqual([]);
  });

  it('has one snapshot per pin in use, none left over, each read at its release tag with the tag commit recorded', () => {
    const inUse = new Set(uses.map((u) => `${u.path}@${u.version}`));
    expect(snapshots.map((s) => `${s.module}@${s.version}`).filter((k) => !inUse.has(k))).toEqual([]);
    for (const s of snapshots) {
      expect(s.source).toEqual({ repository: 'Azure/bicep-registry-modules', path: `${s.module}/main.json`, tag: `${s.module}/${s.version}`, commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
      expect(Object.keys(s.parameters).length).toBeGreaterThan(3);
      for (const target of Object.values(s.resourceSchemas)) {
        const file = resourceSchema(target.file);
        expect(file.resource).toBe(target.resource);
        expect(file.definitions[target.definition]?.type).toBe('object');
        expect(file.source.commit).toMatch(/^[0-9a-f]{40}$/);
      }
    }
  });

  it('lists every snapshot with its tag commit in infra/avm-snapshots/README.md and docs/deploy.md', () => {
    for (const doc of [join(snapshotDir, 'README.md'), join(root, 'docs', 'deploy.md')]) {
      const text = readFileSync(doc, 'utf8');
      for (const s of snapshots) {
        const row = text.split('\n').find((l) => l.includes(`\`${s.module}\``) && l.includes(s.version));
        expect(row, `${doc}: ${s.module} ${s.version}`).toBeDefined();
        expect(row).toContain(s.source.commit.slice(0, 12));
      }
    }
  });

  it('fails on a misspelt functionAppConfig.runtime.version (checked against the Microsoft.Web/sites schema)', () => {
    const broken = infraWith('infra/app/api.bicep', /version: runtimeVersion/, 'versoin: runtimeVersion');
    expect(checkModules(broken, snapshots)).toEqual([
      "infra/app/api.bicep: module api (avm/res/web/site:0.14.0): passes 'functionAppConfig.runtime.versoin', which the type of 'functionAppConfig.runtime' does not declare",
    ]);
  });

  it("fails on defaultAction: 'Allowed' (an allowed value of the module's networkAclsType)", () => {
    const broken = infraWith('infra/main.bicep', "defaultAction: 'Allow'", "defaultAction: 'Allowed'");
    expect(checkModules(broken, snapshots)).toEqual([
      "infra/main.bicep: module storage (avm/res/storage/storage-account:0.8.3): 'networkAcls.defaultAction' is \"Allowed\", not one of the allowed values [\"Allow\",\"Deny\"]",
    ]);
  });

  it('fails on a misspelt key inside the untyped blobServices (checked against the module\'s nested blob-service deployment)', () => {
    const broken = infraWith('infra/main.bicep', 'deleteRetentionPolicyEnabled: false', 'deleteRetentionPolicyEnable: false');
    expect(checkModules(broken, snapshots)).toEqual([
      "infra/main.bicep: module storage (avm/res/storage/storage-account:0.8.3): passes 'blobServices.deleteRetentionPolicyEnable', which the type of 'blobServices' does not declare",
    ]);
    const wrongType = infraWith('infra/main.bicep', 'deleteRetentionPolicyEnabled: false', "deleteRetentionPolicyEnabled: 'false'");
    expect(checkModules(wrongType, snapshots)).toEqual([
      "infra/main.bicep: module storage (avm/res/storage/storage-account:0.8.3): 'blobServices.deleteRetentionPolicyEnabled' is a string, declared bool",
    ]);
  });

  it('fails on a misspelt siteConfig.cors key and a wrong type of a typed parameter', () => {
    const cors = infraWith('infra/app/api.bicep', 'allowedOrigins: allowedOrigins', 'allowedOrigin: allowedOrigins');
    expect(checkModules(cors, snapshots)).toEqual([
      "infra/app/api.bicep: module api (avm/res/web/site:0.14.0): passes 'siteConfig.cors.allowedOrigin', which the type of 'siteConfig.cors' does not declare",
    ]);
    const tls = infraWith('infra/main.bicep', "minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1.2'");
    expect(checkModules(tls, snapshots)).toEqual([
      "infra/main.bicep: module storage (avm/res/storage/storage-account:0.8.3): 'minimumTlsVersion' is \"TLS1.2\", not one of the allowed values [\"TLS1_0\",\"TLS1_1\",\"TLS1_2\"]",
    ]);
    const bool = infraWith('infra/main.bicep', 'disableLocalAuth: true // no keys', "disableLocalAuth: 'true' // no keys");
    expect(checkModules(bool, snapshots)).toEqual([
      "infra/main.bicep: module face (avm/res/cognitive-services/account:0.10.2): 'disableLocalAuth' is a string, declared bool",
    ]);
  });

  it('fails on the old web/site:0.9.0 pin with functionAppConfig: no snapshot, and the parameter is undeclared', () => {
    const old = avmModules('old api.bicep', oldApiBicep);
    expect(checkModules(old, snapshots)).toEqual([
      "old api.bicep: module api (avm/res/web/site:0.9.0): no snapshot of avm/res/web/site 0.9.0 in infra/avm-snapshots/ " +
        '(there is one for 0.14.0: the pin changed without its snapshot)',
    ]);
    expect(checkModules(old, [preFunctionAppConfigSite])).toEqual([
      "old api.bicep: module api (avm/res/web/site:0.9.0): passes 'functionAppConfig', which avm/res/web/site 0.9.0 does not declare",
    ]);
    // The same block pinned to 0.14.0 passes.
    expect(checkModules(avmModules('fixed', oldApiBicep.replace(':0.9.0', ':0.14.0')), snapshots)).toEqual([]);
  });

  it('names an undeclared nested property, a missing required parameter and an unknown output', () => {
    const broken = oldApiBicep
      .replace(':0.9.0', ':0.14.0')
      .replace('userAssignedResourceIds: [identityId]', 'userAssignedIdentities: [identityId]')
      .replace("    kind: 'functionapp,linux'\n", '')
      .replace('api.outputs.name', 'api.outputs.hostName');
    expect(checkModules(avmModules('broken', broken), snapshots)).toEqual([
      "broken: module api (avm/res/web/site:0.14.0): passes 'managedIdentities.userAssignedIdentities', which the type of 'managedIdentities' does not declare",
      "broken: module api (avm/res/web/site:0.14.0): does not pass required parameter 'kind'",
      "broken: module api (avm/res/web/site:0.14.0): reads output 'hostName', which avm/res/web/site 0.14.0 does not declare",
    ]);
  });

  it('reads comments, strings with interpolation and multi-line values without losing keys', () => {
    const src = `
module m 'br/public:avm/res/x/y:1.0.0' = if (deploy) {
  name: 'm' // a comment with a { brace
  params: {
    /* block comment: notAParam: 1 */
    a: '\${b}-\${c('}')}'
    'quoted-key': 1
    list: [
      { inner: true }
      'x'
    ]
    cond: flag
      ? { p: 1 }
      : { q: 2 }
    last: union({ r: 1 }, { s: 2 })
  }
}`;
    const [use] = avmModules('t', src);
    expect(use?.params?.kind).toBe('object');
    if (use?.params?.kind !== 'object') return;
    expect([...use.params.props.keys()]).toEqual(['a', 'quoted-key', 'list', 'cond', 'last']);
    expect(use.params.props.get('list')).toMatchObject({ kind: 'array', items: [{ kind: 'object' }, { kind: 'expr', text: "'x'" }] });
    expect(use.params.props.get('cond')?.kind).toBe('expr');
    expect(literal("'${b}'")).toBeUndefined();
    expect(literal("'Allow'")).toEqual({ type: 'string', value: 'Allow' });
  });

  it('builds a snapshot from a main.json with extract.mjs (the refresh tool): types, allowed values, nested keys, resource targets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'avm-extract-'));
    try {
      const template = {
        definitions: {
          managedIdentityAllType: { type: 'object', properties: { systemAssigned: { type: 'bool', nullable: true }, userAssignedResourceIds: { type: 'array', nullable: true } } },
        },
        parameters: {
          name: { type: 'string' },
          kind: { type: 'string', allowedValues: ['a', 'b'] },
          location: { type: 'string', defaultValue: '[resourceGroup().location]' },
          managedIdentities: { $ref: '#/definitions/managedIdentityAllType', nullable: true },
          functionAppConfig: { type: 'object', nullable: true },
          blobServices: { type: 'object', defaultValue: {} },
        },
        resources: {
          app: { type: 'Microsoft.Web/sites', apiVersion: '2024-04-01', properties: { functionAppConfig: "[parameters('functionAppConfig')]" } },
          blobs: {
            type: 'Microsoft.Resources/deployments',
            properties: {
              parameters: { deleteRetentionPolicyEnabled: { value: "[tryGet(parameters('blobServices'), 'deleteRetentionPolicyEnabled')]" } },
              template: { parameters: { deleteRetentionPolicyEnabled: { type: 'bool', defaultValue: true } } },
            },
          },
        },
        outputs: { name: { type: 'string', value: "[parameters('name')]" } },
      };
      writeFileSync(join(dir, 'main.json'), JSON.stringify(template));
      const out = execFileSync(process.execPath, [join(snapshotDir, 'extract.mjs'), join(dir, 'main.json'),
        'avm/res/web/site', '9.9.9', 'a'.repeat(40), 'functionAppConfig=resource-schemas/x.json#FunctionAppConfig'], { encoding: 'utf8' });
      expect(JSON.parse(out)).toMatchObject({
        module: 'avm/res/web/site',
        version: '9.9.9',
        source: { tag: 'avm/res/web/site/9.9.9', commit: 'a'.repeat(40) },
        parameters: {
          name: { type: 'string', mustPass: true },
          kind: { type: 'string', allowedValues: ['a', 'b'], mustPass: true },
          location: { type: 'string', mustPass: false },
          managedIdentities: { type: 'object', closed: true, properties: { systemAssigned: { type: 'bool' }, userAssignedResourceIds: { type: 'array' } }, mustPass: false },
        },
        nested: { blobServices: { schema: { type: 'object', closed: true, properties: { deleteRetentionPolicyEnabled: { type: 'bool' } } } } },
        resourceSchemas: { functionAppConfig: { resource: 'Microsoft.Web/sites@2024-04-01', property: 'properties.functionAppConfig', definition: 'FunctionAppConfig' } },
        outputs: ['name'],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
