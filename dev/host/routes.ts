// Route templates as the Functions HTTP extension (ASP.NET routing) understands them:
// literal segments (case-insensitive), `{param}`, `{param?}` (optional, trailing), `{*rest}` (catch-all, last),
// inline constraints `{id:int}`, `{name:alpha:minlength(2)}`, `{id:guid}`, …, and complex segments `{name}.{ext}`.
// When several routes match, the one with the higher precedence wins (literal > complex > constrained > plain
// parameter > optional > catch-all, compared segment by segment) — so `sessions/latest` beats `sessions/{id}`
// regardless of registration order.

type Constraint = (value: string) => boolean;

interface ParamPart { kind: 'param'; name: string; constraints: Constraint[]; optional: boolean; catchAll: boolean; defaultValue?: string }
interface LiteralPart { kind: 'literal'; text: string }
type Part = ParamPart | LiteralPart;

interface Segment {
  parts: Part[];
  /** For complex segments (more than one part): the regexp and the parameter order. */
  regex?: RegExp;
  rank: number;
}

export interface CompiledRoute {
  template: string;
  segments: Segment[];
  /** Per-segment precedence digits, lower = more specific. */
  precedence: number[];
  paramNames: string[];
}

const INT32 = (v: string): boolean => /^-?\d+$/.test(v) && Number(v) >= -2147483648 && Number(v) <= 2147483647;
const NUMBER = (v: string): boolean => /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v) && Number.isFinite(Number(v));

function parseConstraint(spec: string): Constraint {
  const m = /^([a-zA-Z]+)(?:\((.*)\))?$/s.exec(spec);
  if (!m) throw new Error(`invalid route constraint '${spec}'`);
  const name = m[1]!.toLowerCase();
  const args = m[2] ?? '';
  const nums = (): number[] => args.split(',').map((a) => Number(a.trim()));
  switch (name) {
    case 'int': return INT32;
    case 'long': return (v) => /^-?\d+$/.test(v) && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n;
    case 'bool': return (v) => /^(true|false)$/i.test(v);
    case 'guid': return (v) => /^(\{)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}(\})?$/i.test(v) || /^\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)$/i.test(v);
    case 'alpha': return (v) => /^[a-z]+$/i.test(v);
    case 'double': case 'float': case 'decimal': return NUMBER;
    case 'datetime': return (v) => !Number.isNaN(Date.parse(v));
    case 'min': { const [n] = nums(); return (v) => /^-?\d+$/.test(v) && Number(v) >= n!; }
    case 'max': { const [n] = nums(); return (v) => /^-?\d+$/.test(v) && Number(v) <= n!; }
    case 'range': { const [a, b] = nums(); return (v) => /^-?\d+$/.test(v) && Number(v) >= a! && Number(v) <= b!; }
    case 'minlength': { const [n] = nums(); return (v) => v.length >= n!; }
    case 'maxlength': { const [n] = nums(); return (v) => v.length <= n!; }
    case 'length': { const [a, b] = nums(); return b === undefined ? (v) => v.length === a : (v) => v.length >= a! && v.length <= b; }
    case 'regex': { const re = new RegExp(args, 'i'); return (v) => re.test(v); }
    default: throw new Error(`unsupported route constraint '${name}'`);
  }
}

