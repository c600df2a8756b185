// Holds the app's HTTP exchanges to its OpenAPI 3.1 document, generated in-process from the zod contract exactly as
// `npm run build` generates the served one (src/openapi/document.ts).
// Responses: the operation is found by path template and method, the status must be documented, required headers
// must be present and match their schema, and the body must match the JSON Schema (2020-12 dialect, via ajv) of the
// documented media type.
// Requests: path, query and header parameters and the body (multipart/form-data, read as a form) are checked against
// the operation's parameters and request body. A request the document refuses must be refused by the app (4xx), and
// a request the document allows must not be refused for a reason the document describes (see exchangeProblems).
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { idempotencyKeyCodes, listSessionsQueryCodes, startSessionFormCodes, type ParseCodes } from '../../src/contract/index.js';
import { createOpenApiDocument } from '../../src/openapi/document.js';

type Obj = Record<string, any>;
export const openApiDocument = createOpenApiDocument();
const doc = openApiDocument as Obj;
const COMPONENTS_ID = 'https://face-liveness-functions.invalid/openapi/components';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// ajv-formats is CommonJS; its default export arrives as the module object under some loaders.
// ajv-formats is CommonJS: under NodeNext its default import is the module object, the function is its `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => unknown;

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
    super(`The exchange does not match the OpenAPI document:\n  ${problems.join('\n  ')}`);
    this.name = 'OpenApiMismatchError';
  }
}

/** Every (path template, method) in the document. */
export function documentedOperations(): Array<{ path: string; method: string; operation: Obj }> {
  return Object.entries(doc.paths as Obj).flatMap(([path, item]) =>
    METHODS.filter((m) => (item as Obj)[m]).map((method) => ({ path, method, operation: (item as Obj)[method] as Obj })));
}

/** An HTTP function as registered: `key` is "<method> /<route>". */
export interface RegisteredRoute { key: string; authLevel: string }

/**
 * Problems between the registered HTTP functions and the document: a route either side lacks, or security that does
 * not match the auth level (admin routes take the key in the header only, never ?code=; /backoffice routes take the
 * Entra bearer only; no other route takes the key).
 */
