/**
 * Compiles the published packages (`PUBLISHED` in workspace.ts) to `packages/<dir>/dist`: ESM JavaScript
 * and `.d.ts` per source file, with relative imports rewritten from `.ts` to `.js` so the output runs on
 * plain Node and type-checks under `module: nodenext`. A package with `scripts/build.ts` also gets the
 * bundles that script's `buildBundles(outdir)` writes (the SDK's browser bundles).
 *
 * `tsx scripts/build-packages.ts [dir...]` builds the named packages (default: all, or the one whose folder
 * is the working directory, as `npm run build -w @dimmer/sdk` does) after the published packages they import.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  bin,
  PUBLISHED,
  type PublishedPackage,
  packageManifest,
  ROOT,
  run,
  workspaceDir,
} from './workspace.ts';

/** Where the generated per-package compiler configurations are written. */
const CONFIG_DIR = join(ROOT, 'node_modules', '.cache', 'dimmer-build');

/** A relative `.ts` specifier in a declaration file: `from './x.ts'` or `import('./x.ts')`. */
const TS_SPECIFIER = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g;

/** The published packages `pkg` imports (its `@dimmer/*` dependencies that are published). */
function publishedDependencies(pkg: PublishedPackage): PublishedPackage[] {
  const names = Object.keys(packageManifest(pkg.dir).dependencies ?? {});
  return PUBLISHED.filter((other) => names.some((name) => workspaceDir(name) === other.dir));
}

/** The declaration file an `exports` entry gives TypeScript (its `types`, at any depth), if any. */
function typesOf(entry: unknown): string | undefined {
  if (entry === null || typeof entry !== 'object') return undefined;
  const record = entry as Record<string, unknown>;
  if (typeof record.types === 'string') return record.types;
  for (const value of Object.values(record)) {
    const found = typesOf(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Path mappings sending every published entry of `dep` (`@dimmer/core`, `@dimmer/sdk/browser`, …) to its
 * built declarations: the workspace's `exports` point at sources, which must not be compiled into the
 * package that imports them.
 */
function dependencyPaths(dep: PublishedPackage): Record<string, string[]> {
  const manifest = packageManifest(dep.dir);
  const exports = (manifest.publishManifest?.exports ?? {}) as Record<string, unknown>;
  const paths: Record<string, string[]> = {};
  for (const [subpath, entry] of Object.entries(exports)) {
    const types = typesOf(entry);
    if (types !== undefined)
      paths[`${manifest.name}${subpath.slice(1)}`] = [join(ROOT, 'packages', dep.dir, types)];
  }
  return paths;
}

/**
 * The compiler configuration of one package: the repository's strict settings, Node's module resolution,
 * test files left out, and each published dependency resolved to its built declarations.
 */
function compilerConfig(pkg: PublishedPackage): object {
  const src = join(ROOT, 'packages', pkg.dir, 'src');
  const paths = Object.assign({}, ...publishedDependencies(pkg).map(dependencyPaths)) as Record<
    string,
    string[]
  >;
  return {
    extends: join(ROOT, 'tsconfig.base.json'),
    compilerOptions: {
      noEmit: false,
      declaration: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      rewriteRelativeImportExtensions: true,
      rootDir: src,
      outDir: join(ROOT, 'packages', pkg.dir, 'dist'),
      lib: pkg.lib,
      types: pkg.types,
      paths,
    },
    include: [join(src, '**/*.ts')],
    exclude: [join(src, '**/*.test.ts')],
  };
}

/** Rewrites relative `.ts` specifiers to `.js` in every declaration file under `dir`. */
function rewriteDeclarations(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path, 'utf8');
    const rewritten = text.replace(TS_SPECIFIER, '$1$2$3.js$2');
    if (rewritten !== text) writeFileSync(path, rewritten);
  }
}

/** Builds one package into its `dist/`, replacing what was there. */
export async function buildPackage(pkg: PublishedPackage): Promise<void> {
  const root = join(ROOT, 'packages', pkg.dir);
  const dist = join(root, 'dist');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(CONFIG_DIR, { recursive: true });
  const config = join(CONFIG_DIR, `${pkg.dir}.tsconfig.json`);
  writeFileSync(config, `${JSON.stringify(compilerConfig(pkg), null, 2)}\n`);
  run(bin('tsc'), ['-p', config]);
  rewriteDeclarations(dist);
  const bundler = join(root, 'scripts', 'build.ts');
  if (existsSync(bundler)) {
    const bundles = (await import(pathToFileURL(bundler).href)) as {
      buildBundles: (outdir: string) => Promise<unknown>;
    };
    await bundles.buildBundles(dist);
  }
}

/** True when `pkg`'s `dist/` is there and no source file is newer than it. */
function isFresh(pkg: PublishedPackage): boolean {
  const root = join(ROOT, 'packages', pkg.dir);
  const marker = join(root, 'dist', 'index.d.ts');
  if (!existsSync(marker)) return false;
  const built = statSync(marker).mtimeMs;
  const src = join(root, 'src');
  return readdirSync(src, { withFileTypes: true, recursive: true }).every(
    (entry) => !entry.isFile() || statSync(join(entry.parentPath, entry.name)).mtimeMs <= built,
  );
}

/**
 * Builds the named packages (folders under `packages/`; default: every published one) and, first, the
 * published packages they import, unless those are already built from their current sources.
 */
export async function buildPublished(dirs?: readonly string[]): Promise<void> {
  const named = new Set<string>();
  const wanted = new Set<string>();
  const add = (pkg: PublishedPackage): void => {
    for (const dep of publishedDependencies(pkg)) add(dep);
    wanted.add(pkg.dir);
  };
  for (const dir of dirs ?? PUBLISHED.map((pkg) => pkg.dir)) {
    const pkg = PUBLISHED.find((candidate) => candidate.dir === dir);
    if (!pkg)
      throw new Error(`packages/${dir} is not a published package (see PUBLISHED in scripts/workspace.ts)`);
    named.add(pkg.dir);
    add(pkg);
  }
  for (const pkg of PUBLISHED)
    if (named.has(pkg.dir) || (wanted.has(pkg.dir) && !isFresh(pkg))) await buildPackage(pkg);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const here = basename(process.cwd());
  const inPackage = process.cwd() === join(ROOT, 'packages', here);
  await buildPublished(args.length > 0 ? args : inPackage ? [here] : undefined);
}
