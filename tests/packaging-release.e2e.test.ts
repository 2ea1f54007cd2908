// Production without devDependencies: the release tarball (`npm run release`) and a copy of the repository
// with its build, each installed with `npm ci --omit=dev` in a temporary folder and started with `npm start`
// until GET /readyz answers 200. One build serves every test of the file.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { release } from '../scripts/release.ts';
import { exec, installProduction, ROOT, startServer, tempDir } from './packaging-helpers.ts';

/** Packages a production install must not contain: the build and test tools. */
const DEV_TOOLS = ['tsx', 'vite', 'typescript', 'esbuild', 'vitest', '@biomejs/biome'];
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const cleanup: string[] = [];
let tarball: string;

beforeAll(async () => {
  const out = tempDir('release');
  cleanup.push(out);
  tarball = await release(out);
}, 300_000);

afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

/** Asserts that no build or test tool was installed in `dir`. */
function expectNoDevTools(dir: string): void {
  for (const tool of DEV_TOOLS) expect(existsSync(join(dir, 'node_modules', tool)), tool).toBe(false);
}

/** Starts `npm start` in `dir`, checks the API and the dashboard, stops it and checks the data was kept. */
async function startAndCheck(dir: string): Promise<void> {
  const data = tempDir('data');
  cleanup.push(data);
  const server = await startServer('npm', ['start'], dir, data);
  try {
    const dashboard = await fetch(`${server.url}/`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-type')).toContain('text/html');
    // Not a terminal: the first admin token goes to a 0600 file in the data dir, never to the log stream.
    expect(server.output()).not.toContain('dmr_admin_');
    expect(readFileSync(join(data, 'admin-token.txt'), 'utf8')).toContain('dmr_admin_');
  } finally {
    // SIGTERM to npm and the server: both are gone without being killed.
    expect(await server.stop()).toBe(true);
  }
  expect(readdirSync(data)).toContain('dimmer.sqlite');
}

describe('release tarball', () => {
  it('holds the built server, a production manifest with its lock file, the licence and the systemd unit', async () => {
    const dir = tempDir('unpacked');
    cleanup.push(dir);
    await exec('tar', ['-xzf', tarball, '-C', dir], { cwd: dir });
    const root = join(dir, `dimmer-${VERSION}`);
    for (const file of [
      'package.json',
      'package-lock.json',
      'LICENSE',
      'NOTICE',
      'README.md',
      'deploy/dimmer.service',
      'packages/cli/dist/server.js',
      'packages/cli/dist/dimmer.js',
      'packages/dashboard/dist/index.html',
    ])
      expect(existsSync(join(root, file)), file).toBe(true);
    expect(existsSync(join(root, 'packages', 'server', 'src'))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      version: string;
      license: string;
      dependencies: Record<string, string>;
      devDependencies?: unknown;
    };
    expect(manifest.version).toBe(VERSION);
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.devDependencies).toBeUndefined();
    expect(Object.keys(manifest.dependencies)).toEqual(
      expect.arrayContaining(['fastify', 'better-sqlite3', 'pg']),
    );
    for (const name of Object.keys(manifest.dependencies)) expect(name.startsWith('@dimmer/')).toBe(false);

    await installProduction(root);
    expectNoDevTools(root);
    await startAndCheck(root);

    const cli = await exec('node', ['packages/cli/dist/dimmer.js', '--version'], { cwd: root });
    expect(cli.stdout.trim()).toBe(VERSION);
  });

  it('is what the Dockerfile copies onto the node:20 image and runs', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20$/m);
    expect(dockerfile).toContain(`ARG VERSION=${VERSION}`);
    // The Dockerfile's own build argument, written as Docker expands it.
    expect(dockerfile).toContain(['ADD release/dimmer-$', '{VERSION}.tgz /opt/'].join(''));
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toContain('CMD ["node", "packages/cli/dist/server.js"]');
    expect(tarball.endsWith(`dimmer-${VERSION}.tgz`)).toBe(true);
    const unit = readFileSync(join(ROOT, 'deploy', 'dimmer.service'), 'utf8');
    expect(unit).toContain('ExecStart=/usr/bin/node /opt/dimmer/packages/cli/dist/server.js');
  });
});

describe('the repository after npm run build', () => {
  it('starts with npm start after npm ci --omit=dev, and says what to do when the build is missing', async () => {
    const copy = tempDir('workspace');
    cleanup.push(copy);
    const files = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0');
    for (const file of files.filter((name) => name !== '' && existsSync(join(ROOT, name)))) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(ROOT, file), join(copy, file));
    }
    for (const built of ['packages/cli/dist', 'packages/dashboard/dist'])
      cpSync(join(ROOT, built), join(copy, built), { recursive: true });

    await installProduction(copy);
    expectNoDevTools(copy);
    await startAndCheck(copy);
    const cli = await exec('npm', ['run', '--silent', 'dimmer', '--', '--version'], { cwd: copy });
    expect(cli.stdout.trim()).toBe(VERSION);

    rmSync(join(copy, 'packages', 'cli', 'dist'), { recursive: true });
    const unbuilt = await exec('npm', ['start'], { cwd: copy, allowFailure: true });
    expect(unbuilt.code).not.toBe(0);
    expect(unbuilt.stderr).toContain('Dimmer is not built');
  });
});
