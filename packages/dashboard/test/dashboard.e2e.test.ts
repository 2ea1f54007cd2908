/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real Dimmer server:
 * sign in, create and edit a flag (with a validation error from the API), keys shown once, audit filters,
 * the playground, admin tokens (created and shown once, listed, revoked: the revoked one is refused), and
 * every page at 1280 px and 390 px wide (screenshots in test-output/). Console errors fail the test. The rollout tests drive real rollouts with simulated traffic and the controller's tick:
 * a rollback explained by the banner, a refresh that fails with 503 and recovers, a manual recommendation
 * applied from the page, and a rollout set up from the dashboard alone.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  compileConfig,
  type EnvironmentSnapshot,
  evaluate,
  type FlagConfig,
  flattenFlag,
} from '@dimmer/core';
import type { TestServer } from '@dimmer/server';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFraction } from '../src/format.ts';
import {
  adminCall,
  type BrowserRig,
  DESKTOP,
  go,
  PHONE,
  type Problems,
  sendTraffic as sendTrafficTo,
  screenshotsAtBothWidths as shootBoth,
  signIn as signInTo,
  startBrowserRig,
  watch as watchFor,
} from './browser.ts';
import { PACKAGE_DIR } from './dashboard-host.ts';

const OUTPUT_DIR = join(PACKAGE_DIR, 'test-output');
const FLOW_TIMEOUT_MS = 180_000;
const ENV = 'production';

let rig: BrowserRig | undefined;
let server: TestServer;
let baseUrl: string;
let dashboardOnServer = false;
let context: BrowserContext;
const seen: Problems = { problems: [], apiFailures: [] };
const { problems, apiFailures } = seen;

const watch = (page: Page) => watchFor(page, seen);
const screenshotsAtBothWidths = (page: Page, name: string) => shootBoth(page, OUTPUT_DIR, name);
const signIn = (page: Page, token?: string) => signInTo(page, { baseUrl, server }, token);
const admin = (path: string, body?: unknown) => adminCall(server, path, body);
const sendTraffic = (secret: string, input: Parameters<typeof sendTrafficTo>[2]) =>
  sendTrafficTo(server, secret, input);

/** A metric, a flag on in production, a server key and a started rollout at 50% then 100%, all through the API. */
async function startGuardedRollout(input: {
  id: string;
  flag: string;
  metric: string;
  mode: 'automatic' | 'manual';
}): Promise<string> {
  await admin('/api/v1/metrics', {
    key: input.metric,
    kind: 'proportion',
    event: input.metric,
    direction: 'higher_is_worse',
    margin: 0.2,
    window: 'until_now',
    category: 'reliability',
  });
  await admin('/api/v1/flags', {
    key: input.flag,
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    environments: { [ENV]: { enabled: true, rules: [] } },
  });
  const key = await admin('/api/v1/keys', { name: `${input.id}-sdk`, environment: ENV, kind: 'server' });
  await admin('/api/v1/rollouts', {
    id: input.id,
    flag: input.flag,
    environment: ENV,
    treatment: 'on',
    control: 'off',
    stages: [{ reach: 50 }, { reach: 100 }],
    guardrails: [{ metric: input.metric }],
    mode: input.mode,
  });
  await admin(`/api/v1/rollouts/${input.id}/start`, {});
  return key.secret as string;
}

/** Units per arm and the crash rates of a clear regression (2% → 15%), enough for the first look to decide. */
const REGRESSION = { units: 20_000, rates: { on: 0.15, off: 0.02 } };

beforeAll(async () => {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  rig = await startBrowserRig({ config: { previewSampleSize: 20_000 } });
  ({ server, baseUrl, dashboardOnServer, context } = rig);
}, 120_000);