export function registrationProblems(registered: RegisteredRoute[]): string[] {
  const documented = documentedOperations();
  const documentedKeys = new Set(documented.map((o) => `${o.method} ${o.path}`));
  const registeredKeys = new Set(registered.map((r) => r.key));
  const problems = [
    ...[...registeredKeys].filter((k) => !documentedKeys.has(k)).map((k) => `${k} is registered but not documented`),
    ...[...documentedKeys].filter((k) => !registeredKeys.has(k)).map((k) => `${k} is documented but not registered`),
  ];
  for (const r of registered) {
    const op = documented.find((o) => `${o.method} ${o.path}` === r.key)?.operation;
    if (!op) continue;
    const schemes = ((op.security ?? []) as Array<Record<string, string[]>>).flatMap((s) => Object.keys(s)).join(',');
    if (r.authLevel === 'admin' && schemes !== 'functionsKeyHeader') problems.push(`${r.key}: admin route documented with ${schemes}`);
    if (r.authLevel !== 'admin' && schemes.includes('functionsKeyHeader')) problems.push(`${r.key}: not an admin route but documents the key`);
    if (r.key.includes(' /backoffice/') && schemes !== 'backOfficeBearer') problems.push(`${r.key}: back-office route documented with ${schemes}`);
  }
  return problems;
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

// ---- Requests ------------------------------------------------------------------------------------------------------

const codesOf = (codes: ParseCodes) => [...Object.values(codes.byField).map((c) => (typeof c === 'string' ? c : c.code)), codes.otherwise];
/**
 * The 400 codes the app gives only for input the document itself describes as invalid (a field out of range, an
 * unknown or repeated form part or query parameter, a missing file part). InvalidContinuationToken is not among them:
 * a well-formed token can still be one the app cannot read.
 */
export const SCHEMA_ERROR_CODES: ReadonlySet<string> = new Set([
  ...codesOf(startSessionFormCodes), ...codesOf(idempotencyKeyCodes), ...codesOf(listSessionsQueryCodes),
  'DuplicateField',
  // Not schema rules: ConsentRequired also answers a well-formed version that is not the current one, and a create
  // without a verify image is well-formed (an enrolled reference is used) but refused when none is enrolled.
].filter((code) => code !== 'InvalidContinuationToken' && code !== 'ConsentRequired'));

export interface RequestToCheck { method: string; url: string; headers?: ConstructorParameters<typeof Headers>[0]; body?: unknown }

/** A parameter or form value arrives as text; read it as the type its schema says (OpenAPI's form/simple styles). */
function typedValue(schema: Obj, text: string): unknown {
  const type = resolveSchema(schema).type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function resolveSchema(schema: Obj): Obj {
  let current = schema;
  for (let i = 0; i < 10 && typeof current.$ref === 'string'; i++) {
    const name = (current.$ref as string).replace('#/components/schemas/', '');
    current = { ...(doc.components.schemas[name] as Obj), ...Object.fromEntries(Object.entries(current).filter(([k]) => k !== '$ref')) };
  }
  return current;
}

function check(problems: string[], what: string, schema: Obj, value: unknown): void {
  const validate = validatorFor(schema);
  if (!validate(value)) problems.push(`${what}: ${describeErrors(validate)}`);
}

/** Reads a request body as a form, when it is one; undefined when it cannot be read again (a stream). */
async function formOf(body: unknown, contentType: string): Promise<FormData | 'unreadable' | undefined> {
  if (body instanceof FormData) return body;
  if (body instanceof ReadableStream) return undefined;
  try {
    return await new Response(body as ConstructorParameters<typeof Response>[0], { headers: { 'content-type': contentType } }).formData();
  } catch {
    return 'unreadable';
  }
}

/**
 * Every way the request differs from the document; undefined when the document has no operation for it (the
 * response check reports that) or its body cannot be read again.
 */
export async function requestProblems(request: RequestToCheck): Promise<string[] | undefined> {
  const url = new URL(request.url, 'http://localhost');
  const found = findOperation(request.method, url.pathname);
  if (!found) return undefined;
  const problems: string[] = [];
  const operation = found.operation;
  const parameters = ((operation.parameters ?? []) as Obj[]).map((p) => resolve(p));
  const headers = new Headers(request.headers);

  const values = url.pathname.slice(serverPrefix.length).split('/').slice(1);
  found.pathTemplate.split('/').slice(1).forEach((part, i) => {
    const name = /^\{([^}]+)\}$/.exec(part)?.[1];
    const parameter = name && parameters.find((p) => p.in === 'path' && p.name === name);
    if (parameter) check(problems, `path parameter ${name}`, parameter.schema as Obj, typedValue(parameter.schema as Obj, decodeURIComponent(values[i]!)));
  });

  // The admin key may travel as ?code=: a security scheme of the operation, not a parameter.
  const schemes = doc.components.securitySchemes as Obj;
  const keyParameters = new Set(((operation.security ?? []) as Obj[]).flatMap((s) => Object.keys(s))
    .map((name) => schemes[name] as Obj).filter((s) => s?.type === 'apiKey' && s.in === 'query').map((s) => s.name as string));
  for (const name of new Set(url.searchParams.keys())) {
    const parameter = parameters.find((p) => p.in === 'query' && p.name === name);
    const all = url.searchParams.getAll(name);
    if (keyParameters.has(name)) continue;
    if (!parameter) problems.push(`query parameter '${name}' is not documented`);
    else if (all.length > 1) problems.push(`query parameter '${name}' appears ${all.length} times`);
    else check(problems, `query parameter ${name}`, parameter.schema as Obj, typedValue(parameter.schema as Obj, all[0]!));
  }
  for (const parameter of parameters) {
    if (parameter.in === 'query' && parameter.required && !url.searchParams.has(parameter.name)) problems.push(`query parameter '${parameter.name}' is required`);
    if (parameter.in !== 'header') continue;
    const value = headers.get(parameter.name);
    if (value === null) {
      if (parameter.required) problems.push(`header ${parameter.name} is required`);
    } else {
      check(problems, `header ${parameter.name}`, parameter.schema as Obj, typedValue(parameter.schema as Obj, value));
    }
  }

  const hasBody = request.body !== undefined && request.body !== null;
  const requestBody = operation.requestBody as Obj | undefined;
  if (!requestBody) {
    if (hasBody) problems.push('a body was sent but none is documented');
    return problems;
  }
  if (!hasBody) {
    if (requestBody.required) problems.push('the body is required');
    return problems;
  }
  const contentType = (headers.get('content-type') ?? (request.body instanceof FormData ? 'multipart/form-data' : '')).split(';')[0]!.trim().toLowerCase();
  const media = (requestBody.content as Obj)[contentType] as Obj | undefined;
  if (!media) {
    problems.push(`content-type '${contentType}' is not documented (documented: ${Object.keys(requestBody.content).join(', ')})`);
    return problems;
  }
  if (contentType === 'application/json') {
    if (typeof request.body !== 'string') throw new Error('JSON request bodies are checked when sent as a string');
    let parsed: unknown;
    try { parsed = JSON.parse(request.body); } catch { return [...problems, 'the body is not valid JSON']; }
    check(problems, 'body', resolveSchema(media.schema as Obj), parsed);
    return problems;
  }
  if (contentType !== 'multipart/form-data') throw new Error(`no request check for ${contentType} yet`);
  const form = await formOf(request.body, headers.get('content-type') ?? 'multipart/form-data');
  if (form === undefined) return undefined;
  if (form === 'unreadable') return [...problems, 'the body is not a readable multipart/form-data form'];
  const schema = resolveSchema(media.schema as Obj);
  const properties = (schema.properties ?? {}) as Obj;
  const object: Obj = {};
  for (const [name, value] of form) {
    const property = properties[name] as Obj | undefined;
    if (name in object) { problems.push(`form part '${name}' appears more than once`); continue; }
    const isFile = typeof value !== 'string';
    const wantsFile = property !== undefined && resolveSchema(property).format === 'binary';
    if (property && isFile !== wantsFile) problems.push(`form part '${name}' must be a ${wantsFile ? 'file' : 'text'} part`);
    object[name] = isFile ? `(a file of ${(value as File).size} bytes)` : property ? typedValue(property, value) : value;
  }
  check(problems, 'form', schema, object);
  return problems;
}

export interface ResponseToCheck { status: number; headers: HeadersLike; body: unknown }

/**
 * Every way an exchange differs from the document: the response's problems, plus drift between what the document
 * allows and what the app accepts. A request the document refuses must get a 4xx; a request it allows must not get a
 * 400 with one of the SCHEMA_ERROR_CODES.
 */
export async function exchangeProblems(request: RequestToCheck, response: ResponseToCheck): Promise<string[]> {
  const problems = responseProblems(request.method, request.url, response.status, response.headers, response.body);
  const requestIssues = await requestProblems(request);
  if (requestIssues === undefined) return problems;
  const what = `${request.method.toUpperCase()} ${new URL(request.url, 'http://localhost').pathname} → ${response.status}`;
  if (requestIssues.length && response.status < 400) {
    problems.push(`${what}: the app accepted a request the document refuses (${requestIssues.join('; ')})`);
  }
  const error = (response.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (!requestIssues.length && response.status === 400 && SCHEMA_ERROR_CODES.has(String(error?.code))) {
    problems.push(`${what}: the document allows the request but the app refused it: ${String(error?.code)}: ${String(error?.message)}`);
  }
  return problems;
}

/** Throws when the request or the response does not conform to the OpenAPI document, or they disagree with it. */
export async function validateExchange(request: RequestToCheck, response: ResponseToCheck): Promise<void> {
  const problems = await exchangeProblems(request, response);
  if (problems.length) throw new OpenApiMismatchError(problems);
}
