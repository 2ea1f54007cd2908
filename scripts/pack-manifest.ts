/**
 * `npm pack` / `npm publish` lifecycle of a published package (run from the package's folder):
 *
 * - `prepack` builds the package (and the published packages it imports), copies the root LICENSE and
 *   NOTICE beside it, keeps the workspace manifest in `package.json.workspace` and writes the published
 *   manifest: the fields of `publishManifest` (`exports`, `types`) replace the workspace's, which point at
 *   the TypeScript sources so that tests, tsx and the type-checker need no build. (A field of its own:
 *   npm reads `publishConfig` as npm settings and warns about any other key there.)
 * - `postpack` puts the workspace manifest back and removes the copies.
 *
 * A `prepack` that finds a `package.json.workspace` left by an interrupted pack restores it first.
 */
import { copyFileSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildPublished } from './build-packages.ts';
import { type Manifest, ROOT, readManifest } from './workspace.ts';

/** Files of the repository root shipped in every package. */
const LEGAL_FILES = ['LICENSE', 'NOTICE'];
/** Manifest fields that only matter inside the workspace. */
const WORKSPACE_ONLY = ['scripts', 'devDependencies', 'publishManifest'];

/** The manifest as published: `publishManifest`'s fields applied, workspace-only fields dropped. */
export function publishedManifest(manifest: Manifest): Manifest {
  const published: Manifest = { ...manifest };
  for (const [field, value] of Object.entries(manifest.publishManifest ?? {})) published[field] = value;
  for (const field of WORKSPACE_ONLY) delete published[field];
  if (published.private) throw new Error(`${manifest.name} is private: it is not published`);
  return published;
}

/** Restores the workspace manifest kept by `prepack`, if one is there. */
function restore(dir: string): void {
  const kept = join(dir, 'package.json.workspace');
  if (existsSync(kept)) renameSync(kept, join(dir, 'package.json'));
}

/** Prepares the package in `dir` for packing. */
export async function prepack(dir: string): Promise<void> {
  restore(dir);
  await buildPublished([basename(dir)]);
  const manifestPath = join(dir, 'package.json');
  const manifest = readManifest(manifestPath);
  const published = publishedManifest(manifest);
  for (const file of LEGAL_FILES) copyFileSync(join(ROOT, file), join(dir, file));
  copyFileSync(manifestPath, join(dir, 'package.json.workspace'));
  writeFileSync(manifestPath, `${JSON.stringify(published, null, 2)}\n`);
}

/** Puts the package in `dir` back as the workspace uses it. */
export function postpack(dir: string): void {
  restore(dir);
  for (const file of LEGAL_FILES) rmSync(join(dir, file), { force: true });
}

const step = process.argv[2];
if (step === 'prepack') await prepack(process.cwd());
else if (step === 'postpack') postpack(process.cwd());
else if (step !== undefined) throw new Error(`unknown step ${step}: expected prepack or postpack`);
