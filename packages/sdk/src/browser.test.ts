import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every module specifier reachable from `entry` through relative imports, with the file importing it. */
function reachableImports(entry: string): { from: string; spec: string }[] {
  const seen = new Set<string>();
  const out: { from: string; spec: string }[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(
      /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    )) {
      const spec = (m[1] ?? m[2]) as string;
      out.push({ from: file, spec });
      if (spec.startsWith('.')) visit(join(dirname(file), spec));
    }
  };
  visit(entry);
  return out;
}

describe('browser build', () => {
  for (const entry of ['browser.ts', 'openfeature-web.ts']) {
    it(`${entry} never reaches a Node API`, () => {
      const imports = reachableImports(join(import.meta.dirname, entry));
      expect(imports.length).toBeGreaterThan(3);
      const offending = imports.filter(
        ({ spec }) => spec.startsWith('node:') || spec === '@openfeature/server-sdk',
      );
      expect(offending).toEqual([]);
    });
  }

  it('the package maps "." to the browser entry under the browser condition', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    expect(pkg.exports['.']).toMatchObject({ browser: './src/browser.ts', default: './src/index.ts' });
  });

  it('exports the same client API from both entries', async () => {
    const node = await import('./index.ts');
    const browser = await import('./browser.ts');
    for (const name of ['createClient', 'createBrowserClient', 'DimmerClient', 'localStorageCache'])
      expect(typeof (browser as Record<string, unknown>)[name], name).toBe(
        typeof (node as Record<string, unknown>)[name],
      );
  });
});