afterAll(async () => {
  await rig?.close();
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
      await page.locator('#key-name').fill('checkout-service');
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
        ['#/segments', '14-segments', 'Segments'],
        ['#/environments', '15-environments', 'Environments'],
        ['#/experiments', '25-experiments', 'Experiments'],
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
          (f.status === 401 && (f.url === '/api/v1/environments' || f.url === '/api/v1/me')) ||
          (f.status === 404 && /^\/api\/v1\/(rollouts|metrics|surfaces)/.test(f.url)),
      );
      expect(apiFailures).toEqual(allowed);
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
      // The server's dry run: the surface's required guardrail, each stage's forecast, nothing stored.
      await page.getByRole('button', { name: 'Check plan' }).click();
      const preview = page.getByTestId('plan-preview');
      await preview.waitFor();
      expect(await preview.textContent()).toContain(
        'Required by the surface (cannot be removed): search_crash',
      );
      expect(await preview.getByRole('row').count()).toBeGreaterThan(1);
      expect((await admin('/api/v1/rollouts?flag=guarded-search')).rollouts).toEqual([]);
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
      // The banner names who rolled back: this page's token, not the controller.
      await expect
        .poll(async () => (await page.getByTestId('last-action').textContent()) ?? '')
        .toMatch(/Last action: rollback by token:/);
      expect((await admin('/api/v1/rollouts?flag=guarded-search')).rollouts).toMatchObject([
        { health: expect.not.stringMatching(/^failing$/) },
      ]);

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

  it(
    'explains a rollback by the controller with the metric and both values, and survives a 503 during refresh',
    async () => {
      const page = await context.newPage();
      watch(page);
      const secret = await startGuardedRollout({
        id: 'ro_banner',
        flag: 'banner-flag',
        metric: 'banner_crash',
        mode: 'automatic',
      });
      // Every refresh after the first asks only for what changed: decisions and chart looks after a cursor.
      const reads: string[] = [];
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (/\/rollouts\/ro_banner\/(decisions|chart)$/.test(url.pathname))
          reads.push(url.pathname + url.search);
      });
      await signIn(page);
      await go(page, '#/rollouts/ro_banner');
      const banner = page.getByTestId('verdict-banner');
      await banner.getByText(/Running at stage 1 of 2/).waitFor();
      await expect
        .poll(() => reads.filter((r) => r.includes('after=')).length, { timeout: 20_000 })
        .toBeGreaterThanOrEqual(2);
      // Once the page has its cursors, every read asks only for what changed.
      const firstIncremental = reads.findIndex((r) => r.includes('after='));
      expect(reads.slice(firstIncremental).every((r) => r.includes('after='))).toBe(true);

      // The server answers 503 for a while: the page keeps its data and its buttons, says it is stale, and
      // recovers on its own once the server answers again.
      let failed = 0;
      await page.route(/\/api\/v1\/rollouts\/ro_banner$/, (route) => {
        failed += 1;
        return route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: '{"error":{"code":"UNAVAILABLE","message":"storage is unavailable","details":null}}',
        });
      });
      const stale = page.getByTestId('stale-banner');
      await stale.waitFor({ timeout: 20_000 });
      expect(await stale.textContent()).toContain('storage is unavailable');
      expect(await banner.isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Roll back' }).isVisible()).toBe(true);
      await screenshotsAtBothWidths(page, '16-rollout-stale');
      await expect.poll(() => failed, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
      await page.unroute(/\/api\/v1\/rollouts\/ro_banner$/);
      await stale.waitFor({ state: 'detached', timeout: 30_000 });

      // A clear regression; the controller's look rolls back, and the banner says who, when and why.
      await sendTraffic(secret, { flag: 'banner-flag', event: 'banner_crash', prefix: 'b', ...REGRESSION });
      expect((await server.app.dimmer.controller.tick()).map((d) => d.rollout)).toContain('ro_banner');
      const detail = (await admin('/api/v1/rollouts/ro_banner')) as {
        state: string;
        latestDecision: {
          metrics: Record<string, { summary: { meanControl: number; meanTreatment: number } }>;
        };
      };
      expect(detail.state).toBe('rolled_back');
      const look = detail.latestDecision.metrics.banner_crash?.summary;
      expect(look).toBeDefined();
      const control = formatFraction(look?.meanControl ?? Number.NaN);
      const treatment = formatFraction(look?.meanTreatment ?? Number.NaN);
      await banner.getByText(/Rolled back by the controller/).waitFor({ timeout: 20_000 });
      expect(await banner.textContent()).toContain(
        `because banner_crash rose from ${control} to ${treatment}`,
      );
      expect(await page.getByTestId('last-action').textContent()).toMatch(
        /Last action: rollback by the controller at .* banner_crash is worse in treatment/,
      );
      const row = page
        .getByTestId('results')
        .first()
        .getByRole('row', { name: /banner_crash/ });
      const rowText = (await row.textContent()) ?? '';
      expect(rowText).toContain('harm');
      expect(rowText).toContain(control);
      expect(rowText).toContain(treatment);
      // The relative interval is on the log-ratio scale: it never passes −100%.
      expect(rowText).not.toMatch(/-\d{3,}[\d,]*%/);
      expect(await page.getByTestId('current-reach').textContent()).toContain('0%');
      await page.locator('.chart canvas').first().waitFor();
      await screenshotsAtBothWidths(page, '12-rollout-rolled-back');
      expect(problems).toEqual([]);
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'creates an admin token shown once, lists it and revokes it; the revoked token gets 401 and cannot sign in',
    async () => {
      const page = await context.newPage();
      watch(page);
      await signIn(page);
      await go(page, '#/keys');
      await page.getByRole('heading', { name: 'Admin tokens' }).waitFor();

      // Create: the secret is shown once, with the token's name.
      await page.locator('#token-name').fill('ci-deploy');
      await page.getByRole('button', { name: 'Create token' }).click();
      await page.getByRole('heading', { name: 'Admin token “ci-deploy” created' }).waitFor();
      const secret = ((await page.getByTestId('new-key-secret').textContent()) ?? '').trim();
      expect(secret).toMatch(/^dmr_admin_/);
      await screenshotsAtBothWidths(page, '25-admin-token-created');
      const asToken = (token: string) =>
        fetch(`${server.url}/api/v1/flags`, { headers: { authorization: `Bearer ${token}` } });
      expect((await asToken(secret)).status).toBe(200);
      await page.getByRole('button', { name: 'I have stored it' }).click();
      await expect.poll(() => page.getByTestId('new-key-secret').count()).toBe(0);

      // List: the new token is active; neither the page nor the API shows its secret again.
      await page.reload();
      const row = page.getByRole('row', { name: /ci-deploy/ });
      await row.waitFor();
      expect(await row.textContent()).toContain('active');
      expect(await page.content()).not.toContain(secret);
      const listed = await admin('/api/v1/tokens');
      expect(JSON.stringify(listed)).not.toContain(secret);
      expect((listed.tokens as { name: string }[]).map((t) => t.name)).toContain('ci-deploy');
      // At 390 px each token is a card: its actions sit inside the screen, not in a table scrolled sideways.
      await page.setViewportSize(PHONE);
      for (const action of ['Rotate ci-deploy', 'Revoke ci-deploy']) {
        const box = await row.getByRole('button', { name: action }).boundingBox();
        expect(box, action).not.toBeNull();
        expect((box?.x ?? 0) + (box?.width ?? 0), `${action} at 390 px`).toBeLessThanOrEqual(390);
      }
      await page.setViewportSize(DESKTOP);

      // A second tab signed in with the new token works until the token is revoked.
      const other = await context.newPage();
      watch(other);
      await signIn(other, secret);

      // Revoke, after confirming: the row says revoked and the token gets 401 at once.
      await row.getByRole('button', { name: 'Revoke ci-deploy' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.textContent()).toContain('Revoke admin token “ci-deploy”?');
      await dialog.getByRole('button', { name: 'Revoke token' }).click();
      await expect.poll(async () => (await row.textContent()) ?? '').toContain('revoked');
      expect(await row.getByRole('button', { name: 'Revoke ci-deploy' }).count()).toBe(0);
      await screenshotsAtBothWidths(page, '26-admin-token-revoked');
      expect((await asToken(secret)).status).toBe(401);
      expect((await asToken(server.adminToken)).status).toBe(200);

      // The other tab loses its session: back to sign-in, and the revoked token is not accepted.
      await other.reload();
      await other.getByText('That token was not accepted.').waitFor();
      await other.getByLabel('Admin token').fill(secret);
      await other.getByRole('button', { name: 'Sign in' }).click();
      await other.getByText('That token was not accepted.').waitFor();
      expect(await other.getByRole('navigation', { name: 'Main' }).count()).toBe(0);

      const audit = (await admin('/api/v1/audit?resourceType=admin_token')) as {
        entries: { action: string; resourceKey: string }[];
      };
      expect(audit.entries.slice(0, 2).map((e) => e.action)).toEqual([
        'admin_token.revoke',
        'admin_token.create',
      ]);
      expect(problems).toEqual([]);
      await other.close();
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'shows the recommendation of a manual rollout with its evidence and applies it from the page',
    async () => {
      const page = await context.newPage();
      watch(page);
      const secret = await startGuardedRollout({
        id: 'ro_manual',
        flag: 'manual-flag',
        metric: 'manual_crash',
        mode: 'manual',
      });
      await sendTraffic(secret, { flag: 'manual-flag', event: 'manual_crash', prefix: 'm', ...REGRESSION });
      await server.app.dimmer.controller.tick();
      const before = (await admin('/api/v1/rollouts/ro_manual')) as {
        state: string;
        recommendation: { action: string } | null;
      };
      expect(before.state).toBe('running');
      expect(before.recommendation?.action).toBe('rollback');

      await signIn(page);
      await go(page, '#/rollouts/ro_manual');
      const recommendation = page.getByTestId('recommendation');
      await recommendation.waitFor();
      expect(await recommendation.textContent()).toContain('manual_crash');
      expect(await recommendation.getByRole('row', { name: /manual_crash/ }).textContent()).toContain('harm');
      await screenshotsAtBothWidths(page, '17-rollout-recommendation');
      await recommendation.getByRole('button', { name: 'Apply: Roll back' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.textContent()).toContain('Apply the recommendation');
      await dialog.getByRole('button', { name: 'Roll back' }).click();
      const banner = page.getByTestId('verdict-banner');
      await banner.getByText(/following the controller's recommendation because manual_crash rose/).waitFor();
      expect(await banner.textContent()).not.toContain('by the controller');
      const after = (await admin('/api/v1/rollouts/ro_manual')) as { state: string; reach: number };
      expect(after).toMatchObject({ state: 'rolled_back', reach: 0 });
      await expect.poll(() => page.getByTestId('recommendation').count()).toBe(0);
      expect(problems).toEqual([]);
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'sets up a rollout from the dashboard alone (metric, surface, flag, key, rollout); it starts and receives decisions',
    async () => {
      const page = await context.newPage();
      watch(page);
      await signIn(page);

      // Metric: the API's message appears beside the field, then the metric is created.
      await go(page, '#/metrics/new');
      await page.getByLabel('Key').fill('ui_crash');
      await page.getByLabel('Margin (%)').fill('20');
      await page.getByLabel('Observation window').fill('until_now');
      await page.getByRole('button', { name: 'Create metric' }).click();
      await page.getByTestId('issue-event').waitFor();
      await screenshotsAtBothWidths(page, '18-metric-new-error');
      await page.getByLabel('Event', { exact: true }).fill('ui_crash');
      await page.getByRole('button', { name: 'Create metric' }).click();
      await page.getByRole('link', { name: 'ui_crash' }).waitFor();

      // Surface requiring it.
      await go(page, '#/surfaces/new');
      await page.getByLabel('Key').fill('ui');
      await page.getByLabel('ui_crash').check();
      await screenshotsAtBothWidths(page, '19-surface-new');
      await page.getByRole('button', { name: 'Create surface' }).click();
      await page.getByRole('cell', { name: /ui_crash/ }).waitFor();

      // Segment and environment pages create too.
      await go(page, '#/segments/new');
      await page.getByLabel('Key').fill('staff');
      await page.getByRole('button', { name: 'Create segment' }).click();
      await page.getByRole('link', { name: 'staff' }).waitFor();
      await go(page, '#/environments');
      await page.getByLabel('Key').fill('staging');
      await page.getByRole('button', { name: 'Create environment' }).click();
      await page.getByRole('rowheader', { name: 'staging' }).waitFor();
      // Rename one in place; delete a spare one; the one in use is refused with what refers to it.
      const staging = page.getByTestId('env-row-staging');
      await staging.getByRole('button', { name: 'Rename' }).click();
      await staging.getByLabel('Name of staging').fill('Staging area');
      await staging.getByRole('button', { name: 'Save' }).click();
      await staging.getByText('Staging area').waitFor();
      await page.getByLabel('Key').fill('scratch');
      await page.getByRole('button', { name: 'Create environment' }).click();
      await page.getByTestId('env-row-scratch').getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete environment' }).click();
      await page.getByTestId('env-row-scratch').waitFor({ state: 'detached' });
      await page.getByTestId(`env-row-${ENV}`).getByRole('button', { name: 'Delete' }).click();
      const refusal = page.getByRole('dialog');
      await refusal.getByRole('button', { name: 'Delete environment' }).click();
      await refusal.getByText(/is in use by/).waitFor();
      await refusal.getByRole('button', { name: 'Cancel' }).click();
      await page.getByTestId(`env-row-${ENV}`).waitFor();

      // Flag on that surface (created off).
      await go(page, '#/new-flag');
      await page.getByLabel('Key').fill('ui-flag');
      await page.getByLabel('Surface').fill('ui');
      await page.getByRole('button', { name: 'Create flag' }).click();
      await page.getByRole('heading', { name: /ui-flag/ }).waitFor();

      // The rollout form warns that the flag is off and shows the surface's guardrail as required.
      await go(page, '#/rollouts');
      await page.getByText('Plan a new rollout').click();
      await page.getByLabel('Flag', { exact: true }).selectOption('ui-flag');
      await page.getByTestId('flag-off-warning').waitFor();
      await page.getByText('required by surface ui').waitFor();
      expect(await page.getByLabel('Stage 1 minimum duration').inputValue()).toBe('24h');
      expect(await page.getByLabel('Stage 1 minimum units per arm').inputValue()).toBe('1000');
      await screenshotsAtBothWidths(page, '20-rollout-new');

      // Turn the flag on from its page.
      await go(page, '#/flags/ui-flag');
      await page.getByRole('button', { name: `Enable in ${ENV}` }).click();
      await page.getByRole('button', { name: `Disable in ${ENV}` }).waitFor();

      // A server key for the simulated SDK.
      await go(page, '#/keys');
      await page.locator('#key-name').fill('ui-sdk');
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = (await page.getByTestId('new-key-secret').textContent()) ?? '';
      expect(secret).toMatch(/^dmr_srv_/);
      await page.getByRole('button', { name: 'I have stored it' }).click();

      // The rollout: 50% then 100%, its own id.
      await go(page, '#/rollouts');
      await page.getByText('Plan a new rollout').click();
      await page.getByLabel('Flag', { exact: true }).selectOption('ui-flag');
      expect(await page.getByTestId('flag-off-warning').count()).toBe(0);
      await page.getByLabel('Rollout id (optional)').fill('ro_ui');
      await page.getByRole('button', { name: 'Remove stage 2' }).click();
      await page.getByRole('button', { name: 'Remove stage 2' }).click();
      await page.getByLabel('Stage 1 reach in percent').fill('50');
      await page.getByRole('button', { name: 'Create rollout' }).click();
      await page.getByRole('heading', { name: /ro_ui/ }).waitFor();
      await page.getByTestId('forecast').waitFor();
      await screenshotsAtBothWidths(page, '21-rollout-draft-forecast');
      await page.getByRole('button', { name: 'Start' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.textContent()).toContain('serves "on" to 50% of units');
      await dialog.getByRole('button', { name: 'Start' }).click();
      await page
        .getByTestId('verdict-banner')
        .getByText(/Running at stage 1 of 2/)
        .waitFor();

      // Traffic and a look: the decision shows up, with live units per arm.
      await sendTraffic(secret, {
        flag: 'ui-flag',
        event: 'ui_crash',
        prefix: 'ui',
        units: 4_000,
        rates: { on: 0.05, off: 0.05 },
      });
      expect((await server.app.dimmer.controller.tick()).map((d) => d.rollout)).toContain('ro_ui');
      await page.getByTestId('decision').first().waitFor({ timeout: 30_000 });
      await expect
        .poll(async () => (await page.getByTestId('live-units').textContent()) ?? '')
        .toMatch(/[1-9][\d,]* treatment \/ [1-9][\d,]* control/);
      await screenshotsAtBothWidths(page, '22-rollout-running');

      // More looks with nothing new: one entry with its count (stored that way), fetched after a cursor.
      const decisionRequests: string[] = [];
      page.on('request', (request) => {
        if (request.url().includes('/rollouts/ro_ui/decisions')) decisionRequests.push(request.url());
      });
      for (let i = 0; i < 4; i++) await server.app.dimmer.controller.tick();
      await expect
        .poll(async () => (await page.getByTestId('decision-repeat').first().textContent()) ?? '', {
          timeout: 20_000,
        })
        .toContain('×5');
      expect(await page.getByTestId('decision').count()).toBe(1);
      expect(decisionRequests.length).toBeGreaterThan(0);
      expect(decisionRequests.every((url) => /[?&]after=\d+(&|$)/.test(url))).toBe(true);

      // The flag's editor shows the rollout's rule read-only; disabling in production asks first.
      await go(page, '#/flags/ui-flag/edit');
      const locked = page.getByTestId('locked-rules');
      await locked.waitFor();
      expect(await locked.textContent()).toContain('ro_ui');
      expect(await page.getByLabel(`Rules in ${ENV}`).inputValue()).not.toContain('rollout');
      await screenshotsAtBothWidths(page, '23-flag-edit-rollout-rule');
      await go(page, '#/flags/ui-flag');
      await page.getByRole('button', { name: `Disable in ${ENV}` }).click();
      const confirm = page.getByRole('dialog');
      expect(await confirm.textContent()).toContain('Real users are affected');
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      const flag = (await admin('/api/v1/flags/ui-flag')) as {
        environments: Record<string, { enabled: boolean }>;
      };
      expect(flag.environments[ENV]?.enabled).toBe(true);

      // The audit log filters rollouts.
      await go(page, '#/audit');
      await page.getByLabel('Resource').selectOption('rollout');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page
        .getByRole('cell', { name: /rollout ro_ui/ })
        .first()
        .waitFor();
      await screenshotsAtBothWidths(page, '24-audit-rollouts');
      expect(problems).toEqual([]);
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );
});
