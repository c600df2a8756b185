// Builds a parameter snapshot from a module's compiled main.json (ARM JSON, as published at its release tag).
//   node infra/avm-snapshots/extract.mjs <main.json> <module> <version> <commit> [typedParam ...]
// Prints the snapshot JSON: every parameter name, the required ones (no default, not nullable), every output name,
// and for each typedParam the property names its type declares (following "$ref" into "definitions").
import { readFileSync } from 'node:fs';

const [file, module, version, commit, ...typedParams] = process.argv.slice(2);
if (!file || !module || !version || !commit) {
  console.error('usage: extract.mjs <main.json> <module> <version> <commit> [typedParam ...]');
  process.exit(2);
}
const template = JSON.parse(readFileSync(file, 'utf8'));
const parameters = template.parameters ?? {};
const definitions = template.definitions ?? {};

function resolve(schema) {
  let current = schema;
  while (current && current.$ref) current = definitions[current.$ref.replace('#/definitions/', '')];
  return current;
}

const properties = {};
for (const name of typedParams) {
  const schema = resolve(parameters[name]);
  const target = schema?.type === 'array' ? resolve(schema.items) : schema;
  if (!target?.properties) {
    console.error(`${name}: the module does not type its properties (object without a schema)`);
    process.exit(1);
  }
  properties[name] = Object.keys(target.properties);
}

const snapshot = {
  module,
  version,
  source: {
    repository: 'Azure/bicep-registry-modules',
    path: `${module}/main.json`,
    commit,
    atReleaseTag: true,
    evidence: `read at tag ${module}/${version}`,
  },
  parameters: Object.keys(parameters),
  required: Object.entries(parameters)
    .filter(([, p]) => !('defaultValue' in p) && p.nullable !== true && resolve(p)?.nullable !== true)
    .map(([name]) => name),
  properties,
  outputs: Object.keys(template.outputs ?? {}),
};
console.log(JSON.stringify(snapshot, null, 2));
