import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The architecture of core, checked on every `npm test` (see ARCHITECTURE.md): the folders of
// src/ in layers, lowest first. A file may import files of its own folder and of any LOWER layer,
// never a folder of its own layer or of a higher one; no file imports itself back through a loop
// (type-only imports count); and core imports no package, only `node:` built-ins. Tests (*.test.ts)
// may drive the code through any door and are not checked.
const LAYERS: readonly (readonly string[])[] = [
  ['contract'], // interfaces, capabilities, errors, filter, scope, data types, input validation
  ['kit'], // stateless helpers adapters share: ids, vector math, BM25, retry, settings, redaction
  ['graph', 'llm', 'store', 'builtin', 'telemetry'], // graph settings and names; LLM output and usage; the write protocol; in-memory parts; OpenTelemetry spans
  ['add', 'search', 'edit'], // the operations
  ['memory'], // the Memory class: validates and delegates
  ['index.ts', 'adapter.ts', 'testing'], // the package's entries: @mem/core, @mem/core/adapter, @mem/core/testing
];

const SRC = dirname(fileURLToPath(import.meta.url));

/** A file's unit: its top-level folder under src/, or its own name for a file directly in src/. */
function unitOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

function layerOf(unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit));
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, type-only ones included, comments ignored. */
function specifiers(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((imported) => imported.fileName);
}

/** The import graph of src/: file → the src files it imports; other specifiers are listed apart. */
function importGraph(): { graph: Map<string, string[]>; external: string[]; unresolved: string[] } {
  const graph = new Map<string, string[]>();
  const external: string[] = [];
  const unresolved: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const targets: string[] = [];
    for (const specifier of specifiers(file)) {
      if (!specifier.startsWith('.')) {
        external.push(`${relative(SRC, file)} imports ${specifier}`);
        continue;
      }
      const base = resolve(dirname(file), specifier);
      const target = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
      if (target) targets.push(target);
      else unresolved.push(`${relative(SRC, file)} imports ${specifier}`);
    }
    graph.set(file, targets);
  }
  return { graph, external, unresolved };
}

/** Imports that break the layer order: into a folder of the same layer, or of a higher one. */
function layerViolations(graph: ReadonlyMap<string, readonly string[]>, unit: (file: string) => string): string[] {
  const violations: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const from = unit(file);
      const to = unit(target);
      if (from === to) continue;
      const fromLayer = layerOf(from);
      const toLayer = layerOf(to);
      if (toLayer >= fromLayer) {
        violations.push(
          `${relative(SRC, file)} (${from}, layer ${fromLayer}) imports ${relative(SRC, target)} (${to}, layer ${toLayer}): ${toLayer === fromLayer ? 'same layer' : 'upward'}`,
        );
      }
    }
  }
  return violations;
}

/** Every import loop, as the files around it (each loop reported once, from its first file found). */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') cycles.push([...path.slice(path.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('the layers of core', () => {
  const { graph, external, unresolved } = importGraph();

  it('sees the source files and their imports', () => {
    expect(graph.size).toBeGreaterThan(40);
    expect(unresolved).toEqual([]);
  });

  it('puts every source file in a declared layer', () => {
    const undeclared = [...graph.keys()].filter((file) => layerOf(unitOf(file)) < 0).map((file) => relative(SRC, file));
    expect(undeclared).toEqual([]);
  });

  it('has no import from a folder of the same or a higher layer', () => {
    expect(layerViolations(graph, unitOf)).toEqual([]);
  });

  it('has no import loop', () => {
    expect(importCycles(graph).map((cycle) => cycle.map((file) => relative(SRC, file)).join(' → '))).toEqual([]);
  });

  it('imports no package, only node: built-ins', () => {
    expect(external.filter((line) => !/ imports node:/.test(line))).toEqual([]);
  });

  it('the checks find an upward import, a same-layer import and a loop when there is one', () => {
    const file = (path: string) => join(SRC, path);
    const broken = new Map([
      [file('contract/a.ts'), [file('memory/b.ts')]],
      [file('memory/b.ts'), [file('contract/a.ts')]],
      [file('add/c.ts'), [file('search/d.ts')]],
      [file('search/d.ts'), []],
    ]);
    expect(layerViolations(broken, unitOf)).toEqual([
      expect.stringContaining('contract/a.ts (contract, layer 0) imports memory/b.ts (memory, layer 4): upward'),
      expect.stringContaining('add/c.ts (add, layer 3) imports search/d.ts (search, layer 3): same layer'),
    ]);
    expect(importCycles(broken).map((cycle) => cycle.map((path) => relative(SRC, path)))).toEqual([
      ['contract/a.ts', 'memory/b.ts', 'contract/a.ts'],
    ]);
  });
});
