/**
 * `npm start` (and `npm run dimmer`, `npm run demo`): runs the built server or CLI on plain Node.
 *
 * `node scripts/start.js` starts the server (`packages/cli/dist/server.js`); `node scripts/start.js dimmer
 * <args>` runs the CLI. When the build is missing, or a source file is newer than it, and the build tools
 * (devDependencies) are installed, it builds first (`tsx scripts/build.ts app`). Without the build tools it
 * runs the build that is there, so a production install (`npm ci --omit=dev`) needs nothing else.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const APP_DIST = join(ROOT, 'packages', 'cli', 'dist');
const BUILD_INFO = join(APP_DIST, 'build-info.json');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const ENTRIES = { server: 'server.js', dimmer: 'dimmer.js' };
/** Files whose change makes the build stale: sources (not tests), the dashboard's page and manifests. */
const SOURCE_FILE = /(?<!\.test)\.(ts|tsx|css|html|json)$/;

/** The newest modification time (ms) of the build's inputs, or 0 when there are no sources (a release). */
function newestSource() {
  let newest = 0;
  const packages = join(ROOT, 'packages');
  if (!existsSync(packages)) return 0;
  for (const pkg of readdirSync(packages)) {
    const dir = join(packages, pkg);
    for (const name of ['package.json', 'index.html', 'vite.config.ts']) {
      const path = join(dir, name);
      if (existsSync(path)) newest = Math.max(newest, statSync(path).mtimeMs);
    }
    const src = join(dir, 'src');
    if (!existsSync(src)) continue;
    for (const entry of readdirSync(src, { recursive: true, withFileTypes: true }))
      if (entry.isFile() && SOURCE_FILE.test(entry.name))
        newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Builds when needed and possible; exits with a clear message when there is no build to run. */
function ensureBuilt() {
  const built = existsSync(BUILD_INFO);
  const canBuild = existsSync(TSX);
  if (built && (!canBuild || newestSource() <= statSync(BUILD_INFO).mtimeMs)) return;
  if (!canBuild) {
    console.error(
      'Dimmer is not built (packages/cli/dist) and the build tools are not installed.\n' +
        'Run `npm install` and `npm run build`, or deploy a release tarball (`npm run release`).',
    );
    process.exit(1);
  }
  console.error(built ? 'Sources changed: rebuilding Dimmer…' : 'Building Dimmer (first start)…');
  const result = spawnSync(TSX, [join(ROOT, 'scripts', 'build.ts'), 'app'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const [which = 'server', ...args] = process.argv.slice(2);
const entry = ENTRIES[which];
if (entry === undefined) {
  console.error(`unknown program ${which}: expected server or dimmer`);
  process.exit(2);
}
ensureBuilt();
const target = join(APP_DIST, entry);
process.argv = [process.argv[0] ?? 'node', target, ...args];
await import(pathToFileURL(target).href);
