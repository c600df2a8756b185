// The offline guard for Azure Verified Module pins (there is no Bicep compiler here). Every `br/public:avm/...:<version>`
// module in infra/**/*.bicep must have a snapshot in infra/avm-snapshots/ for exactly that module and version, taken
// from the module's own source; every parameter we pass, every nested property we pass where the module types it, and
// every `<module>.outputs.<name>` we read must be declared there, and every required parameter must be passed.
// This is the class of bug Bicep reports as BCP037 (undeclared parameter) or BCP053 (unknown output) at compile time.
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

interface Snapshot {
  module: string;
  version: string;
  source: { repository: string; path: string; commit: string; atReleaseTag: boolean; evidence: string };
  parameters: string[];
  required: string[];
  properties: Record<string, string[]>;
  outputs: string[];
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
    const declared = new Set(snap.parameters);
    for (const name of use.params.props.keys()) {
      if (!declared.has(name)) problems.push(`${where}: passes '${name}', which ${use.path} ${use.version} does not declare`);
    }
    for (const name of snap.required) {
      if (!use.params.props.has(name)) problems.push(`${where}: does not pass required parameter '${name}'`);
    }
    for (const [name, allowed] of Object.entries(snap.properties)) {
      const value = use.params.props.get(name);
      const objects = value?.kind === 'object' ? [value] : value?.kind === 'array' ? value.items : [];
      for (const obj of objects) {
        if (obj.kind !== 'object') continue;
        for (const key of obj.props.keys()) {
          if (!allowed.includes(key)) problems.push(`${where}: passes '${name}.${key}', which the type of '${name}' does not declare`);
        }
      }
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
const preFunctionAppConfigSite: Snapshot = {
  module: 'avm/res/web/site',
  version: '0.9.0',
  source: { repository: 'Azure/bicep-registry-modules', path: 'avm/res/web/site/main.bicep', commit: '8bf4d23a5e18aaefd06ca62b8344532bae4158b9', atReleaseTag: false, evidence: 'pre-0.10.0 source' },
  parameters: ['name', 'location', 'kind', 'serverFarmResourceId', 'managedEnvironmentId', 'httpsOnly', 'clientAffinityEnabled',
    'appServiceEnvironmentResourceId', 'managedIdentities', 'keyVaultAccessIdentityResourceId', 'storageAccountRequired',
    'virtualNetworkSubnetId', 'vnetContentShareEnabled', 'vnetImagePullEnabled', 'vnetRouteAllEnabled', 'scmSiteAlsoStopped',
    'siteConfig', 'storageAccountResourceId', 'storageAccountUseIdentityAuthentication', 'apiManagementConfiguration',
    'msDeployConfiguration', 'appInsightResourceId', 'appSettingsKeyValuePairs', 'authSettingV2Configuration', 'lock',
    'logsConfiguration', 'privateEndpoints', 'slots', 'tags', 'enableTelemetry', 'roleAssignments', 'diagnosticSettings',
    'clientCertEnabled', 'clientCertExclusionPaths', 'clientCertMode', 'cloningInfo', 'containerSize', 'dailyMemoryTimeQuota',
    'enabled', 'hostNameSslStates', 'hyperV', 'redundancyMode', 'basicPublishingCredentialsPolicies', 'hybridConnectionRelays',
    'publicNetworkAccess'],
  required: ['name', 'kind', 'serverFarmResourceId'],
  properties: { managedIdentities: ['systemAssigned', 'userAssignedResourceIds'] },
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

  it('passes only declared parameters and properties, all required ones, and reads only declared outputs', () => {
    expect(checkModules(uses, snapshots)).toEqual([]);
  });

  it('has one snapshot per pin in use, none left over, each with its source commit', () => {
    const inUse = new Set(uses.map((u) => `${u.path}@${u.version}`));
    expect(snapshots.map((s) => `${s.module}@${s.version}`).filter((k) => !inUse.has(k))).toEqual([]);
    for (const s of snapshots) {
      expect(s.source.repository).toBe('Azure/bicep-registry-modules');
      expect(s.source.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(s.source.path).toBe(`${s.module}/${s.source.path.endsWith('.json') ? 'main.json' : 'main.bicep'}`);
      expect(s.parameters.length).toBeGreaterThan(3);
      expect(s.required.every((r) => s.parameters.includes(r))).toBe(true);
    }
  });

  it('lists every snapshot, and whether it was read at its release tag, in infra/avm-snapshots/README.md', () => {
    const readme = readFileSync(join(snapshotDir, 'README.md'), 'utf8');
    for (const s of snapshots) {
      const row = readme.split('\n').find((l) => l.includes(`\`${s.module}\``) && l.includes(s.version));
      expect(row, `${s.module} ${s.version}`).toBeDefined();
      expect(row).toContain(s.source.commit.slice(0, 12));
      expect(row).toContain(s.source.atReleaseTag ? 'yes' : 'no');
    }
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
      "broken: module api (avm/res/web/site:0.14.0): does not pass required parameter 'kind'",
      "broken: module api (avm/res/web/site:0.14.0): passes 'managedIdentities.userAssignedIdentities', which the type of 'managedIdentities' does not declare",
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
  });

  it('builds a snapshot from a main.json with extract.mjs (the refresh tool)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'avm-extract-'));
    try {
      const template = {
        definitions: {
          managedIdentityAllType: { type: 'object', properties: { systemAssigned: { type: 'bool' }, userAssignedResourceIds: { type: 'array' } } },
        },
        parameters: {
          name: { type: 'string' },
          location: { type: 'string', defaultValue: '[resourceGroup().location]' },
          managedIdentities: { $ref: '#/definitions/managedIdentityAllType', nullable: true },
          functionAppConfig: { type: 'object', nullable: true },
        },
        outputs: { name: { type: 'string', value: "[parameters('name')]" } },
      };
      writeFileSync(join(dir, 'main.json'), JSON.stringify(template));
      const out = execFileSync(process.execPath, [join(snapshotDir, 'extract.mjs'), join(dir, 'main.json'),
        'avm/res/web/site', '9.9.9', 'a'.repeat(40), 'managedIdentities'], { encoding: 'utf8' });
      expect(JSON.parse(out)).toMatchObject({
        module: 'avm/res/web/site',
        version: '9.9.9',
        parameters: ['name', 'location', 'managedIdentities', 'functionAppConfig'],
        required: ['name'],
        properties: { managedIdentities: ['systemAssigned', 'userAssignedResourceIds'] },
        outputs: ['name'],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
