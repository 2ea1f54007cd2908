// The published packages as an application outside the workspace gets them: `npm pack` of @dimmer/core and
// @dimmer/sdk, installed from the tarballs into a temporary app, type-checked by `tsc --strict` under
// `module: nodenext`, run on plain Node, and the SDK's browser bundle (chosen by the `browser` export
// condition) run in Chromium against a Dimmer server. One pack and one install serve every test.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestServer, type TestServer } from '@dimmer/server';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLISHED, packageManifest } from '../scripts/workspace.ts';
import { exec, installedVersion, ROOT, tempDir } from './packaging-helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
/** Every published package: all are packed and installed together, as one version. */
const NAMES = PUBLISHED.map((pkg) => packageManifest(pkg.dir).name);

/** An application using every entry a Node.js service would: core, the SDK and its OpenFeature provider. */
const APP_SOURCE = `import { compileConfig, type EnvironmentSnapshot, evaluate } from '@dimmer/core';
import { createClient, silentLogger } from '@dimmer/sdk';
import { DimmerServerProvider } from '@dimmer/sdk/openfeature/server';
import { OpenFeature } from '@openfeature/server-sdk';

const snapshot: EnvironmentSnapshot = {
  environment: 'production',
  version: 1,
  segments: [],
  flags: [
    {
      key: 'banner',
      kind: 'string',
      variants: { old: 'old banner', fresh: 'fresh banner' },
      defaultVariant: 'old',
      salt: 'salt-banner',
      hashVersion: 1,
      enabled: true,
      rules: [{ id: 'all', serve: { variant: 'fresh' } }],
    },
  ],
};
const context = { targetingKey: 'user-1' };
const local = evaluate(compileConfig(snapshot), 'banner', context);
// No server at this address: the client serves its bootstrap and reports STALE.
const client = createClient({
  url: 'http://127.0.0.1:9',
  clientKey: 'unused',
  bootstrap: snapshot,
  logger: silentLogger,
  events: false,
});
await client.waitForFirstAttempt();
const sdk = client.getStringValue('banner', 'code default', context);
await OpenFeature.setProviderAndWait(new DimmerServerProvider(client));
const openfeature = await OpenFeature.getClient().getStringValue('banner', 'code default', context);
await OpenFeature.close();
await client.close();
console.log(JSON.stringify({ core: local.value, sdk, openfeature, state: client.status().state }));
`;

/** A Node.js service's compiler settings: strict, Node's module system, no DOM. */
const APP_TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'nodenext',
    target: 'es2022',
    lib: ['es2022'],
    types: ['node'],
    outDir: 'out',
  },
  files: ['app.ts'],
};

let app: string;
let packs: string;
const tarballs: Record<string, string> = {};
const manifestsBefore = new Map<string, string>();

beforeAll(async () => {
  packs = tempDir('packs');
  app = tempDir('app');
  for (const pkg of PUBLISHED) {
    const path = join(ROOT, 'packages', pkg.dir, 'package.json');
    manifestsBefore.set(path, readFileSync(path, 'utf8'));
  }
  const packed = await exec(
    'npm',
    ['pack', '--json', '--pack-destination', packs, ...NAMES.flatMap((name) => ['-w', name])],
    { cwd: ROOT },
  );
  for (const entry of JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
    name: string;
    filename: string;
  }[])
    tarballs[entry.name] = join(packs, entry.filename);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  // The Dimmer packages come from the tarballs; the app's own dependencies at the workspace's versions
  // (from the npm cache when it has them).
  await exec(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      ...Object.values(tarballs),
      `@types/node@${installedVersion('@types/node')}`,
      `@openfeature/server-sdk@${installedVersion('@openfeature/server-sdk')}`,
      `@openfeature/core@${installedVersion('@openfeature/core')}`,
    ],
    { cwd: app },
  );
}, 300_000);

