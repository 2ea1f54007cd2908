import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildImportGraph,
  crossFeatureViolations,
  findCycles,
  plumbingViolations,
  upwardImports,
} from './server-graph.ts';

// The package import table of ARCHITECTURE.md: which @dimmer packages each package may import.
const ALLOWED: Record<string, string[]> = {
  core: [],
  stats: [],
  rollout: ['core', 'stats'],
  api: ['core'],
  server: ['core', 'stats', 'rollout', 'api'],
  sdk: ['core', 'api'],
  cli: ['sdk', 'server'],
  dashboard: ['core', 'api'],
};
// Pure packages: no Node or DOM APIs, no clock, randomness, console or env, and no third-party modules
// except this explicit allow-list. core runs `matches` on re2js (pure JavaScript RE2, no dependencies of
// its own) so that every evaluator (server, SDK, browser) has the same linear-time regex engine; the
// contract (api) is written in TypeBox.
const PURE = new Set(['core', 'stats', 'rollout', 'api']);
const THIRD_PARTY: Record<string, readonly string[]> = { core: ['re2js'], api: ['typebox'] };
// Packages that may import only types (`import type`) from some of their allowed packages: the contract's
// schemas (and TypeBox with them) never ship in the SDK bundles or the dashboard.
const TYPES_ONLY: Record<string, readonly string[]> = { api: ['core'], sdk: ['api'], dashboard: ['api'] };
const IMPURE_GLOBALS = [
  /\bDate\.now\s*\(/,
  /\bnew Date\s*\(\s*\)/,
  /\bMath\.random\s*\(/,
  /\bconsole\./,
  /\bprocess\./,
  /\bperformance\.now\s*\(/,
  /\b(window|document|localStorage|sessionStorage|globalThis|self)\s*[.[]/,
  /\b(setTimeout|setInterval|fetch)\s*\(/,
];

const root = join(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    else if (/\.(ts|tsx)$/.test(name)) out.push(path);
  }
  return out;
}

function importsOf(source: string): string[] {
  const specs: string[] = [];
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(pattern)) specs.push((m[1] ?? m[2] ?? m[3]) as string);
  return specs;
}

const packages = readdirSync(packagesDir).filter((p) => statSync(join(packagesDir, p)).isDirectory());

describe('package boundaries (ARCHITECTURE.md)', () => {
  it('knows every package in packages/', () => {
    for (const pkg of packages)
      expect(Object.keys(ALLOWED), `packages/${pkg} is not in the table`).toContain(pkg);
  });

  for (const pkg of packages) {
    const srcDir = join(packagesDir, pkg, 'src');
    let files: string[] = [];
    try {
      files = listSources(srcDir);
    } catch {
      continue;
    }
    it(`packages/${pkg} imports only what the table allows`, () => {
      const violations: string[] = [];
      for (const file of files) {
        const isTest = /\.test\.tsx?$/.test(file);
        for (const spec of importsOf(readFileSync(file, 'utf8'))) {
          const where = relative(root, file);
          const dimmer = /^@dimmer\/([^/]+)/.exec(spec);
          if (dimmer) {
            if (!ALLOWED[pkg]?.includes(dimmer[1] as string)) violations.push(`${where} imports ${spec}`);
          } else if (
            PURE.has(pkg) &&
            !isTest &&
            !spec.startsWith('.') &&
            !(THIRD_PARTY[pkg] ?? []).includes(spec)
          ) {
            violations.push(
              `${where} imports ${spec} (pure packages import only their allow-listed third-party modules: ${(THIRD_PARTY[pkg] ?? []).join(', ') || 'none'})`,
            );
          } else if (
            spec.startsWith('../') &&
            relative(join(packagesDir, pkg), join(file, '..', spec)).startsWith('..')
          ) {
            violations.push(`${where} reaches outside its package with ${spec}`);
          }
        }
      }
      expect(violations).toEqual([]);
    });
    if (TYPES_ONLY[pkg] !== undefined) {
      it(`packages/${pkg} imports only types from ${TYPES_ONLY[pkg].join(', ')}`, () => {
        const violations: string[] = [];
        for (const file of files.filter((f) => !/\.test\.ts$/.test(f))) {
          const text = readFileSync(file, 'utf8');
          for (const dep of TYPES_ONLY[pkg] ?? []) {
            const values = new RegExp(
              // One statement: the specifier list may span lines but never a `;` or a string.
              `^(?:import|export)\\s+(?!type\\b)[^'";]*from\\s*['"]@dimmer/${dep}['"]`,
              'm',
            );
            if (values.test(text))
              violations.push(`${relative(root, file)} imports values from @dimmer/${dep}`);
          }
        }
        expect(violations).toEqual([]);
      });
    }
    if (PURE.has(pkg)) {
      it(`packages/${pkg} depends on exactly its allow-listed third-party modules`, () => {
        const manifest = JSON.parse(readFileSync(join(packagesDir, pkg, 'package.json'), 'utf8')) as {
          dependencies?: Record<string, string>;
        };
        const thirdParty = Object.keys(manifest.dependencies ?? {}).filter((d) => !d.startsWith('@dimmer/'));
        expect(thirdParty.sort()).toEqual([...(THIRD_PARTY[pkg] ?? [])].sort());
      });
      it(`packages/${pkg} uses no clock, randomness, console, env or platform APIs`, () => {
        const violations: string[] = [];
        for (const file of files.filter((f) => !/\.test\.ts$/.test(f))) {
          const text = readFileSync(file, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
          for (const pattern of IMPURE_GLOBALS) {
            if (pattern.test(text)) violations.push(`${relative(root, file)} uses ${pattern.source}`);
          }
        }
        expect(violations).toEqual([]);
      });
    }
  }
});

// Inside the server (ARCHITECTURE.md "Inside the server"): vertical slices over plumbing. A feature imports
// another feature only through that feature's `index.ts`; only the composition root (app.ts, stores.ts and
// what starts or exports it) wires features together.
const serverSrc = join(packagesDir, 'server', 'src');
/** Upward imports allowed inside the server (features whose ports refer to each other's). */
const MAX_UPWARD_IMPORTS = 18;

function serverFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const file of listSources(serverSrc))
    files[relative(serverSrc, file).split('\\').join('/')] = readFileSync(file, 'utf8');
  return files;
}

describe('inside the server (ARCHITECTURE.md)', () => {
  const graph = buildImportGraph(serverFiles());

  it('has no import cycles', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('keeps http/ and storage/ free of features', () => {
    expect(plumbingViolations(graph)).toEqual([]);
  });

  it('lets a feature use another only through its index.ts', () => {
    expect(crossFeatureViolations(graph)).toEqual([]);
  });

  it('keeps the imports that run upward within the budget', () => {
    expect(upwardImports(graph).length).toBeLessThanOrEqual(MAX_UPWARD_IMPORTS);
  });
});

describe('the server rules catch violations (synthetic trees)', () => {
  it('finds an import cycle, also through three files', () => {
    const graph = buildImportGraph({
      'a/a.ts': "import { b } from '../b/b.ts';",
      'b/b.ts': "import { c } from './c.ts';",
      'b/c.ts': "import type { A } from '../a/a.ts';",
      'd.ts': 'export const d = 1;',
    });
    expect(findCycles(graph)).toEqual([['a/a.ts', 'b/b.ts', 'b/c.ts']]);
  });

  it('reports http/ or storage/ importing a feature', () => {
    const graph = buildImportGraph({
      'http/metrics.ts': "import { ROLLOUT_STATUSES } from '../rollouts/rollouts.store.ts';",
      'storage/sql/sql-stores.ts': "import type { FlagRecord } from '../../flags/flags.store.ts';",
      'storage/write.ts': 'export type W = 1;',
      'rollouts/rollouts.store.ts': "import type { W } from '../storage/write.ts';",
      'flags/flags.store.ts': 'export interface FlagRecord {}',
    });
    expect(plumbingViolations(graph)).toEqual([
      'http/metrics.ts imports rollouts/rollouts.store.ts',
      'storage/sql/sql-stores.ts imports flags/flags.store.ts',
    ]);
  });

  it('reports a feature reaching into another past its index.ts', () => {
    const graph = buildImportGraph({
      'segments/segments.service.ts':
        "import type { FlagsStore } from '../flags/flags.store.ts';\nimport type { FlagRecord } from '../flags/index.ts';",
      'flags/flags.store.ts': 'export interface FlagsStore {}',
      'flags/index.ts': "export type { FlagsStore } from './flags.store.ts';",
      'app.ts': "import { FlagsService } from './flags/flags.service.ts';",
      'flags/flags.service.ts': 'export class FlagsService {}',
    });
    expect(crossFeatureViolations(graph)).toEqual([
      'segments/segments.service.ts imports flags/flags.store.ts',
    ]);
  });

  it('counts imports against the layers and between folders that depend on each other', () => {
    const graph = buildImportGraph({
      'settings.ts': "import { LIMIT } from './keys/keys.service.ts';",
      'keys/keys.service.ts': "import { x } from '../flags/index.ts';\nexport const LIMIT = 1;",
      'flags/index.ts': "import { y } from '../keys/keys.service.ts';\nexport const x = 1;",
      'app.ts': "import { LIMIT } from './keys/keys.service.ts';",
    });
    const upward = upwardImports(graph);
    expect(upward).toContain('settings.ts -> keys/keys.service.ts');
    expect(upward.filter((edge) => edge.startsWith('keys/') || edge.startsWith('flags/'))).toHaveLength(1);
    expect(upward).not.toContain('app.ts -> keys/keys.service.ts');
  });
});
