// Architecture rules that ESLint's import restrictions cannot state: no module of src/ reaches itself again through
// its imports (type-only imports included: a type cycle is still two ideas that cannot be read apart). The layers
// themselves (core imports no adapter, edge, wiring or config value; adapters import no config) are ESLint rules in
// eslint.config.js.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** Relative imports and re-exports of every .ts file under `dir`, as repo-relative paths. */
export function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const path = join(dir, file);
    const source = readFileSync(join(root, path), 'utf8');
    const targets = [...source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)\.js'/gms)]
      .map((m) => normalize(join(dirname(path), `${m[1]!}.ts`)));
    graph.set(path, targets);
  }
  return graph;
}

/** Every cycle in the graph, each once, as the list of modules it passes through (depth-first, Tarjan-free). */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found = new Map<string, string[]>();
  const visit = (node: string, stack: string[], onStack: Set<string>) => {
    for (const next of graph.get(node) ?? []) {
      if (onStack.has(next)) {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        found.set(canonical.join(' -> '), canonical);
      } else if (graph.has(next) && !done.has(next)) {
        stack.push(next); onStack.add(next);
        visit(next, stack, onStack);
        stack.pop(); onStack.delete(next);
      }
    }
  };
  // A module all of whose paths were explored without meeting the current stack cannot start a new cycle.
  const done = new Set<string>();
  for (const node of graph.keys()) {
    visit(node, [node], new Set([node]));
    done.add(node);
  }
  return [...found.values()];
}

describe('architecture', () => {
  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no import cycle in src/ (type-only imports included)', () => {
    const graph = importGraph('src');
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph).map((c) => c.map((p) => relative('src', p)).join(' -> '))).toEqual([]);
  });
});
