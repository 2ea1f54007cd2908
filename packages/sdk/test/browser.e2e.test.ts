// The browser bundle in a real browser (Debian's Chromium): a page on one origin loads
// dist/dimmer-sdk.browser.js, resolves flags against a Dimmer server on another origin with a browser key
// (CORS), and follows a flag change through the change-notice stream.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestServer, type TestServer } from '@dimmer/server';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSdk } from '../scripts/build.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let server: TestServer;
let page: Server;
let pageOrigin: string;
let browser: BrowserContext;
let profileDir: string;
let distDir: string;

function flagBody(on: boolean) {
  return {
    key: 'banner',
    kind: 'string',
    variants: { old: 'old banner', fresh: 'fresh banner' },
    defaultVariant: 'old',
    environments: {
      production: { enabled: true, rules: on ? [{ id: 'all', serve: { variant: 'fresh' } }] : [] },
    },
  };
}

beforeAll(async () => {
  distDir = mkdtempSync(join(tmpdir(), 'dimmer-sdk-dist-'));
  await buildSdk(distDir);
  server = await createTestServer();
  const bundle = readFileSync(join(distDir, 'dimmer-sdk.browser.js'), 'utf8');
  page = createServer((request, response) => {
    if (request.url === '/dimmer-sdk.browser.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><title>sdk</title><p id="out"></p>');
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  profileDir = mkdtempSync(join(tmpdir(), 'dimmer-sdk-chromium-'));
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => page?.close(resolve));
  await server?.close();
  for (const dir of [profileDir, distDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('browser bundle in Chromium', () => {
  it('resolves across origins with a browser key and follows a flag change', async () => {
    expect(
      (await server.adminFetch('/api/v1/flags', { method: 'POST', body: JSON.stringify(flagBody(false)) }))
        .status,
    ).toBe(201);
    const created = await server.adminFetch('/api/v1/keys', {
      method: 'POST',
      body: JSON.stringify({
        name: 'web',
        environment: 'production',
        kind: 'browser',
        allowedOrigins: [pageOrigin],
      }),
    });
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };

    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    await tab.goto(pageOrigin);
    // A module script, as a web page would load the bundle (kept as text so the test runner leaves it alone).
    await tab.addScriptTag({
      type: 'module',
      content: `
        import { createBrowserClient } from '/dimmer-sdk.browser.js';
        const client = createBrowserClient({ url: ${JSON.stringify(server.url)}, clientKey: ${JSON.stringify(secret)},
          context: { targetingKey: 'user-1' } });
        const show = () => { document.getElementById('out').textContent = client.getStringValue('banner', 'code default'); };
        await client.waitForFirstAttempt();
        show();
        client.on('change', show);
      `,
    });
    await expect.poll(() => tab.textContent('#out'), { timeout: 10_000 }).toBe('old banner');

    expect(
      (
        await server.adminFetch('/api/v1/flags/banner', {
          method: 'PUT',
          body: JSON.stringify(flagBody(true)),
        })
      ).status,
    ).toBe(200);
    await expect.poll(() => tab.textContent('#out'), { timeout: 10_000 }).toBe('fresh banner');
    expect(errors).toEqual([]);
  });

  it('evaluates locally in the page with the bundled RE2 engine and answers on a 512-character adversarial input', async () => {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    await tab.goto(pageOrigin);
    const bootstrap = {
      environment: 'production',
      version: 1,
      segments: [],
      flags: [
        {
          key: 'ambiguous',
          kind: 'boolean',
          variants: { off: false, on: true },
          defaultVariant: 'off',
          salt: 'salt-ambiguous',
          hashVersion: 1,
          enabled: true,
          rules: [
            {
              id: 'r',
              when: { attr: 'name', op: 'matches', value: '^(?:(?:a|ab)b?)*$' },
              serve: { variant: 'on' },
            },
          ],
        },
      ],
    };
    await tab.addScriptTag({
      type: 'module',
      content: `
        import { createClient } from '/dimmer-sdk.browser.js';
        const client = createClient({ url: ${JSON.stringify(pageOrigin)}, clientKey: 'bootstrap-only',
          bootstrap: ${JSON.stringify(bootstrap)}, events: false, sync: { stream: false } });
        await client.waitForFirstAttempt();
        const at = (name) => client.getBooleanValue('ambiguous', false, { targetingKey: 'u', name });
        // 512 characters on which a backtracking engine tries exponentially many splits.
        const adversarial = 'ab'.repeat(255) + 'ac';
        const matching = 'ab'.repeat(255) + 'ab';
        document.getElementById('out').textContent = JSON.stringify([at(adversarial), at(matching)]);
      `,
    });
    await expect.poll(() => tab.textContent('#out'), { timeout: 10_000 }).toBe('[false,true]');
    expect(errors).toEqual([]);
  });

  it('is refused by the server for an origin the key does not allow', async () => {
    const created = await server.adminFetch('/api/v1/keys', {
      method: 'POST',
      body: JSON.stringify({
        name: 'other',
        environment: 'production',
        kind: 'browser',
        allowedOrigins: ['https://elsewhere.example'],
      }),
    });
    const { secret } = (await created.json()) as { secret: string };
    const tab = await browser.newPage();
    await tab.goto(pageOrigin);
    const outcome = await tab.evaluate(
      async ({ url, key }) => {
        try {
          await fetch(`${url}/sdk/v1/resolve`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
          });
          return 'readable';
        } catch {
          return 'blocked';
        }
      },
      { url: server.url, key: secret },
    );
    expect(outcome).toBe('blocked');
  });
});
