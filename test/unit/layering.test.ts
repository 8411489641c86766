/**
 * Imports point one way: cli/bench -> client/workers -> workflows -> activity types;
 * activities -> adapters -> domain. Checked on the source text, so a new file obeys it at once.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const LAYERS = ['domain', 'config', 'adapters', 'activities', 'workflows', 'client', 'workers', 'sample', 'cli', 'bench'] as const;
type Layer = (typeof LAYERS)[number];

/** What each folder may import (value imports); workflows may also import activity types. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  domain: ['domain'],
  config: ['config', 'domain'],
  adapters: ['adapters', 'config', 'domain'],
  activities: ['activities', 'adapters', 'config', 'domain'],
  workflows: ['workflows', 'config', 'domain'],
  client: ['client', 'workflows', 'config', 'domain'],
  workers: ['workers', 'client', 'workflows', 'activities', 'adapters', 'config', 'domain'],
  sample: ['sample', 'adapters', 'config', 'domain'],
  cli: ['cli', 'client', 'workers', 'sample', 'adapters', 'config', 'domain'],
  bench: ['bench', 'client', 'workers', 'sample', 'adapters', 'config', 'domain'],
};
const TYPE_ONLY_ALLOWED: Partial<Record<Layer, readonly Layer[]>> = { workflows: ['activities'], client: ['activities'], cli: ['activities'] };

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'results' ? [] : sourceFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((f) => existsSync(f));
}

function edgesOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)) {
    const to = resolveImport(file, m[3]!);
    if (to) edges.push({ from: file, to, typeOnly: m[2] !== undefined });
  }
  return edges;
}

const layerOf = (file: string): Layer | undefined => LAYERS.find((l) => path.relative(root, file).split(path.sep)[0] === l);
const rel = (file: string): string => path.relative(root, file);
const files = LAYERS.flatMap((l) => sourceFiles(path.join(root, l)));
const edges = files.flatMap(edgesOf);

describe('import layering', () => {
  test('every import goes to a layer its folder may use', () => {
    const wrong = edges.flatMap((e) => {
      const from = layerOf(e.from)!;
      const to = layerOf(e.to);
      if (!to || ALLOWED[from].includes(to) || (e.typeOnly && TYPE_ONLY_ALLOWED[from]?.includes(to))) return [];
      return [`${rel(e.from)} -> ${rel(e.to)}${e.typeOnly ? ' (type)' : ''}`];
    });
    expect(wrong).toEqual([]);
  });

  test('no import loops between files', () => {
    const graph = new Map<string, string[]>();
    for (const e of edges) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
    const loops: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        loops.push([...trail.slice(trail.indexOf(file)), file].map(rel).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const f of files) visit(f, []);
    expect(loops).toEqual([]);
  });

  test('the checker sees the tree (it would pass vacuously on an empty one)', () => {
    expect(files.length).toBeGreaterThan(60);
    expect(edges.length).toBeGreaterThan(200);
  });
});
