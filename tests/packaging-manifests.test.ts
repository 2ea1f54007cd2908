// The manifests the packaging scripts write: the packed package.json of a published package and the lock
// file cut for a release.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedManifest } from '../scripts/pack-manifest.ts';
import { cutLockFile } from '../scripts/release.ts';
import { PUBLISHED, packageManifest, ROOT, readManifest } from '../scripts/workspace.ts';

/** The file paths of an `exports` map (its string leaves). */
function leaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(leaves);
}

describe('publishedManifest', () => {
  it('swaps in the published exports and drops what only the workspace uses', () => {
    const published = publishedManifest({
      name: '@dimmer/x',
      version: '1.2.3',
      exports: { '.': './src/index.ts' },
      scripts: { prepack: 'build' },
      devDependencies: { vitest: '4' },
      dependencies: { '@dimmer/core': '1.2.3' },
      publishManifest: { exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } } },
    });
    expect(published).toEqual({
      name: '@dimmer/x',
      version: '1.2.3',
      exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
      dependencies: { '@dimmer/core': '1.2.3' },
    });
  });

  it('refuses a private package', () => {
    expect(() => publishedManifest({ name: '@dimmer/server', version: '1.0.0', private: true })).toThrow(
      '@dimmer/server is private',
    );
  });

  it('holds for every published package: the repository version, Apache-2.0, compiled entries only', () => {
    const versions = new Set<string>();
    for (const pkg of PUBLISHED) {
      const manifest = packageManifest(pkg.dir);
      versions.add(manifest.version);
      const published = publishedManifest(manifest);
      expect(published.license, pkg.dir).toBe('Apache-2.0');
      expect(published.sideEffects, pkg.dir).toBe(false);
      expect(published.files, pkg.dir).toEqual(['dist', 'NOTICE']);
      const targets = leaves(published.exports);
      expect(targets.length, pkg.dir).toBeGreaterThan(0);
      for (const target of targets)
        expect(target, pkg.dir).toMatch(/^\.\/(dist\/.+\.js|dist\/.+\.d\.ts|package\.json)$/);
      for (const [name, range] of Object.entries(manifest.dependencies ?? {}))
        if (name.startsWith('@dimmer/')) expect(range, `${pkg.dir} → ${name}`).toBe(manifest.version);
    }
    expect([...versions]).toEqual([readManifest(join(ROOT, 'package.json')).version]);
  });
});

describe('cutLockFile', () => {
  const lock = {
    name: 'dimmer',
    version: '1.0.0',
    lockfileVersion: 3,
    packages: {
      '': { name: 'dimmer' },
      'node_modules/app-dep': {
        version: '2.0.0',
        dependencies: { shared: '^1', nested: '^3' },
        optionalDependencies: { 'not-installed': '1' },
        peerDependencies: { peer: '1', 'optional-peer': '1' },
        peerDependenciesMeta: { 'optional-peer': { optional: true } },
      },
      'node_modules/app-dep/node_modules/nested': { version: '3.0.0', dependencies: { shared: '^1' } },
      'node_modules/nested': { version: '4.0.0', dev: true },
      'node_modules/shared': { version: '1.5.0', dev: true, devOptional: true },
      'node_modules/peer': { version: '1.0.0' },
      'node_modules/test-tool': { version: '9.0.0', dev: true },
    },
  };
  const root = { name: 'dimmer', version: '1.0.0', license: 'Apache-2.0' };

  it('keeps what the dependencies need, where Node would find it, without the dev markers', () => {
    const cut = cutLockFile(lock, root, { 'app-dep': '^2' });
    expect(Object.keys(cut.packages)).toEqual([
      '',
      'node_modules/app-dep',
      'node_modules/app-dep/node_modules/nested',
      'node_modules/peer',
      'node_modules/shared',
    ]);
    expect(cut.packages['node_modules/shared']).toEqual({ version: '1.5.0' });
    expect(cut.packages['']).toMatchObject({
      name: 'dimmer',
      version: '1.0.0',
      dependencies: { 'app-dep': '^2' },
    });
  });

  it('names a dependency the lock file does not have', () => {
    expect(() => cutLockFile(lock, root, { missing: '1' })).toThrow('the lock file has no missing');
  });
});
