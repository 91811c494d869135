/**
 * The import graph keeps the layers the design states (issue #25): no import cycles among the
 * project's own modules (type-only imports included: a cycle of types is still two files that
 * cannot be read apart), `local/` never imports `tools/` (tools build on the local runtime, not the
 * other way round), and the deployed code (`shared/`, `functions/`) imports none of `local/`,
 * `tools/`, `bench/`, `test/` or `cdk/`. Read with the TypeScript compiler's pre-processor: no type
 * checking, so it takes a second.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DIRS = ['shared', 'functions', 'local', 'tools', 'bench', 'cdk'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : sourceFiles(path);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Each project file → the project files it imports (relative specifiers resolved). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const dir of DIRS) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const targets = importedFiles
        .map((f) => f.fileName)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => resolve(dirname(file), spec))
        .filter((path) => existsSync(path));
      graph.set(relative(ROOT, file), [...new Set(targets.map((t) => relative(ROOT, t)))]);
    }
  }
  return graph;
}

/** The cycles of a graph, each as the path that closes it (depth-first, one per back edge). */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

const layer = (file: string) => file.split('/')[0]!;

describe('the import graph', () => {
  const graph = importGraph();

  it('reads the project (sanity: the graph is not empty and edges resolve)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('functions/read-api/handler.ts')?.length).toBeGreaterThan(0);
  });

  it('has no import cycles', () => {
    expect(cyclesOf(graph).map((c) => c.join(' → '))).toEqual([]);
  });

  it('local/ never imports tools/; shared/ and functions/ import no runtime, tool, bench, test or cdk code', () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const a = layer(from);
        const b = layer(to);
        if (a === 'local' && b === 'tools') wrong.push(`${from} → ${to}`);
        if ((a === 'shared' || a === 'functions') && !['shared', 'functions'].includes(b))
          wrong.push(`${from} → ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cyclesOf(g)).toEqual([['a', 'b', 'c', 'a']]);
    expect(cyclesOf(new Map([['a', ['b']]]))).toEqual([]);
  });
});
