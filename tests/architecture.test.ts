import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The package import table of ARCHITECTURE.md: which @dimmer packages each package may import.
const ALLOWED: Record<string, string[]> = {
  core: [],
  stats: [],
  rollout: ['core', 'stats'],
  server: ['core', 'stats', 'rollout'],
  sdk: ['core'],
  cli: ['sdk', 'server'],
  dashboard: ['core'],
};
// Pure packages: no Node or DOM APIs, no clock, randomness, console or env, and no third-party modules
// except this explicit allow-list. core runs `matches` on re2js (pure JavaScript RE2, no dependencies of
// its own) so that every evaluator (server, SDK, browser) has the same linear-time regex engine.
const PURE = new Set(['core', 'stats', 'rollout']);
const THIRD_PARTY: Record<string, readonly string[]> = { core: ['re2js'] };
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
