// Validates the app's HTTP responses against its OpenAPI 3.1 document (src/openapi/document.ts): the operation is
// found by path template and method, the status must be documented, required headers must be present and match their
// schema, and the body must match the JSON Schema (2020-12 dialect, via ajv) of the documented media type.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from '../../src/openapi/document.js';

type Obj = Record<string, any>;
const doc = openApiDocument as Obj;
const COMPONENTS_ID = 'https://face-liveness-functions.invalid/openapi/components';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// ajv-formats is CommonJS; its default export arrives as the module object under some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule);

/** Rewrites OpenAPI component refs (#/components/schemas/X) to the ajv schema that holds the components. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    const out: Obj = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? `${COMPONENTS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
        : rewriteRefs(v);
    }
    return out;
  }
  return node;
}

function resolve<T = Obj>(node: Obj): T {
  let current = node;
  for (let i = 0; i < 10 && typeof current.$ref === 'string'; i++) {
    const { $ref, ...rest } = current;
    const target = ($ref as string).replace(/^#\//, '').split('/').reduce<Obj | undefined>((o, key) => o?.[key], doc);
    if (!target) throw new Error(`unresolved $ref ${$ref as string}`);
    current = { ...target, ...rest };
  }
  return current as T;
}

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewriteRefs(doc.components.schemas) as Obj });
function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => {
    const extra = (e.params as { additionalProperty?: string; allowedValues?: unknown[] });
    const detail = extra.additionalProperty !== undefined ? ` ('${extra.additionalProperty}')`
      : extra.allowedValues ? ` (${JSON.stringify(extra.allowedValues)})` : '';
    return `${e.instancePath || '(body)'} ${e.message ?? e.keyword}${detail}`;
  }).join('; ');
}

const compiled = new WeakMap<object, ValidateFunction>();
function validatorFor(schema: Obj): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(rewriteRefs(schema) as Obj);
    compiled.set(schema, validate);
  }
  return validate;
}

export interface Operation { pathTemplate: string; method: string; operation: Obj }

const serverPrefix = String(doc.servers?.[0]?.url ?? '').replace(/\/+$/, '');
const templates = Object.keys(doc.paths).map((template) => ({ template, segments: template.split('/').slice(1) }));

/** The documented operation for a request path (with the /api server prefix) and method; undefined when none. */
export function findOperation(method: string, pathname: string): Operation | undefined {
  if (!pathname.startsWith(`${serverPrefix}/`)) return undefined;
  const segments = pathname.slice(serverPrefix.length).split('/').slice(1);
  // Concrete segments win over templated ones (as OpenAPI requires), so score by the number of literal matches.
  let best: { template: string; literal: number } | undefined;
  for (const { template, segments: parts } of templates) {
    if (parts.length !== segments.length) continue;
    let literal = 0;
    const ok = parts.every((part, i) => {
      if (/^\{[^}]+\}$/.test(part)) return segments[i] !== '';
      if (part === segments[i]) { literal++; return true; }
      return false;
    });
    if (ok && (!best || literal > best.literal)) best = { template, literal };
  }
  if (!best) return undefined;
  const operation = doc.paths[best.template]?.[method.toLowerCase()] as Obj | undefined;
  return operation ? { pathTemplate: best.template, method: method.toLowerCase(), operation } : undefined;
}

export type HeadersLike = Headers | Record<string, string | undefined>;

function header(headers: HeadersLike, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

/** Every way the response differs from the document; empty when it conforms. */
export function responseProblems(method: string, url: string, status: number, headers: HeadersLike, body: unknown): string[] {
  const { pathname } = new URL(url, 'http://localhost');
  const found = findOperation(method, pathname);
  const what = `${method.toUpperCase()} ${pathname} → ${status}`;
  if (!found) return [`${what}: no operation for this path and method in the OpenAPI document`];
  const responses = found.operation.responses as Obj;
  const documented = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  if (!documented) return [`${what}: status ${status} is not documented for ${found.method.toUpperCase()} ${found.pathTemplate} (documented: ${Object.keys(responses).join(', ')})`];
  const response = resolve(documented);
  const problems: string[] = [];

  for (const [name, headerDoc] of Object.entries((response.headers ?? {}) as Obj)) {
    const h = resolve(headerDoc as Obj);
    const value = header(headers, name);
    if (value === undefined) {
      if (h.required) problems.push(`${what}: required header ${name} is missing`);
      continue;
    }
    if (h.schema) {
      const schema = h.schema as Obj;
      const typed = schema.type === 'integer' || schema.type === 'number' ? (/^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value) : value;
      const validate = validatorFor(schema);
      if (!validate(typed)) problems.push(`${what}: header ${name}=${JSON.stringify(value)}: ${describeErrors(validate)}`);
    }
  }

  if (response['x-host-generated']) return problems; // answered by the Functions host; its body is not ours to check
  const empty = body === undefined || body === '' || body === null;
  if (!response.content) {
    if (!empty) problems.push(`${what}: no body is documented but one was returned: ${JSON.stringify(body).slice(0, 200)}`);
    return problems;
  }
  const contentType = (header(headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const media = (response.content as Obj)[contentType];
  if (!media) {
    problems.push(`${what}: content-type '${contentType}' is not documented (documented: ${Object.keys(response.content).join(', ')})`);
    return problems;
  }
  if (empty) {
    problems.push(`${what}: a ${contentType} body is documented but the body is empty`);
    return problems;
  }
  if (media.schema) {
    const validate = validatorFor(media.schema as Obj);
    if (!validate(body)) {
      problems.push(`${what}: body does not match the schema: ${describeErrors(validate)}; body: ${JSON.stringify(body).slice(0, 500)}`);
    }
  }
  return problems;
}

/** Throws when the response does not conform to the OpenAPI document. */
export function validateResponse(method: string, url: string, status: number, headers: HeadersLike, body: unknown): void {
  const problems = responseProblems(method, url, status, headers, body);
  if (problems.length) throw new OpenApiMismatchError(problems);
}

export class OpenApiMismatchError extends Error {
  constructor(readonly problems: string[]) {
    super(`The response does not match the OpenAPI document:\n  ${problems.join('\n  ')}`);
    this.name = 'OpenApiMismatchError';
  }
}

/** Every (path template, method) in the document. */
export function documentedOperations(): Array<{ path: string; method: string; operation: Obj }> {
  return Object.entries(doc.paths as Obj).flatMap(([path, item]) =>
    METHODS.filter((m) => (item as Obj)[m]).map((method) => ({ path, method, operation: (item as Obj)[method] as Obj })));
}

/** Compiles every schema in the document (responses, parameters, headers): throws on a schema ajv cannot use. */
export function compileAllSchemas(): number {
  let count = 0;
  const visit = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) { node.forEach((n) => visit(n)); return; }
    if (!node || typeof node !== 'object') return;
    if (key === 'schema') { validatorFor(node as Obj); count++; return; }
    for (const [k, v] of Object.entries(node)) visit(v, k);
  };
  visit(doc.paths);
  visit(doc.components.responses);
  visit(doc.components.headers);
  return count;
}
