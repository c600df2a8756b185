// Builds a snapshot of a module's parameters from its compiled main.json (ARM JSON) at its release tag.
//   node infra/avm-snapshots/extract.mjs <main.json> <module> <version> <commit> [param=resource-schema-file#Definition ...]
// Prints the snapshot JSON:
//   - parameters: each parameter's schema (type, allowedValues, nested properties of the types the module declares,
//     following "$ref" into "definitions"), and whether it must be passed (mustPass: no default, not nullable);
//   - nested: for a parameter typed only as `object` whose keys the module hands to a nested deployment of its own
//     (e.g. storage-account's blobServices: `tryGet(parameters('blobServices'), 'containers')`), the keys it reads and
//     the schema of the nested parameter each key lands in (and so on, one level into arrays it loops over);
//   - resourceSchemas: for each `param=file#Definition` argument, where that untyped parameter ends up in a resource
//     (the resource type and api version main.json passes it to) and the schema file (resource-schemas/) to check it
//     against;
//   - outputs: every output name.
import { readFileSync } from 'node:fs';

const [file, module, version, commit, ...resourceArgs] = process.argv.slice(2);
if (!file || !module || !version || !commit) {
  console.error('usage: extract.mjs <main.json> <module> <version> <commit> [param=resource-schemas/<file>.json#Definition ...]');
  process.exit(2);
}
const template = JSON.parse(readFileSync(file, 'utf8'));

/** An ARM parameter or type definition as the guard's schema: { type, allowedValues?, properties?, closed?, items?, nullable? }. */
export function toSchema(def, definitions, depth = 0) {
  if (!def || depth > 12) return { type: 'any' };
  let d = def;
  const seen = new Set();
  while (d.$ref && !seen.has(d.$ref)) {
    seen.add(d.$ref);
    const target = definitions[d.$ref.replace('#/definitions/', '')];
    const { $ref: _drop, ...rest } = d;
    d = { ...target, ...rest };
  }
  if (d.discriminator) return { type: 'object', ...(d.nullable ? { nullable: true } : {}) }; // a union: not checked here
  const type = String(d.type ?? 'any').toLowerCase().replace(/^secure/, '');
  const schema = { type };
  if (Array.isArray(d.allowedValues)) schema.allowedValues = d.allowedValues;
  if (d.nullable) schema.nullable = true;
  if (type === 'object' && d.properties) {
    schema.properties = Object.fromEntries(Object.entries(d.properties).map(([k, v]) => [k, toSchema(v, definitions, depth + 1)]));
    schema.closed = d.additionalProperties === undefined || d.additionalProperties === false;
    const required = Object.entries(d.properties).filter(([, v]) => !v.nullable && !toSchema(v, definitions, depth + 1).nullable).map(([k]) => k);
    if (required.length) schema.required = required;
  }
  if (type === 'array' && d.items) schema.items = toSchema(d.items, definitions, depth + 1);
  return schema;
}

/** Every resource of a template (object or array form), with its symbolic name when there is one. */
function resources(t) {
  const r = t.resources ?? [];
  return Array.isArray(r) ? r.map((v) => ['', v]) : Object.entries(r);
}

/**
 * The keys a template reads from its object parameter `name` and hands to nested deployments, each with the schema of
 * the nested parameter it becomes. For an array the nested deployment loops over (copyIndex), its items' keys too.
 */
function nestedKeys(t, name, itemsOf = false) {
  const props = {};
  const access = itemsOf
    ? String.raw`coalesce\(parameters\('${name}'\), createArray\(\)\)\[copyIndex\(\)\]`
    : String.raw`parameters\('${name}'\)`;
  const patterns = [new RegExp(String.raw`tryGet\(${access}, '(\w+)'\)`), new RegExp(String.raw`${access}\.(\w+)\b`)];
  for (const [symbol, res] of resources(t)) {
    if (res.type !== 'Microsoft.Resources/deployments') continue;
    const inner = res.properties?.template;
    for (const [innerName, binding] of Object.entries(res.properties?.parameters ?? {})) {
      const value = typeof binding?.value === 'string' ? binding.value : '';
      const key = patterns.map((p) => p.exec(value)?.[1]).find(Boolean);
      if (!key || !inner?.parameters?.[innerName]) continue;
      const schema = toSchema(inner.parameters[innerName], inner.definitions ?? {});
      if (schema.type === 'array' && !schema.items?.properties) {
        const items = nestedKeys(inner, innerName, true);
        if (items) schema.items = { type: 'object', properties: items, closed: true, source: `nested deployment ${symbol}` };
      }
      props[key] = schema;
    }
  }
  return Object.keys(props).length ? props : undefined;
}

const definitions = template.definitions ?? {};
const parameters = {};
const nested = {};
for (const [name, def] of Object.entries(template.parameters ?? {})) {
  const schema = toSchema(def, definitions);
  parameters[name] = { ...schema, mustPass: !('defaultValue' in def) && !schema.nullable };
  if (schema.type === 'object' && !schema.properties) {
    const keys = nestedKeys(template, name);
    if (keys) nested[name] = { source: `${module}/main.json: the nested deployments that read parameters('${name}')`, schema: { type: 'object', properties: keys, closed: true } };
  }
}

const resourceSchemas = {};
for (const arg of resourceArgs) {
  const m = /^(\w+)=([^#]+)#(\w+)$/.exec(arg);
  if (!m) { console.error(`bad resource schema argument: ${arg}`); process.exit(2); }
  const [, param, schemaFile, definition] = m;
  const target = resources(template).find(([, r]) => Object.values(r.properties ?? {}).includes(`[parameters('${param}')]`));
  if (!target) { console.error(`${param}: no resource of main.json takes it as a property`); process.exit(1); }
  const [, res] = target;
  const property = Object.entries(res.properties).find(([, v]) => v === `[parameters('${param}')]`)[0];
  resourceSchemas[param] = { resource: `${res.type}@${res.apiVersion}`, property: `properties.${property}`, file: schemaFile, definition };
}

console.log(JSON.stringify({
  module,
  version,
  source: { repository: 'Azure/bicep-registry-modules', path: `${module}/main.json`, tag: `${module}/${version}`, commit },
  parameters,
  nested,
  resourceSchemas,
  outputs: Object.keys(template.outputs ?? {}),
}, null, 2));
