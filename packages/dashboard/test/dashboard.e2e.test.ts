/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real Dimmer server:
 * sign in, create and edit a flag (with a validation error from the API), keys shown once, audit filters,
 * the playground, and every page at 1280 px and 390 px wide (screenshots in test-output/). Console errors
 * fail the test. The rollout flow is a separate test that needs the rollout routes (issues 04/05).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileConfig,
  type EnvironmentSnapshot,
  evaluate,
  type FlagConfig,
  flattenFlag,
} from '@dimmer/core';
import { createTestServer, type TestServer } from '@dimmer/server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, PACKAGE_DIR, servesDashboard, startDashboardHost } from './dashboard-host.ts';

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
const OUTPUT_DIR = join(PACKAGE_DIR, 'test-output');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const FLOW_TIMEOUT_MS = 180_000;
const ENV = 'production';

let server: TestServer;
let host: { url: string; close(): Promise<void> } | undefined;
let baseUrl: string;
let dashboardOnServer = false;
let profileDir: string;
let context: BrowserContext;
/** Browser-side problems: console errors, uncaught exceptions, and failed requests outside the API. */
const problems: string[] = [];
/** API replies with status ≥ 400 (expected ones: validation refusals, the wrong token, planned routes). */
const apiFailures: { status: number; url: string }[] = [];

