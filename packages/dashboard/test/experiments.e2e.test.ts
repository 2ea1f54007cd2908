/**
 * The experiment pages in a real browser (Debian's Chromium through playwright-core) against a real Dimmer
 * server: an A/B test planned from the dashboard (a refused plan shows the server's message beside the field,
 * the surface's guardrail cannot be removed, the sample plan shows before the start), started, grown (a
 * decrease is refused beside the field), fed simulated SDK traffic in which one variant converts better, and
 * shipped from its page once the server recommends it, landing on the rollout that ships it. Screenshots at
 * 1280 and 390 px go to $DIMMER_SCREENSHOT_DIR (default: a folder in the system's temporary directory).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExperimentView } from '@dimmer/api';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminCall,
  type BrowserRig,
  go,
  PHONE,
  type Problems,
  screenshotsAtBothWidths,
  sendTraffic,
  signIn,
  startBrowserRig,
  watch,
} from './browser.ts';

const OUTPUT_DIR = process.env.DIMMER_SCREENSHOT_DIR ?? join(tmpdir(), 'dimmer-dashboard-experiments');
const FLOW_TIMEOUT_MS = 240_000;
const ENV = 'production';
/** WCAG 2.2 non-text contrast for a focus indicator. */
const FOCUS_CONTRAST = 3;

let rig: BrowserRig;
const seen: Problems = { problems: [], apiFailures: [] };

