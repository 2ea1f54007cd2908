/**
 * `npm run build`: everything a deployment or a publication needs, as JavaScript.
 *
 * - `packages/{core,api,sdk}/dist`: the published packages (`PUBLISHED`: ESM, `.d.ts`, the SDK's browser
 *   bundles);
 * - `packages/dashboard/dist`: the dashboard's static files (Vite);
 * - `packages/cli/dist`: the server (`server.js`) and the `dimmer` CLI (`dimmer.js`), with
 *   `build-info.json` naming the version and the third-party packages they import at run time.
 *
 * `tsx scripts/build.ts app` builds only what `npm start` runs (dashboard, server and CLI).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { APP_DIST, buildApp } from './build-app.ts';
import { buildPublished } from './build-packages.ts';
import { bin, ROOT, readManifest, run } from './workspace.ts';

/** What `npm start` checks for, written last so an interrupted build is rebuilt. */
export const BUILD_INFO = join(APP_DIST, 'build-info.json');

/** What the build records about itself. */
export interface BuildInfo {
  readonly version: string;
  /** Third-party packages the server and CLI import at run time, with their declared ranges. */
  readonly dependencies: Record<string, string>;
}

/** Builds the dashboard, then the server and CLI bundles; writes `build-info.json`. */
export async function buildServer(): Promise<BuildInfo> {
  run(bin('vite'), ['build', '--logLevel', 'warn'], join(ROOT, 'packages', 'dashboard'));
  const dependencies = Object.fromEntries(await buildApp());
  const info: BuildInfo = { version: readManifest(join(ROOT, 'package.json')).version, dependencies };
  writeFileSync(BUILD_INFO, `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

/** Builds the published packages and the server. */
export async function buildAll(): Promise<BuildInfo> {
  await buildPublished();
  return buildServer();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const target = process.argv[2] ?? 'all';
  if (target === 'app') await buildServer();
  else if (target === 'all') await buildAll();
  else throw new Error(`unknown build target ${target}: expected all or app`);
}
