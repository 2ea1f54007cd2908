/**
 * Prints the figures of the server's import graph (cycles and upward imports) with the architecture test's own
 * rules: `npx tsx tests/server-graph-figures.ts` for the working tree, or with a git revision (`HEAD~3`) to
 * measure that commit's tree.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  buildImportGraph,
  crossFeatureViolations,
  findCycles,
  plumbingViolations,
  upwardImports,
} from './server-graph.ts';

const root = join(import.meta.dirname, '..');
const SRC = 'packages/server/src';

function workingTree(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.tsx?$/.test(name)) files[relative(join(root, SRC), path)] = readFileSync(path, 'utf8');
    }
  };
  walk(join(root, SRC));
  return files;
}

function atRevision(revision: string): Record<string, string> {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  const files: Record<string, string> = {};
  for (const path of git('ls-tree', '-r', '--name-only', revision, '--', SRC).split('\n')) {
    if (!/\.tsx?$/.test(path)) continue;
    files[path.slice(SRC.length + 1)] = git('show', `${revision}:${path}`);
  }
  return files;
}

const revision = process.argv[2];
const graph = buildImportGraph(revision === undefined ? workingTree() : atRevision(revision));
const cycles = findCycles(graph);
const upward = upwardImports(graph);
let imports = 0;
for (const targets of graph.values()) imports += targets.length;
console.log(
  `${revision ?? 'working tree'}: ${graph.size} files, ${imports} imports, ${cycles.length} cycles, ${upward.length} upward imports`,
);
for (const cycle of cycles) console.log(`  cycle: ${cycle.join(' ')}`);
for (const edge of upward) console.log(`  upward: ${edge}`);
for (const v of plumbingViolations(graph)) console.log(`  plumbing: ${v}`);
for (const v of crossFeatureViolations(graph)) console.log(`  cross-feature: ${v}`);
