/**
 * `npm run release`: builds the server and writes `release/dimmer-<version>.tgz`, a deployable folder
 * `dimmer-<version>/` holding
 *
 * - `packages/cli/dist` (the bundled server `server.js` and CLI `dimmer.js`) and `packages/dashboard/dist`,
 *   in the repository's layout, which the server uses to find the dashboard;
 * - `package.json` whose `dependencies` are exactly the third-party packages the bundles import, and a
 *   `package-lock.json` cut from the workspace's lock file, so `npm ci --omit=dev` installs the versions the
 *   build was tested with;
 * - LICENSE, NOTICE, the systemd unit example and a README on running it.
 *
 * Deploy: unpack, `npm ci --omit=dev`, `npm start` (or `node packages/cli/dist/server.js`).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildInfo, buildServer } from './build.ts';
import { APP_DIST } from './build-app.ts';
import { type Manifest, ROOT, readManifest } from './workspace.ts';

/** Where release tarballs are written. */
export const RELEASE_DIR = join(ROOT, 'release');

/** One entry of a lock file's `packages`. */
interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

/** A lock file (version 3). */
interface LockFile {
  name: string;
  version: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

/** Where Node resolves `name` from the package installed at `location` (a lock file key), if installed. */
function locate(packages: Record<string, LockEntry>, location: string, name: string): string | undefined {
  let base = location;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

/**
 * The part of the workspace lock file that installs `dependencies` and everything they need, at the same
 * versions and places, as the lock file of a standalone package `root`.
 */
export function cutLockFile(lock: LockFile, root: Manifest, dependencies: Record<string, string>): LockFile {
  const kept: Record<string, LockEntry> = {};
  const pending: [string, string][] = Object.keys(dependencies).map((name) => ['', name]);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [from, name] = next;
    const location = locate(lock.packages, from, name);
    if (location === undefined) {
      const optional = lock.packages[from]?.optionalDependencies?.[name] !== undefined;
      if (optional || lock.packages[from]?.peerDependenciesMeta?.[name]?.optional) continue;
      throw new Error(`the lock file has no ${name} for ${from || 'the release'}: run npm install`);
    }
    if (kept[location]) continue;
    const { dev: _dev, devOptional: _devOptional, ...entry } = lock.packages[location] as LockEntry;
    kept[location] = entry;
    const peers = Object.keys(entry.peerDependencies ?? {}).filter(
      (peer) => !entry.peerDependenciesMeta?.[peer]?.optional,
    );
    for (const dep of [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...peers,
    ])
      pending.push([location, dep]);
  }
  const sorted = Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b)));
  return {
    name: root.name,
    version: root.version,
    lockfileVersion: lock.lockfileVersion,
    requires: true,
    packages: {
      '': {
        name: root.name,
        version: root.version,
        license: root.license,
        dependencies,
        engines: root.engines,
      } as LockEntry,
      ...sorted,
    },
  };
}

/** The release's package.json. */
function releaseManifest(workspace: Manifest, info: BuildInfo): Manifest {
  return {
    name: 'dimmer',
    version: info.version,
    description: workspace.description as string,
    license: 'Apache-2.0',
    private: true,
    type: 'module',
    engines: workspace.engines,
    bin: { dimmer: 'packages/cli/dist/dimmer.js' },
    scripts: { start: 'node packages/cli/dist/server.js' },
    dependencies: info.dependencies,
  };
}

/** The README inside the release. */
function releaseReadme(version: string): string {
  return `# Dimmer ${version}

Self-hosted feature flags with guarded rollouts. Node.js 20.19+ or 22+.

\`\`\`sh
npm ci --omit=dev                       # the production dependencies, as locked
DIMMER_DATA_DIR=/var/lib/dimmer npm start   # or: node packages/cli/dist/server.js
node packages/cli/dist/dimmer.js --help  # the CLI
\`\`\`

Settings are environment variables (HOST, PORT, DIMMER_DATA_DIR, DIMMER_DATABASE_URL, DIMMER_ADMIN_TOKEN, …).
\`deploy/dimmer.service\` is a systemd unit to adapt. Licensed under the Apache License 2.0 (LICENSE, NOTICE).
`;
}

/** Builds and writes the release tarball; resolves with its path. */
export async function release(outDir = RELEASE_DIR): Promise<string> {
  const info = await buildServer();
  const workspace = readManifest(join(ROOT, 'package.json'));
  const name = `dimmer-${info.version}`;
  const stage = join(outDir, name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  cpSync(APP_DIST, join(stage, 'packages', 'cli', 'dist'), { recursive: true });
  cpSync(join(ROOT, 'packages', 'dashboard', 'dist'), join(stage, 'packages', 'dashboard', 'dist'), {
    recursive: true,
  });
  cpSync(join(ROOT, 'deploy'), join(stage, 'deploy'), { recursive: true });
  for (const file of ['LICENSE', 'NOTICE']) copyFileSync(join(ROOT, file), join(stage, file));
  const manifest = releaseManifest(workspace, info);
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as LockFile;
  const cut = cutLockFile(lock, manifest, info.dependencies);
  writeFileSync(join(stage, 'package-lock.json'), `${JSON.stringify(cut, null, 2)}\n`);
  writeFileSync(join(stage, 'README.md'), releaseReadme(info.version));
  const tarball = join(outDir, `${name}.tgz`);
  const tar = spawnSync('tar', ['-czf', tarball, '-C', outDir, name], { stdio: 'inherit' });
  if (tar.status !== 0) throw new Error(`tar failed with exit code ${String(tar.status)}`);
  rmSync(stage, { recursive: true, force: true });
  return tarball;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tarball = await release();
  console.log(`${tarball} (${(statSync(tarball).size / 1024).toFixed(0)} KiB)`);
}