/** Splits `id:int:regex(a:b)` on colons that are not inside parentheses. */
function splitConstraints(text: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ':' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseParam(body: string): ParamPart {
  let text = body.trim();
  const catchAll = text.startsWith('*');
  if (catchAll) text = text.replace(/^\*\*?/, '');
  let optional = false;
  if (text.endsWith('?')) { optional = true; text = text.slice(0, -1); }
  let defaultValue: string | undefined;
  const eq = text.indexOf('=');
  if (eq >= 0 && !/\(/.test(text.slice(0, eq))) { defaultValue = text.slice(eq + 1); text = text.slice(0, eq); }
  const [name, ...constraints] = splitConstraints(text);
  if (!name || !/^[A-Za-z_][\w]*$/.test(name)) throw new Error(`invalid route parameter '{${body}}'`);
  return { kind: 'param', name, constraints: constraints.map(parseConstraint), optional, catchAll, ...(defaultValue !== undefined ? { defaultValue } : {}) };
}

function parseSegment(text: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{', i);
    if (open < 0) { parts.push({ kind: 'literal', text: text.slice(i) }); break; }
    if (open > i) parts.push({ kind: 'literal', text: text.slice(i, open) });
    let depth = 0, close = -1;
    for (let j = open; j < text.length; j++) {
      if (text[j] === '{') depth++;
      else if (text[j] === '}' && --depth === 0) { close = j; break; }
    }
    if (close < 0) throw new Error(`unbalanced '{' in route segment '${text}'`);
    parts.push(parseParam(text.slice(open + 1, close)));
    i = close + 1;
  }
  return parts;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function compileRoute(template: string): CompiledRoute {
  const raw = template.replace(/^[~/]+|\/+$/g, '');
  const texts = raw === '' ? [] : raw.split('/');
  const segments: Segment[] = [];
  const paramNames: string[] = [];
  texts.forEach((text, index) => {
    if (text === '') throw new Error(`empty segment in route '${template}'`);
    const parts = parseSegment(text);
    const params = parts.filter((p): p is ParamPart => p.kind === 'param');
    for (const p of params) {
      if (paramNames.includes(p.name.toLowerCase())) throw new Error(`duplicate parameter '${p.name}' in route '${template}'`);
      paramNames.push(p.name.toLowerCase());
      if (p.catchAll && (index !== texts.length - 1 || parts.length > 1)) throw new Error(`catch-all '{*${p.name}}' must be the whole last segment of '${template}'`);
    }
    let rank: number;
    let regex: RegExp | undefined;
    if (parts.length === 1 && parts[0]!.kind === 'literal') rank = 1;
    else if (parts.length > 1) {
      rank = 2;
      regex = new RegExp('^' + parts.map((p) => (p.kind === 'literal' ? escapeRe(p.text) : '(.+?)')).join('') + '$', 'i');
    } else {
      const p = params[0]!;
      rank = p.catchAll ? 5 : p.optional ? 4 : p.constraints.length ? 3 : 4;
    }
    segments.push({ parts, rank, ...(regex ? { regex } : {}) });
  });
  // Only trailing segments may be optional (ASP.NET rule).
  let seenOptional = false;
  for (const s of segments) {
    const p = s.parts.length === 1 && s.parts[0]!.kind === 'param' ? s.parts[0] : undefined;
    const opt = !!p && (p.optional || p.catchAll || p.defaultValue !== undefined);
    if (seenOptional && !opt) throw new Error(`an optional parameter must be at the end of route '${template}'`);
    seenOptional ||= opt;
  }
  return { template, segments, precedence: segments.map((s) => s.rank), paramNames };
}

function safeDecode(s: string): string | undefined {
  try { return decodeURIComponent(s); } catch { return undefined; }
}

/** Matches a request path (no query, leading slash optional) against a compiled route; returns params or undefined. */
export function matchRoute(route: CompiledRoute, pathname: string): Record<string, string> | undefined {
  const trimmed = pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  const rawSegments = trimmed === '' ? [] : trimmed.split('/');
  const params: Record<string, string> = {};
  let i = 0;
  for (const segment of route.segments) {
    const only = segment.parts.length === 1 ? segment.parts[0]! : undefined;
    if (only && only.kind === 'param' && only.catchAll) {
      const rest = rawSegments.slice(i).map(safeDecode);
      if (rest.some((r) => r === undefined)) return undefined;
      const value = rest.join('/');
      if (value !== '') {
        if (!only.constraints.every((c) => c(value))) return undefined;
        params[only.name] = value;
      } else if (only.defaultValue !== undefined) params[only.name] = only.defaultValue;
      i = rawSegments.length;
      continue;
    }
    const raw = rawSegments[i];
    if (raw === undefined) {
      if (only && only.kind === 'param' && (only.optional || only.defaultValue !== undefined)) {
        if (only.defaultValue !== undefined) params[only.name] = only.defaultValue;
        continue;
      }
      return undefined;
    }
    const value = safeDecode(raw);
    if (value === undefined || value === '') return undefined;
    if (only && only.kind === 'literal') {
      if (only.text.toLowerCase() !== value.toLowerCase()) return undefined;
    } else if (only && only.kind === 'param') {
      if (!only.constraints.every((c) => c(value))) return undefined;
      params[only.name] = value;
    } else {
      const m = segment.regex!.exec(value);
      if (!m) return undefined;
      let g = 1;
      for (const part of segment.parts) {
        if (part.kind !== 'param') continue;
        const v = m[g++]!;
        if (!part.constraints.every((c) => c(v))) return undefined;
        params[part.name] = v;
      }
    }
    i++;
  }
  return i === rawSegments.length ? params : undefined;
}

/** Negative when `a` is more specific than `b`. */
export function comparePrecedence(a: CompiledRoute, b: CompiledRoute): number {
  const n = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < n; i++) {
    const x = a.precedence[i] ?? 0, y = b.precedence[i] ?? 0;
    if (x !== y) return x - y;
  }
  return 0;
}

export type RouteResolution<T> =
  | { kind: 'match'; value: T; params: Record<string, string>; route: CompiledRoute }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

/** A set of (template, methods) entries resolved by path first, then method. */
export class RouteTable<T> {
  private readonly entries: { route: CompiledRoute; methods: Set<string>; value: T; order: number }[] = [];

  add(template: string, methods: readonly string[], value: T): CompiledRoute {
    const route = compileRoute(template);
    this.entries.push({ route, methods: new Set(methods.map((m) => m.toUpperCase())), value, order: this.entries.length });
    this.entries.sort((a, b) => comparePrecedence(a.route, b.route) || a.order - b.order);
    return route;
  }

  resolve(method: string, pathname: string): RouteResolution<T> {
    const allow = new Set<string>();
    for (const entry of this.entries) {
      const params = matchRoute(entry.route, pathname);
      if (!params) continue;
      if (entry.methods.has(method.toUpperCase())) return { kind: 'match', value: entry.value, params, route: entry.route };
      for (const m of entry.methods) allow.add(m);
    }
    return allow.size ? { kind: 'method-not-allowed', allow: [...allow].sort() } : { kind: 'not-found' };
  }
}
