/**
 * The import graph inside packages/server/src and the rules the architecture test checks on it. Every function
 * here is pure: it takes a map of file path → source text (paths relative to the server's src/, with `/`), so
 * the rules can be run on the real tree and on small synthetic trees that contain a violation.
 */

/** File path (relative to src/) → the files it imports, resolved and relative to src/ too. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Folders of plumbing that must know no feature. */
export const PLUMBING_FOLDERS: readonly string[] = ['http', 'storage'];
/** Top-level files that wire features together (the composition root and what starts or exports it). */
export const COMPOSITION_FILES: readonly string[] = [
  'app.ts',
  'stores.ts',
  'server.ts',
  'startup.ts',
  'main.ts',
  'index.ts',
  'test-app.ts',
];
/** The one file of a feature folder other features may import. */
export const FEATURE_PUBLIC_FILE = 'index.ts';

/** Layers from the bottom up: shared leaf files, plumbing, features, the composition root. */
const LAYER = { leaf: 0, plumbing: 1, feature: 2, composition: 3 } as const;

/** The module specifiers a source file imports or re-exports (static and dynamic). */
export function importSpecifiers(source: string): string[] {
  const specs: string[] = [];
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(pattern)) specs.push((m[1] ?? m[2] ?? m[3]) as string);
  return specs;
}

/** Joins a relative specifier onto the folder of `from`; undefined when it leaves the tree. */
function resolveRelative(from: string, spec: string): string | undefined {
  const parts = from.split('/').slice(0, -1);
  for (const part of spec.split('/')) {
    if (part === '.' || part === '') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

/** The graph of relative imports between the given files (tests, `*.test.ts`, are left out). */
export function buildImportGraph(files: Readonly<Record<string, string>>): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const [file, source] of Object.entries(files)) {
    if (/\.test\.tsx?$/.test(file)) continue;
    const targets = new Set<string>();
    for (const spec of importSpecifiers(source)) {
      if (!spec.startsWith('.')) continue;
      const target = resolveRelative(file, spec);
      if (target !== undefined && target in files) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** The folder a file belongs to (`flags/flags.service.ts` → `flags`); a top-level file is its own unit. */
export function unitOf(file: string): string {
  const slash = file.indexOf('/');
  return slash === -1 ? file : file.slice(0, slash);
}

/** Feature folders: every top-level folder except the plumbing. */
export function featureFolders(graph: ImportGraph): Set<string> {
  const out = new Set<string>();
  for (const file of graph.keys()) {
    const unit = unitOf(file);
    if (unit !== file && !PLUMBING_FOLDERS.includes(unit)) out.add(unit);
  }
  return out;
}

function layerOf(file: string, features: ReadonlySet<string>): number {
  const unit = unitOf(file);
  if (unit === file) return COMPOSITION_FILES.includes(file) ? LAYER.composition : LAYER.leaf;
  if (features.has(unit)) return LAYER.feature;
  return LAYER.plumbing;
}

/** Strongly connected components of more than one node (or a node importing itself), each sorted. */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, indices.get(next) as number));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node);
  return cycles.sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

/** The graph between folders (and top-level files): one edge per pair that has at least one import. */
export function unitGraph(graph: ImportGraph): Map<string, string[]> {
  const units = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = unitOf(file);
    const set = units.get(from) ?? new Set<string>();
    for (const target of targets) if (unitOf(target) !== from) set.add(unitOf(target));
    units.set(from, set);
  }
  return new Map([...units].map(([unit, set]) => [unit, [...set].sort()]));
}

/**
 * The folders (and top-level files) ordered from the top (importers) down (the imported), so that as few
 * imports as possible run against the order: the greedy feedback-arc-set order (sinks go to the bottom, sources
 * to the top, otherwise the unit with the most outgoing minus incoming imports goes up next). Without folder
 * cycles no import runs against it.
 */
export function unitOrder(graph: ImportGraph): string[] {
  const weight = new Map<string, Map<string, number>>();
  const units = new Set<string>();
  for (const [file, targets] of graph) {
    const from = unitOf(file);
    units.add(from);
    for (const target of targets) {
      const to = unitOf(target);
      units.add(to);
      if (to === from) continue;
      const row = weight.get(from) ?? new Map<string, number>();
      row.set(to, (row.get(to) ?? 0) + 1);
      weight.set(from, row);
    }
  }
  const left = new Set([...units].sort());
  const out = (u: string) => [...(weight.get(u) ?? [])].filter(([v]) => left.has(v));
  const into = (u: string) =>
    [...left]
      .filter((v) => v !== u && (weight.get(v)?.get(u) ?? 0) > 0)
      .map((v) => weight.get(v)?.get(u) ?? 0);
  const top: string[] = [];
  const bottom: string[] = [];
  while (left.size > 0) {
    let changed = true;
    while (changed) {
      changed = false;
      for (const u of [...left]) {
        if (out(u).length === 0) {
          bottom.unshift(u);
          left.delete(u);
          changed = true;
        } else if (into(u).length === 0) {
          top.push(u);
          left.delete(u);
          changed = true;
        }
      }
    }
    if (left.size === 0) break;
    let best = '';
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const u of left) {
      const score = out(u).reduce((sum, [, w]) => sum + w, 0) - into(u).reduce((sum, w) => sum + w, 0);
      if (score > bestScore) {
        best = u;
        bestScore = score;
      }
    }
    top.push(best);
    left.delete(best);
  }
  return [...top, ...bottom];
}

/**
 * Imports that run upward: against the unit order (see unitOrder), or from a lower layer into a higher one
 * (shared leaf files < http/ and storage/ < features < the composition root).
 */
export function upwardImports(graph: ImportGraph): string[] {
  const features = featureFolders(graph);
  const position = new Map(unitOrder(graph).map((unit, i) => [unit, i]));
  const out: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const from = unitOf(file);
      const to = unitOf(target);
      if (from === to) continue;
      const againstOrder = (position.get(from) as number) > (position.get(to) as number);
      const againstLayers = layerOf(target, features) > layerOf(file, features);
      if (againstOrder || againstLayers) out.push(`${file} -> ${target}`);
    }
  }
  return out.sort();
}

/** Files of http/ and storage/ that import a feature folder or the composition root. */
export function plumbingViolations(graph: ImportGraph): string[] {
  const features = featureFolders(graph);
  const out: string[] = [];
  for (const [file, targets] of graph) {
    if (!PLUMBING_FOLDERS.includes(unitOf(file))) continue;
    for (const target of targets)
      if (features.has(unitOf(target)) || COMPOSITION_FILES.includes(target))
        out.push(`${file} imports ${target}`);
  }
  return out.sort();
}

/** Imports from one feature into another that do not go through the other feature's public file (`index.ts`). */
export function crossFeatureViolations(graph: ImportGraph): string[] {
  const features = featureFolders(graph);
  const out: string[] = [];
  for (const [file, targets] of graph) {
    const from = unitOf(file);
    if (!features.has(from)) continue;
    for (const target of targets) {
      const to = unitOf(target);
      if (to === from || !features.has(to)) continue;
      if (target !== `${to}/${FEATURE_PUBLIC_FILE}`) out.push(`${file} imports ${target}`);
    }
  }
  return out.sort();
}
