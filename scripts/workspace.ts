/**
 * Facts about the workspace shared by the build, pack and release scripts: where it is, which packages are
 * published to npm and how each is compiled.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..');

/** How one published package is compiled to `dist/` (ESM JavaScript and `.d.ts`). */
export interface PublishedPackage {
  /** Folder under `packages/`. */
  readonly dir: string;
  /** The TypeScript `lib` its sources are checked against. */
  readonly lib: readonly string[];
  /** Ambient type packages its sources use (`node` for `node:*` imports). */
  readonly types: readonly string[];
}

/**
 * The packages published to npm, in build order (a package comes after the published packages it imports).
 * Every one is versioned with the others and built by `scripts/build-packages.ts`.
 */
export const PUBLISHED: readonly PublishedPackage[] = [
  { dir: 'core', lib: ['ES2023'], types: [] },
  { dir: 'api', lib: ['ES2023'], types: [] },
  { dir: 'sdk', lib: ['ES2023', 'DOM', 'DOM.Iterable'], types: ['node'] },
];

/** A package.json as far as these scripts read it. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  /** Fields that replace the workspace's in the packed manifest (see scripts/pack-manifest.ts). */
  publishManifest?: Record<string, unknown>;
  [field: string]: unknown;
}

/** Reads and parses `path` as a package.json. */
export function readManifest(path: string): Manifest {
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** The workspace's own manifest under `packages/<dir>`. */
export function packageManifest(dir: string): Manifest {
  return readManifest(join(ROOT, 'packages', dir, 'package.json'));
}

/** The workspace folder of a `@dimmer/*` package name, or undefined for any other name. */
export function workspaceDir(name: string): string | undefined {
  return name.startsWith('@dimmer/') ? name.slice('@dimmer/'.length) : undefined;
}

/**
 * Runs a command to completion with inherited output; throws naming the command when it fails, so a build
 * stops at the first broken step.
 */
export function run(command: string, args: readonly string[], cwd = ROOT): void {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed with exit code ${String(result.status)}`);
}

/** A binary of the workspace's devDependencies (`node_modules/.bin/<name>`). */
export function bin(name: string): string {
  return join(ROOT, 'node_modules', '.bin', name);
}
