// The shape of src/, as the code map in docs/development.md draws it: every import (type-only ones and
// import() of a literal path included) goes to the same layer or one below, and no files import each other in a loop.
// A worker thread's entry is named by `new URL(...)` in src/workers.ts, which is not an import: the
// thread is a separate program that starts from that file.
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO } from './helpers/process.ts';

const SRC = join(REPO, 'src');

/** Top to bottom; a file may import its own layer or any below. The first prefix that matches wins. */
const LAYERS: readonly (readonly string[])[] = [
  ['main.ts', 'inference-worker.ts', 'store-worker.ts', 'train-worker.ts', 'preprocess-worker.ts'],
  ['runtime.ts'],
  ['http/'],
  ['actors/'],
  ['config.ts'],
  ['train/'],
  ['model/'],
  ['adapters/'],
  ['embedded/'],
  ['views/', 'preprocess/'],
  ['protocol/'],
  ['flow/', 'log.ts', 'metrics.ts', 'secret.ts', 'version.ts', 'workers.ts', 'worker-calls.ts'],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

/** src-relative path → the src-relative .ts files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(IMPORT)]
      .map((match) => resolve(dirname(file), (match[1] ?? match[2]) as string))
      .filter((target) => target.startsWith(`${SRC}/`) && target.endsWith('.ts'))
      .map((target) => relative(SRC, target));
    graph.set(relative(SRC, file), [...new Set(targets)]);
  }
  return graph;
}

function layerOf(file: string): number {
  const layer = LAYERS.findIndex((prefixes) => prefixes.some((prefix) => (prefix.endsWith('/') ? file.startsWith(prefix) : file === prefix)));
  if (layer === -1) throw new Error(`src/${file} is in no layer of the code map: add it to LAYERS and to the code map in docs/development.md`);
  return layer;
}

/** Every loop of imports among files, each as a path of files, found by depth-first search. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('the structure of src/', () => {
  const graph = importGraph();

  test('reads every source file and its imports', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('runtime.ts')).toContain('actors/supervisor.ts');
  });

  test('every file sits in a layer, and imports only its own layer or lower ones', () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      targets.filter((target) => layerOf(target) < layerOf(file)).map((target) => `src/${file} → src/${target}`),
    );
    expect(upward).toEqual([]);
  });

  test('no files import each other in a loop', () => {
    expect(cycles(graph).map((loop) => loop.join(' → '))).toEqual([]);
  });
});