function watch(page: Page): void {
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium logs every 4xx/5xx fetch as "Failed to load resource"; those are checked through apiFailures.
    if (/^Failed to load resource: the server responded with a status of \d+/.test(message.text())) return;
    problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() < 400) return;
    const url = new URL(response.url());
    if (url.pathname.startsWith('/api/')) apiFailures.push({ status: response.status(), url: url.pathname });
    else problems.push(`HTTP ${response.status()} for ${url.pathname}`);
  });
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`), fullPage: true });
}

async function screenshotsAtBothWidths(page: Page, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  await shoot(page, `${name}-1280`);
  await page.setViewportSize(PHONE);
  await shoot(page, `${name}-390`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(1);
  await page.setViewportSize(DESKTOP);
}

async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Admin token').fill(server.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

beforeAll(async () => {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  await ensureBuilt();
  server = await createTestServer({ config: { previewSampleSize: 20_000 } });
  dashboardOnServer = await servesDashboard(server.url);
  if (dashboardOnServer) baseUrl = server.url;
  else {
    host = await startDashboardHost(server.url);
    baseUrl = host.url;
  }
  profileDir = mkdtempSync(join(tmpdir(), 'dimmer-dashboard-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: DESKTOP,
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await host?.close();
  await server?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

describe('dashboard in Chromium', () => {
  it('is served by the Dimmer server at /', () => {
    expect(
      dashboardOnServer,
      'GET / on the Dimmer server does not return the dashboard. The server should register @fastify/static ' +
        'for packages/dashboard/dist at "/" with an index.html fallback for non-API GETs (see ' +
        'docs/guides/dashboard.md, "Serving"). The other tests meanwhile use a test host that forwards /api.',
    ).toBe(true);
  });

  it(
    'signs in, creates and edits a flag, shows keys once, filters the audit log and evaluates in the playground',
    async () => {
      const page = context.pages()[0] ?? (await context.newPage());
      watch(page);

      // Sign in: a wrong token is refused with a message, the right one opens the flags list.
      await page.goto(`${baseUrl}/`);
      await expect.poll(() => page.getByRole('heading', { name: 'Dimmer' }).isVisible()).toBe(true);
      await screenshotsAtBothWidths(page, '01-sign-in');
      await page.getByLabel('Admin token').fill('dmr_admin_not-a-real-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('That token was not accepted.').waitFor();
      await signIn(page);
      await page.getByRole('heading', { name: 'Flags' }).waitFor();
      await page.getByText('No flags yet.').waitFor();

      // Keyboard: the first Tab reaches the skip link, the next ones the navigation.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');

      // Create a flag.
      await page.getByRole('link', { name: 'New flag' }).click();
      await page.getByLabel('Key').fill('new-checkout');
      await page.getByLabel('Description').fill('One-page checkout');
      await page.getByRole('button', { name: 'Create flag' }).click();
      await page.getByRole('heading', { name: /new-checkout/ }).waitFor();
      await page.getByText('One-page checkout').waitFor();

      // Edit with a rule that serves an unknown variant: the API's message names the path.
      await page.getByRole('link', { name: 'Edit' }).click();
      const rules = page.getByLabel(`Rules in ${ENV}`);
      await rules.fill(JSON.stringify([{ id: 'beta', serve: { variant: 'maybe' } }]));
      await page.getByRole('button', { name: 'Save' }).click();
      const refusal = page.getByRole('alert');
      await refusal.getByText('The server refused the change:').waitFor();
      expect(await refusal.textContent()).toContain(`environments.${ENV}.rules[0].serve.variant`);
      await screenshotsAtBothWidths(page, '04-flag-edit-error');

      // Fix it: staff rule, a 25 % split, an override; preview in the browser before saving.
      const goodRules = [
        {
          id: 'staff',
          when: { attr: 'email', op: 'ends_with', value: '@acme.com' },
          serve: { variant: 'on' },
        },
        { id: 'quarter', serve: { split: [{ variant: 'on', range: [0, 250_000] }] } },
      ];
      await rules.fill(JSON.stringify(goodRules, null, 2));
      await page.getByLabel(`Overrides in ${ENV}`).fill(JSON.stringify({ 'user-42': 'on' }));
      await page.getByLabel(`Enabled in ${ENV}`).check();
      await page.getByRole('button', { name: 'Preview changes' }).click();
      const localPreview = page.getByText(/Preview \(computed in your browser/);
      await localPreview.waitFor();
      const previewText = (await page.locator('.preview').first().textContent()) ?? '';
      expect(previewText).toMatch(new RegExp(`${ENV}: [\\d,]+ of 20,000 sampled units`));
      expect(previewText).toContain('off → on');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Units that changed variant (server preview)').waitFor();
      await screenshotsAtBothWidths(page, '05-flag-edit-saved');

      // Detail: rules in order, the split drawn over the bucket space, the override.
      await page.getByRole('link', { name: 'Back to the flag' }).click();
      const bar = page.getByRole('img', { name: /Split over the bucket space/ });
      await bar.waitFor();
      expect(await bar.getAttribute('aria-label')).toContain('on: buckets 0%–25%; 75% falls through');
      await page.getByText('user-42').waitFor();
      const ruleIds = await page.locator('.rule-id').allTextContents();
      expect(ruleIds).toEqual(['staff', 'quarter']);
      await screenshotsAtBothWidths(page, '03-flag-detail');

      // List: search, status per environment.
      await go(page, '#/flags');
      const row = page.getByRole('row', { name: /new-checkout/ });
      await row.waitFor();
      expect(await row.textContent()).toContain('on');
      await screenshotsAtBothWidths(page, '02-flags');
      await page.getByPlaceholder('Search by key or description').fill('zzz-nothing');
      await page.getByText('No flag matches').waitFor();

      // Keys: the secret is shown once, then only its prefix.
      await go(page, '#/keys');
      await page.getByLabel('Name').fill('checkout-service');
      await page.getByRole('button', { name: 'Create key' }).click();
      const secretBox = page.getByTestId('new-key-secret');
      await secretBox.waitFor();
      const secret = (await secretBox.textContent()) ?? '';
      expect(secret).toMatch(/^dmr_srv_/);
      await screenshotsAtBothWidths(page, '07-keys-created');
      await page.getByRole('button', { name: 'I have stored it' }).click();
      await page.getByRole('cell', { name: 'checkout-service', exact: true }).waitFor();
      expect(await page.content()).not.toContain(secret);
      const config = await fetch(`${server.url}/sdk/v1/config`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      expect(config.status).toBe(200);
      const snapshot = (await config.json()) as EnvironmentSnapshot;
      expect(snapshot.flags.map((f) => f.key)).toContain('new-checkout');

      // Audit: entries for the flag and the key; the resource filter narrows them.
      await go(page, '#/audit');
      await page
        .getByRole('cell', { name: /^client key / })
        .first()
        .waitFor();
      await page
        .getByRole('cell', { name: /flag new-checkout/ })
        .first()
        .waitFor();
      await screenshotsAtBothWidths(page, '08-audit');
      await page.getByLabel('Resource').selectOption('client_key');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => page.getByRole('cell', { name: /flag new-checkout/ }).count()).toBe(0);
      await page
        .getByRole('cell', { name: /^client key / })
        .first()
        .waitFor();

      // Playground: the override, then a unit whose answer core computes here the same way.
      await go(page, '#/playground');
      await page.getByLabel('Flag').selectOption('new-checkout');
      await page.getByLabel('Context (JSON)').fill(JSON.stringify({ targetingKey: 'user-42' }));
      await page.getByRole('button', { name: 'Evaluate' }).click();
      const result = page.getByTestId('playground-result');
      await result.waitFor();
      let text = (await result.textContent()) ?? '';
      expect(text).toContain('TARGETING_MATCH');
      expect(text).toContain('override');
      const flag = (await (await server.adminFetch('/api/v1/flags/new-checkout')).json()) as FlagConfig;
      const compiled = compileConfig({
        environment: ENV,
        version: 1,
        flags: [flattenFlag(flag, ENV)],
        segments: [],
      });
      const unit = { targetingKey: 'visitor-7', email: 'visitor@example.com' };
      const expected = evaluate(compiled, 'new-checkout', unit);
      await page.getByLabel('Context (JSON)').fill(JSON.stringify(unit));
      await page.getByRole('button', { name: 'Evaluate' }).click();
      await expect.poll(async () => (await result.textContent()) ?? '').toContain(expected.reason);
      text = (await result.textContent()) ?? '';
      expect(text).toContain(`Variant${expected.variant}`);
      expect(text).toContain(`Matched rule${expected.ruleId ?? 'none'}`);
      await screenshotsAtBothWidths(page, '09-playground');

      // The remaining pages render (or say plainly that the server lacks the route yet).
      for (const [hash, name, heading] of [
        ['#/rollouts', '06-rollouts', 'Rollouts'],
        ['#/surfaces', '10-surfaces', 'Surfaces'],
        ['#/metrics', '11-metrics', 'Metrics'],
      ] as const) {
        await go(page, hash);
        await page.getByRole('heading', { name: heading, exact: true }).waitFor();
        await page
          .getByRole('status')
          .or(page.getByRole('table'))
          .or(page.locator('.empty'))
          .first()
          .waitFor();
        await expect.poll(() => page.getByText(/^Loading /).count()).toBe(0);
        await screenshotsAtBothWidths(page, name);
      }

      expect(problems).toEqual([]);
      const allowed = apiFailures.filter(
        (f) =>
          (f.status === 400 && f.url === '/api/v1/flags/new-checkout') ||
          (f.status === 401 && f.url === '/api/v1/environments') ||
          (f.status === 404 && /^\/api\/v1\/(rollouts|metrics|surfaces)/.test(f.url)),
      );
      expect(apiFailures).toEqual(allowed);
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'renders the rollout pages from the planned API shapes (replies mocked in the browser)',
    async () => {
      const page = await context.newPage();
      watch(page);
      const t0 = Date.parse('2026-01-05T08:00:00Z');
      const hour = 3_600_000;
      let rollout = {
        id: 'ro_demo1',
        flag: 'new-checkout',
        environment: ENV,
        treatment: 'on',
        control: 'off',
        stages: [
          { reach: 1, minDuration: '2h', minUnitsPerArm: 1000 },
          { reach: 10 },
          { reach: 50 },
          { reach: 100 },
        ],
        guardrails: [
          { metric: 'crash_rate', margin: 0.02, required: true },
          { metric: 'revenue_per_user', margin: 0.01 },
        ],
        mode: 'automatic',
        state: 'running',
        stage: 1,
        attempt: 1,
        reach: 10,
        health: 'warning',
        history: [
          { stage: 0, reach: 1, at: new Date(t0).toISOString() },
          { stage: 1, reach: 10, at: new Date(t0 + 3 * hour).toISOString() },
        ],
      };
      const decisions = Array.from({ length: 6 }, (_, i) => {
        const se = 0.004 / Math.sqrt(i + 1);
        const crash = 0.001 + i * 0.0012;
        return {
          id: `dec_${i}`,
          rollout: 'ro_demo1',
          at: new Date(t0 + (i + 1) * hour).toISOString(),
          action: i === 2 ? 'advance' : 'hold',
          rule: i === 2 ? 'stage-minimums-met' : 'stage-minimums-not-met',
          message: i === 2 ? 'Stage 1 minimums met with no harm: advancing to 10%.' : undefined,
          stage: i < 3 ? 0 : 1,
          reach: i < 3 ? 1 : 10,
          evidence: {
            metrics: [
              {
                metric: 'crash_rate',
                direction: 'higher_is_worse',
                estimate: crash,
                relativeLift: crash / 0.02,
                se,
                interval: [crash - 2.5 * se, crash + 2.5 * se],
                informationFraction: (i + 1) / 12,
                boundary: i === 0 ? null : 4.2 - i * 0.25,
                z: crash / se,
                margin: 0.0004,
                nTreatment: 800 * (i + 1),
                nControl: 40_000 * (i + 1),
              },
              {
                metric: 'revenue_per_user',
                direction: 'lower_is_worse',
                estimate: -0.02 + i * 0.004,
                se: 0.05 / Math.sqrt(i + 1),
                interval: [
                  -0.02 + i * 0.004 - 0.1 / Math.sqrt(i + 1),
                  -0.02 + i * 0.004 + 0.1 / Math.sqrt(i + 1),
                ],
                boundary: 3.5,
                margin: 0.12,
                nTreatment: 800 * (i + 1),
                nControl: 40_000 * (i + 1),
              },
            ],
            srm: { p: 0.41 },
          },
        };
      });
      const json = (body: unknown) => ({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify(body),
      });
      const actions: string[] = [];
      await page.route(/\/api\/v1\/(rollouts|metrics|surfaces)(\/|\?|$)/, async (route) => {
        const url = new URL(route.request().url());
        const path = url.pathname;
        if (path === '/api/v1/rollouts') return route.fulfill(json({ rollouts: [rollout] }));
        if (path === '/api/v1/metrics')
          return route.fulfill(
            json({
              metrics: [
                {
                  key: 'crash_rate',
                  kind: 'proportion',
                  event: 'app_crash',
                  direction: 'higher_is_worse',
                  margin: 0.02,
                  window: '24h',
                },
                {
                  key: 'revenue_per_user',
                  kind: 'mean',
                  event: 'purchase',
                  direction: 'lower_is_worse',
                  margin: 0.01,
                  window: '7d',
                  cap: 500,
                },
                {
                  key: 'error_rate',
                  kind: 'ratio',
                  numerator: { event: 'request_error', aggregate: 'count' },
                  denominator: { event: 'request', aggregate: 'count' },
                  direction: 'higher_is_worse',
                  margin: 0.05,
                },
              ],
            }),
          );
        if (path === '/api/v1/surfaces')
          return route.fulfill(
            json({
              surfaces: [
                {
                  key: 'checkout',
                  description: 'Cart and payment',
                  guardrails: [{ metric: 'crash_rate', margin: 0.02 }],
                },
              ],
            }),
          );
        if (path === '/api/v1/rollouts/ro_demo1') return route.fulfill(json(rollout));
        if (path === '/api/v1/rollouts/ro_demo1/decisions') return route.fulfill(json({ decisions }));
        const action = /^\/api\/v1\/rollouts\/ro_demo1\/(\w+)$/.exec(path)?.[1];
        if (action !== undefined && route.request().method() === 'POST') {
          actions.push(action);
          if (action === 'rollback')
            rollout = { ...rollout, state: 'rolled_back', reach: 0, health: 'failing' };
          return route.fulfill(json(rollout));
        }
        return route.fulfill({
          status: 404,
          contentType: 'application/json',
          body: '{"error":{"code":"NOT_FOUND","message":"mock","details":null}}',
        });
      });

      await signIn(page);
      await go(page, '#/rollouts');
      const row = page.getByRole('row', { name: /ro_demo1/ });
      await row.waitFor();
      const rowText = (await row.textContent()) ?? '';
      expect(rowText).toContain('2 of 4');
      expect(rowText).toContain('10%');
      expect(rowText).toContain('warning');
      await screenshotsAtBothWidths(page, '06-rollouts-mocked');
      await go(page, '#/metrics');
      await page.getByRole('cell', { name: 'count(request_error) / count(request)' }).waitFor();
      await screenshotsAtBothWidths(page, '11-metrics-mocked');
      await go(page, '#/surfaces');
      await page.getByRole('cell', { name: 'crash_rate (2%)' }).waitFor();
      await screenshotsAtBothWidths(page, '10-surfaces-mocked');

      await go(page, '#/rollouts/ro_demo1');
      await page.getByTestId('chart-crash_rate').locator('canvas').waitFor();
      await page.getByTestId('chart-revenue_per_user').locator('canvas').waitFor();
      expect(await page.getByTestId('decision').count()).toBe(6);
      expect(await page.getByTestId('decision').first().textContent()).toContain('stage-minimums-not-met');
      expect(await page.locator('[aria-current="step"]').textContent()).toContain('Stage 2: 10%');
      await page.getByTestId('decision').first().getByText('Evidence').click();
      await screenshotsAtBothWidths(page, '12-rollout-detail-mocked');

      await page.getByRole('button', { name: 'Roll back' }).click();
      const dialog = page.getByRole('dialog');
      const message = (await dialog.textContent()) ?? '';
      expect(message).toContain('drops from 10% to 0%');
      expect(message).toContain('Every unit gets "off"');
      await shoot(page, '13-rollout-rollback-confirm-1280');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect(actions).toEqual([]);
      await page.getByRole('button', { name: 'Roll back' }).click();
      await dialog.getByRole('button', { name: 'Roll back' }).click();
      await expect.poll(() => page.getByTestId('current-reach').textContent()).toContain('0%');
      expect(actions).toEqual(['rollback']);
      await page.getByText('rolled back').first().waitFor();
      expect(problems).toEqual([]);
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'rolls a flag out, shows a decision with its chart, and rolls back to reach 0 (needs the rollout routes)',
    async () => {
      const probe = await server.adminFetch('/api/v1/rollouts');
      expect(
        probe.status,
        'GET /api/v1/rollouts answered 404: the rollout routes (issues 04/05) are not there yet. The dashboard ' +
          'pages are built against the planned shapes in packages/dashboard/src/api.ts; finish this test when ' +
          'the routes exist (create → start → a decision with its chart → rollback → SDK reach 0).',
      ).not.toBe(404);

      const page = await context.newPage();
      watch(page);
      // A guardrail metric, required by the flag's surface (the form adds no optional ones).
      const metric = await server.adminFetch('/api/v1/metrics', {
        method: 'POST',
        body: JSON.stringify({
          key: 'search_crash',
          kind: 'proportion',
          event: 'search_crash',
          direction: 'higher_is_worse',
          margin: 0.2,
          window: 'until_now',
          category: 'reliability',
        }),
      });
      expect(metric.status).toBe(201);
      const surface = await server.adminFetch('/api/v1/surfaces', {
        method: 'POST',
        body: JSON.stringify({ key: 'search', guardrails: [{ metric: 'search_crash' }] }),
      });
      expect(surface.status).toBe(201);
      const created = await server.adminFetch('/api/v1/flags', {
        method: 'POST',
        body: JSON.stringify({
          key: 'guarded-search',
          kind: 'boolean',
          surface: 'search',
          variants: { off: false, on: true },
          defaultVariant: 'off',
          environments: { [ENV]: { enabled: true, rules: [] } },
        }),
      });
      expect(created.status).toBe(201);
      const keyReply = await server.adminFetch('/api/v1/keys', {
        method: 'POST',
        body: JSON.stringify({ name: 'rollout-check', environment: ENV, kind: 'server' }),
      });
      const { secret } = (await keyReply.json()) as { secret: string };

      await signIn(page);
      await go(page, '#/rollouts');
      await page.getByText('Plan a new rollout').click();
      await page.getByLabel('Flag', { exact: true }).selectOption('guarded-search');
      await page.getByRole('button', { name: 'Create rollout' }).click();
      await page.getByRole('heading', { name: /Rollout/ }).waitFor();

      await page.getByRole('button', { name: 'Start' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.textContent()).toContain('serves "on" to 1% of units');
      await dialog.getByRole('button', { name: 'Start' }).click();
      await page.getByText('running').first().waitFor();

      // Some traffic: a server SDK evaluates locally on its config and sends exposures and crashes.
      const served = (await (
        await fetch(`${server.url}/sdk/v1/config`, { headers: { authorization: `Bearer ${secret}` } })
      ).json()) as EnvironmentSnapshot;
      const compiledNow = compileConfig(served);
      const events: Record<string, unknown>[] = [];
      const now = Date.now();
      for (let i = 0; i < 4_000; i++) {
        const unit = `visitor-${i}`;
        const variant = evaluate(compiledNow, 'guarded-search', { targetingKey: unit }).variant ?? 'off';
        events.push({ type: 'exposure', flag: 'guarded-search', variant, unit, timestamp: now });
        if (i % 3 === 0) events.push({ type: 'track', name: 'search_crash', unit, timestamp: now + 1 });
      }
      for (let i = 0; i < events.length; i += 1_000) {
        const sent = await fetch(`${server.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ batchId: `e2e-${i}`, events: events.slice(i, i + 1_000) }),
        });
        expect(sent.status).toBeLessThan(300);
      }
      // The controller's look (the test hook instead of waiting for its interval).
      const looks = await server.app.dimmer.controller.tick();
      expect(looks).toHaveLength(1);
      // The page refreshes while the rollout runs and shows the decision with its chart.
      await page.getByTestId('decision').first().waitFor({ timeout: 60_000 });
      await page.locator('.chart canvas').first().waitFor();
      await screenshotsAtBothWidths(page, '12-rollout-detail');

      await page.getByRole('button', { name: 'Roll back' }).click();
      expect(await dialog.textContent()).toContain('to 0%');
      await dialog.getByRole('button', { name: 'Roll back' }).click();
      await page.getByText('rolled back').first().waitFor();
      expect(await page.getByTestId('current-reach').textContent()).toContain('0%');

      // Through the SDK API: no unit is served treatment any more.
      const config = await fetch(`${server.url}/sdk/v1/config`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      const snapshot = (await config.json()) as EnvironmentSnapshot;
      const flag = snapshot.flags.find((f) => f.key === 'guarded-search');
      expect(flag).toBeDefined();
      const treatmentBuckets = (flag?.rules ?? [])
        .flatMap((rule) => ('split' in rule.serve ? rule.serve.split : []))
        .filter((slice) => slice.arm === 'treatment' || slice.variant === 'on')
        .reduce((sum, slice) => sum + (slice.range[1] - slice.range[0]), 0);
      expect(treatmentBuckets).toBe(0);
      expect(problems).toEqual([]);
    },
    FLOW_TIMEOUT_MS,
  );
});
