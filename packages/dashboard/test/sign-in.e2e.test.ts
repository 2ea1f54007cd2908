/**
 * Dashboard sign-in in Chromium through a real OpenID Connect provider (oidc-provider on 127.0.0.1): "Sign in
 * with <provider>" goes through the provider's login and consent pages and lands in the dashboard with the role
 * of the person's groups; the session cookie is HttpOnly (the page cannot read it); a viewer sees no write
 * buttons; the token sign-in stays beside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, createMemoryStores, type Stores } from '@dimmer/server';
import { reservePort, startTestProvider, type TestProvider } from '@dimmer/server/testing/oidc-provider';
import type { FastifyInstance } from 'fastify';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_DIR, ensureBuilt } from './dashboard-host.ts';

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

let provider: TestProvider;
let app: FastifyInstance;
let stores: Stores;
let base: string;
const adminToken = `dmr_admin_${'t'.repeat(43)}`;
const profiles: string[] = [];
const contexts: BrowserContext[] = [];

async function browser(): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'dimmer-sign-in-chromium-'));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  contexts.push(context);
  return context.pages()[0] ?? (await context.newPage());
}

/** Clicks "Sign in with Test IdP" and goes through the provider's login and consent pages as `login`. */
async function signInThroughProvider(page: Page, login: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  // The consent page: authorize Dimmer to read the profile, email and groups.
  await page.waitForURL((url) => url.href.startsWith(base) || /consent|interaction/.test(url.href));
  if (!page.url().startsWith(base)) await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.href.startsWith(`${base}/`));
}

beforeAll(async () => {
  await ensureBuilt();
  provider = await startTestProvider({
    people: {
      rob: { email: 'rob@example.com', name: 'Rob Releaser', groups: ['release-managers'] },
      vic: { email: 'vic@example.com', name: 'Vic Viewer', groups: ['readers'] },
    },
  });
  const port = await reservePort();
  base = `http://127.0.0.1:${port}`;
  stores = createMemoryStores();
  app = await buildApp({
    stores,
    clock: { now: () => Date.now() },
    adminToken,
    config: {
      controllerIntervalMs: 0,
      dashboardDir: DIST_DIR,
      people: {
        oidc: {
          issuer: provider.issuer,
          clientId: provider.clientId,
          clientSecret: provider.clientSecret,
          redirectUrl: `${base}/auth/callback`,
          providerName: 'Test IdP',
          scopes: 'openid email profile groups',
          groupsClaim: 'groups',
        },
        groupRoles: [
          { group: 'release-managers', environment: '*', role: 'releaser' },
          { group: 'readers', environment: '*', role: 'viewer' },
        ],
      },
    },
  });
  await app.listen({ host: '127.0.0.1', port });
  provider.serve(`${base}/auth/callback`);
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await app?.close();
  await stores?.close();
  await provider?.close();
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard sign-in through the identity provider in Chromium', () => {
  it('lands with the role from the groups claim; the session cookie stays out of the page', async () => {
    const page = await browser();
    await signInThroughProvider(page, 'rob');
    await page.getByRole('heading', { name: 'Flags' }).waitFor();
    await expect.poll(() => page.getByTestId('role').textContent()).toBe('releaser');
    await expect.poll(() => page.getByText('Rob Releaser').first().isVisible()).toBe(true);
    const cookies = await page.evaluate(() => document.cookie);
    expect(cookies).toContain('dimmer_csrf=');
    expect(cookies).not.toContain('dimmer_session');
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
    expect(me).toMatchObject({ actor: 'user:rob@example.com', role: 'releaser', kind: 'person' });
    // A releaser edits too: "New flag" is offered; creating one through the page's own client is recorded as Rob.
    await expect.poll(() => page.getByRole('link', { name: 'New flag' }).isVisible()).toBe(true);
    const created = await page.evaluate(async () => {
      const csrf = /dimmer_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
      const response = await fetch('/api/v1/flags', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': decodeURIComponent(csrf) },
        body: JSON.stringify({
          key: 'from-the-browser',
          kind: 'boolean',
          variants: { off: false, on: true },
          defaultVariant: 'off',
          environments: {},
        }),
      });
      return response.status;
    });
    expect(created).toBe(201);
    const audit = await (
      await fetch(`${base}/api/v1/audit?key=from-the-browser`, {
        headers: { authorization: `Bearer ${adminToken}` },
      })
    ).json();
    expect(audit.entries[0].actor).toBe('user:rob@example.com');
  }, 180_000);

  it('shows a viewer no write buttons; signing out ends the session', async () => {
    const page = await browser();
    await signInThroughProvider(page, 'vic');
    await page.getByRole('heading', { name: 'Flags' }).waitFor();
    await expect.poll(() => page.getByTestId('role').textContent()).toBe('viewer');
    expect(await page.getByRole('link', { name: 'New flag' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByTestId('keys-read-only').waitFor();
    expect(await page.getByRole('button', { name: 'Create key' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create token' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
    await page.reload();
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
    expect(await page.evaluate(async () => (await fetch('/api/v1/me')).status)).toBe(401);
  }, 180_000);

  it('keeps the admin-token sign-in beside the provider', async () => {
    const page = await browser();
    await page.goto(`${base}/`);
    await page.getByLabel('Admin token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByRole('heading', { name: 'Flags' }).waitFor();
    await expect.poll(() => page.getByTestId('role').textContent()).toBe('admin');
  }, 180_000);
});
