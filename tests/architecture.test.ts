import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

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
// Pure packages: no third-party modules, no Node or DOM APIs, no clock, randomness, console or env.
const PURE = new Set(['core', 'stats', 'rollout', 'api']);
// The only third-party modules a pure package may import: the contract is written in TypeBox.
const PURE_THIRD_PARTY: Record<string, readonly string[]> = { api: ['typebox'] };
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
            !PURE_THIRD_PARTY[pkg]?.includes(spec)
          ) {
            violations.push(`${where} imports ${spec} (pure packages import nothing outside themselves)`);
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
              `^(?:import|export)\\s+(?!type\\b)[^'"]*from\\s*['"]@dimmer/${dep}['"]`,
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