/** Relative luminance contrast of two `rgb(r, g, b)` colours. */
function contrast(a: string, b: string): number {
  const lum = (color: string) => {
    const [r, g, bl] = (color.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((c) => {
      const v = Number(c) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

async function experiment(id: string): Promise<ExperimentView> {
  return (await adminCall(rig.server, `/api/v1/experiments/${id}`)) as unknown as ExperimentView;
}

/** True when the element's box lies inside the 390 px viewport (nothing to scroll sideways to find it). */
async function insidePhoneWidth(element: Locator): Promise<boolean> {
  const box = await element.boundingBox();
  return box !== null && box.x >= 0 && box.x + box.width <= PHONE.width;
}

beforeAll(async () => {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  rig = await startBrowserRig();
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

describe('experiments in Chromium', () => {
  it(
    'plans an A/B test from the dashboard, grows it, sees the winner recommended and ships it as a rollout',
    async () => {
      const { server } = rig;
      // What the test is not about, through the API: two metrics, a surface requiring the crash metric, the flag
      // (on in production) and a server key for the simulated SDK.
      for (const [key, direction, category] of [
        ['purchase', 'lower_is_worse', 'business'],
        ['shop_crash', 'higher_is_worse', 'reliability'],
      ] as const)
        await adminCall(server, '/api/v1/metrics', {
          key,
          kind: 'proportion',
          event: key,
          direction,
          margin: 0.2,
          window: 'until_now',
          category,
        });
      await adminCall(server, '/api/v1/surfaces', { key: 'shop', guardrails: [{ metric: 'shop_crash' }] });
      await adminCall(server, '/api/v1/flags', {
        key: 'checkout-button',
        kind: 'string',
        surface: 'shop',
        variants: { control: 'blue', green: 'green' },
        defaultVariant: 'control',
        environments: { [ENV]: { enabled: true, rules: [] } },
      });
      const key = await adminCall(server, '/api/v1/keys', {
        name: 'shop-sdk',
        environment: ENV,
        kind: 'server',
      });
      const secret = key.secret as string;

      const page = await rig.context.newPage();
      watch(page, seen);
      await signIn(page, rig);

      // The nav reaches the experiments at 390 px too.
      await page.setViewportSize(PHONE);
      const navLink = page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Experiments' });
      expect(await navLink.isVisible()).toBe(true);
      expect(await insidePhoneWidth(navLink)).toBe(true);
      await navLink.click();
      await page.getByRole('heading', { name: 'Experiments', exact: true }).waitFor();
      await page.getByText(`No experiments in ${ENV} yet.`).waitFor();
      await page.setViewportSize({ width: 1280, height: 900 });

      // The form: the surface's guardrail is shown and cannot be removed; weights that do not sum to 100 are
      // refused with the server's message beside the variants.
      await page.getByText('Plan a new experiment').click();
      await page.getByLabel('Flag', { exact: true }).selectOption('checkout-button');
      const locked = page.locator('.guardrail-locked', { hasText: 'shop_crash' });
      await locked.getByText('required by surface shop').waitFor();
      expect(await locked.getByRole('checkbox').isDisabled()).toBe(true);
      expect(await locked.getByRole('checkbox').isChecked()).toBe(true);
      await page.getByLabel('Experiment id (optional)').fill('ex_button');
      await page.getByLabel('Weight of green in percent').fill('40');
      await page.getByLabel('Success metric 1', { exact: true }).selectOption('purchase');
      await page.getByLabel('Success metric 1 minimum detectable effect in percent').fill('10');
      await page.getByLabel('Success metric 1 current value').fill('0.1');
      await page.getByLabel('Coverage (% of all units)').fill('50');
      await page.getByLabel('Minimum duration').fill('0s');
      await page.getByLabel('Minimum units per arm').fill('200');
      await page.getByLabel('Expected new units a day (optional, for the plan)').fill('20000');
      await page.getByRole('button', { name: 'Create experiment' }).click();
      const weightIssue = page.getByTestId('issue-variants');
      await weightIssue.waitFor();
      expect(await weightIssue.textContent()).toMatch(/100/);
      await screenshotsAtBothWidths(page, OUTPUT_DIR, 'experiment-new-error');

      // Fixed, it is created as a draft whose page shows the server's sample plan before the start.
      await page.getByLabel('Weight of green in percent').fill('50');
      await page.getByRole('button', { name: 'Create experiment' }).click();
      await page.getByRole('heading', { name: /ex_button/ }).waitFor();
      const plan = page.getByTestId('sample-plan');
      await plan.waitFor();
      const planText = (await plan.textContent()) ?? '';
      expect(planText).toContain('20,000 new units a day (as stated)');
      expect(planText).toMatch(/about \d/);
      expect(await plan.getByRole('row', { name: /green/ }).textContent()).toMatch(/[1-9][\d,]*/);
      const banner = page.getByTestId('verdict-banner');
      expect(await banner.textContent()).toContain('Draft: not started');
      await screenshotsAtBothWidths(page, OUTPUT_DIR, 'experiment-draft-plan');
      const draft = await experiment('ex_button');
      expect(draft.guardrails.map((g) => [g.metric, g.required])).toEqual([['shop_crash', true]]);

      // Start, then grow the coverage; a decrease is refused beside the field and changes nothing.
      await page.getByRole('button', { name: 'Start' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Start' }).click();
      await banner.getByText(/Running at 50% coverage/).waitFor();
      await page.getByLabel('New coverage (% of all units)').fill('80');
      await page.getByRole('button', { name: 'Grow coverage' }).click();
      await banner.getByText(/Running at 80% coverage/).waitFor();
      await page.getByLabel('New coverage (% of all units)').fill('20');
      await page.getByRole('button', { name: 'Grow coverage' }).click();
      const coverageIssue = page.getByTestId('issue-coverage');
      await coverageIssue.waitFor();
      expect(await coverageIssue.textContent()).toMatch(/80/);
      expect((await experiment('ex_button')).coverage).toBe(80);
      await screenshotsAtBothWidths(page, OUTPUT_DIR, 'experiment-coverage-refused');

      // The keyboard focus ring is visible against the page: at least 3:1.
      await page.getByLabel('New coverage (% of all units)').focus();
      await page.keyboard.press('Tab');
      const ring = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const style = getComputedStyle(el);
        return {
          text: el.textContent,
          color: style.outlineColor,
          width: Number.parseFloat(style.outlineWidth),
          background: getComputedStyle(document.documentElement).backgroundColor,
        };
      });
      expect(ring.text).toBe('Grow coverage');
      expect(ring.width).toBeGreaterThanOrEqual(2);
      expect(contrast(ring.color, ring.background)).toBeGreaterThanOrEqual(FOCUS_CONTRAST);
      expect(contrast(ring.color, 'rgb(255, 255, 255)')).toBeGreaterThanOrEqual(FOCUS_CONTRAST);

      // Traffic through the real server: green converts at 20% against control's 10%, crashes are equal.
      await sendTraffic(server, secret, {
        flag: 'checkout-button',
        prefix: 'shopper',
        units: 20_000,
        event: 'purchase',
        rates: { control: 0.1, green: 0.2 },
        also: [{ event: 'shop_crash', rates: { control: 0.2, green: 0.2 } }],
      });
      await server.app.dimmer.experimentController.tick();
      const recorded = await experiment('ex_button');
      expect(recorded.latestResults?.recommendation, recorded.latestResults?.reason).toBe('ship');
      expect(recorded.latestResults?.winner).toBe('green');

      // The page says so in words, with the values of both arms and the interval of the deciding test.
      await banner.getByText(/Recommendation: ship “green”/).waitFor({ timeout: 30_000 });
      expect(await banner.textContent()).toContain('Ship “green”');
      const results = page.getByTestId('results');
      const win = results.getByRole('row', { name: /purchase/ });
      const winText = (await win.textContent()) ?? '';
      expect(winText).toContain('better');
      expect(winText).toContain('superiority test');
      expect(winText).toMatch(/\+\d[\d.]*% \(\+\d[\d.]*% to \+\d[\d.]*%\)/);
      const guard = results.getByRole('row', { name: /shop_crash/ });
      expect(await guard.textContent()).toContain('non-inferior');
      expect(await guard.textContent()).not.toMatch(/-\d{3,}[\d,]*%/);
      expect(await page.getByTestId('srm').textContent()).toContain('sound');
      await screenshotsAtBothWidths(page, OUTPUT_DIR, 'experiment-ship-recommended');

      // At 390 px the results are cards and every verdict is on screen.
      await page.setViewportSize(PHONE);
      for (const verdict of ['better', 'non-inferior'] as const) {
        const badge = results.getByText(verdict, { exact: true }).first();
        expect(await badge.isVisible()).toBe(true);
        expect(await insidePhoneWidth(badge)).toBe(true);
      }
      await page.setViewportSize({ width: 1280, height: 900 });

      // The list shows the recommendation.
      await go(page, '#/experiments');
      const row = page.getByRole('row', { name: /ex_button/ });
      await row.waitFor();
      expect(await row.textContent()).toContain('ship green');
      expect(await row.textContent()).toContain('running');
      await screenshotsAtBothWidths(page, OUTPUT_DIR, 'experiments-list');

      // Ship from the page: a confirmation, then the new rollout of green.
      await row.getByRole('link', { name: 'ex_button' }).click();
      await page.getByRole('button', { name: 'Ship green' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.textContent()).toContain('guarded rollout of “green”');
      await dialog.getByRole('button', { name: 'Ship green' }).click();
      await page.waitForURL(/#\/rollouts\/[^/]+$/);
      const rolloutId = decodeURIComponent(new URL(page.url()).hash.replace('#/rollouts/', ''));
      await page
        .getByTestId('verdict-banner')
        .getByText(/Running at stage 1/)
        .waitFor();
      const shipped = await experiment('ex_button');
      expect(shipped).toMatchObject({ status: 'shipped', shippedVariant: 'green', rollout: rolloutId });
      const rollout = await adminCall(server, `/api/v1/rollouts/${rolloutId}`);
      expect(rollout).toMatchObject({ flag: 'checkout-button', treatment: 'green', state: 'running' });
      await page.getByTestId('shipped-from').getByText('ex_button').waitFor();
      await screenshotsAtBothWidths(page, OUTPUT_DIR, 'experiment-shipped-rollout');

      // Back on the experiment: shipped, by whom, and the link to the rollout.
      await go(page, '#/experiments/ex_button');
      await page
        .getByTestId('verdict-banner')
        .getByText(/Shipped “green” by /)
        .waitFor();
      expect(await page.getByTestId('shipped-rollout').textContent()).toBe(rolloutId);
      await screenshotsAtBothWidths(page, OUTPUT_DIR, 'experiment-shipped');

      expect(seen.problems).toEqual([]);
      const refusals = seen.apiFailures.filter(
        (f) =>
          (f.status === 400 && f.url === '/api/v1/experiments') ||
          ((f.status === 400 || f.status === 409) && f.url === '/api/v1/experiments/ex_button/coverage'),
      );
      // Signed in with a token, the page's probe for a person's session answers 401.
      const sessionProbes = seen.apiFailures.filter((f) => f.status === 401 && f.url === '/api/v1/me');
      expect(seen.apiFailures).toEqual(
        seen.apiFailures.filter((f) => refusals.includes(f) || sessionProbes.includes(f)),
      );
      expect(refusals.length).toBe(2);
      await page.close();
    },
    FLOW_TIMEOUT_MS,
  );
});