afterAll(() => {
  for (const dir of [app, packs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships compiled JavaScript, declarations and the licence, with the published exports', async () => {
    expect(Object.keys(tarballs).sort()).toEqual([...NAMES].sort());
    expect(NAMES).toEqual(expect.arrayContaining(['@dimmer/core', '@dimmer/sdk']));
    for (const [name, tarball] of Object.entries(tarballs)) {
      const files = (await exec('tar', ['-tzf', tarball], { cwd: packs })).stdout.split('\n').filter(Boolean);
      expect(files, name).toEqual(
        expect.arrayContaining([
          'package/package.json',
          'package/LICENSE',
          'package/NOTICE',
          'package/dist/index.js',
          'package/dist/index.d.ts',
        ]),
      );
      expect(
        files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')),
        name,
      ).toEqual([]);
      expect(
        files.filter((file) => /\.test\./.test(file)),
        name,
      ).toEqual([]);
      const manifest = JSON.parse(
        (await exec('tar', ['-xzOf', tarball, 'package/package.json'], { cwd: packs })).stdout,
      ) as Record<string, unknown>;
      expect(manifest).toMatchObject({
        name,
        version: VERSION,
        license: 'Apache-2.0',
        type: 'module',
        sideEffects: false,
        exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
      });
      expect(manifest.private).toBeUndefined();
      expect(manifest.scripts).toBeUndefined();
      expect(manifest.devDependencies).toBeUndefined();
    }
    const sdkFiles = (await exec('tar', ['-tzf', tarballs['@dimmer/sdk'] as string], { cwd: packs })).stdout;
    expect(sdkFiles).toContain('package/dist/dimmer-sdk.browser.js');
  });

  it('leaves the workspace manifests pointing at the sources', () => {
    for (const [path, before] of manifestsBefore) expect(readFileSync(path, 'utf8'), path).toBe(before);
  });
});

describe('an application installing the tarballs', () => {
  // Checking every declaration (no skipLibCheck) includes @dimmer/api's TypeBox-derived types: seconds of CPU.
  it('type-checks with tsc --strict under module nodenext and runs on plain Node', async () => {
    writeFileSync(join(app, 'app.ts'), APP_SOURCE);
    writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(APP_TSCONFIG, null, 2)}\n`);
    const compiled = await exec(TSC, ['-p', '.'], { cwd: app, allowFailure: true });
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);
    const run = await exec(process.execPath, ['out/app.js'], { cwd: app });
    expect(JSON.parse(run.stdout)).toEqual({
      core: 'fresh banner',
      sdk: 'fresh banner',
      openfeature: 'fresh banner',
      state: 'STALE',
    });
  }, 120_000);

  it('gets the browser bundle under the browser condition', async () => {
    const resolve = (conditions: string[]) =>
      exec(
        process.execPath,
        [...conditions, '--input-type=module', '-e', "console.log(import.meta.resolve('@dimmer/sdk'))"],
        { cwd: app },
      ).then((result) => fileURLToPath(result.stdout.trim()));
    expect(await resolve([])).toBe(join(app, 'node_modules', '@dimmer', 'sdk', 'dist', 'index.js'));
    expect(await resolve(['--conditions=browser'])).toBe(
      join(app, 'node_modules', '@dimmer', 'sdk', 'dist', 'dimmer-sdk.browser.js'),
    );
  });

  it('runs the installed browser bundle in Chromium against a Dimmer server', async () => {
    const bundlePath = join(app, 'node_modules', '@dimmer', 'sdk', 'dist', 'dimmer-sdk.browser.js');
    const bundle = readFileSync(bundlePath, 'utf8');
    expect(bundle).not.toMatch(/from\s*['"](node:|@dimmer\/)/);
    let server: TestServer | undefined;
    let page: Server | undefined;
    const profile = tempDir('chromium');
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    try {
      server = await createTestServer();
      page = createServer((request, response) => {
        if (request.url === '/dimmer-sdk.browser.js')
          response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        else response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p id="out"></p>');
      });
      await new Promise<void>((resolve) => page?.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
      const flag = {
        key: 'banner',
        kind: 'string',
        variants: { old: 'old banner', fresh: 'fresh banner' },
        defaultVariant: 'old',
        environments: { production: { enabled: true, rules: [{ id: 'all', serve: { variant: 'fresh' } }] } },
      };
      expect(
        (await server.adminFetch('/api/v1/flags', { method: 'POST', body: JSON.stringify(flag) })).status,
      ).toBe(201);
      const key = await server.adminFetch('/api/v1/keys', {
        method: 'POST',
        body: JSON.stringify({
          name: 'web',
          environment: 'production',
          kind: 'browser',
          allowedOrigins: [origin],
        }),
      });
      const { secret } = (await key.json()) as { secret: string };
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (error) => errors.push(error.message));
      await tab.goto(origin);
      await tab.addScriptTag({
        type: 'module',
        content: `
          import { createBrowserClient } from '/dimmer-sdk.browser.js';
          const client = createBrowserClient({ url: ${JSON.stringify(server.url)}, clientKey: ${JSON.stringify(secret)},
            context: { targetingKey: 'user-1' } });
          await client.waitForFirstAttempt();
          document.getElementById('out').textContent = client.getStringValue('banner', 'code default');
        `,
      });
      await expect.poll(() => tab.textContent('#out'), { timeout: 15_000 }).toBe('fresh banner');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await new Promise((resolve) => (page ? page.close(resolve) : resolve(undefined)));
      await server?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
