/**
 * Test support for the browser tests: Debian's Chromium through playwright-core against a real Dimmer server,
 * a watch for console errors and failed requests, screenshots at 1280 and 390 px, sign-in, admin calls, and
 * simulated SDK traffic (local evaluation on the served config, exposures and track events to the events API).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileConfig, type EnvironmentSnapshot, evaluate } from '@dimmer/core';
import { createTestServer, type TestServer, type TestServerOptions } from '@dimmer/server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ensureBuilt, servesDashboard, startDashboardHost } from './dashboard-host.ts';

export const CHROMIUM = '/usr/bin/chromium';
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
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A Dimmer server, the dashboard (served by it, or by the test host), and a Chromium profile. */
export interface BrowserRig {
  server: TestServer;
  baseUrl: string;
  dashboardOnServer: boolean;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Builds the dashboard when needed, starts a server and Chromium. */
export async function startBrowserRig(options: TestServerOptions = {}): Promise<BrowserRig> {
  await ensureBuilt();
  const server = await createTestServer(options);
  const dashboardOnServer = await servesDashboard(server.url);
  const host = dashboardOnServer ? undefined : await startDashboardHost(server.url);
  const profileDir = mkdtempSync(join(tmpdir(), 'dimmer-dashboard-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: DESKTOP,
  });
  return {
    server,
    baseUrl: host?.url ?? server.url,
    dashboardOnServer,
    context,
    async close() {
      await context.close();
      await host?.close();
      await server.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/** What went wrong in the browser: console errors, page errors, failed requests, and API replies ≥ 400. */
export interface Problems {
  /** Console errors, uncaught exceptions, and failed requests outside the API. */
  problems: string[];
  /** API replies with status ≥ 400 (expected ones: validation refusals, the wrong token, planned routes). */
  apiFailures: { status: number; url: string }[];
}

export function watch(page: Page, into: Problems): void {
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium logs every 4xx/5xx fetch as "Failed to load resource"; those are checked through apiFailures.
    if (/^Failed to load resource: the server responded with a status of \d+/.test(message.text())) return;
    into.problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => into.problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() < 400) return;
    const url = new URL(response.url());
    if (url.pathname.startsWith('/api/'))
      into.apiFailures.push({ status: response.status(), url: url.pathname });
    else into.problems.push(`HTTP ${response.status()} for ${url.pathname}`);
  });
  page.on('requestfailed', (request) => into.problems.push(`request failed: ${request.url()}`));
}

/** Full-page screenshots `<name>-1280.png` and `<name>-390.png` in `dir`; nothing may scroll sideways at 390 px. */
export async function screenshotsAtBothWidths(page: Page, dir: string, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(dir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(dir, `${name}-390.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(1);
  await page.setViewportSize(DESKTOP);
}

/** Navigates inside the dashboard (hash routes). */
export async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

/** Signs in with the server's admin token, or with `token`. */
export async function signIn(
  page: Page,
  rig: Pick<BrowserRig, 'baseUrl' | 'server'>,
  token = rig.server.adminToken,
): Promise<void> {
  await page.goto(`${rig.baseUrl}/`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Admin API call of the tests (setting up what a test is not about); fails the test on an error status. */
export async function adminCall(
  server: TestServer,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await server.adminFetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  expect(response.status, `${path}: ${text}`).toBeLessThan(300);
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/** A track event the simulated units send: unit served variant `v` sends it with probability `rates[v]`. */
export interface SimulatedEvent {
  event: string;
  rates: Record<string, number>;
}

/**
 * Simulated traffic: `units` units evaluate `flag` locally on the server SDK's config and report their
 * exposure; a unit served variant `v` sends `event` with probability `rates[v]` (0 for variants not named),
 * and each event of `also` likewise.
 */
export async function sendTraffic(
  server: TestServer,
  secret: string,
  input: SimulatedEvent & { flag: string; prefix: string; units: number; also?: SimulatedEvent[] },
): Promise<void> {
  const served = (await (
    await fetch(`${server.url}/sdk/v1/config`, { headers: { authorization: `Bearer ${secret}` } })
  ).json()) as EnvironmentSnapshot;
  const compiled = compileConfig(served);
  const events: Record<string, unknown>[] = [];
  const now = Date.now();
  for (let i = 0; i < input.units; i++) {
    const unit = `${input.prefix}-${i}`;
    const variant = evaluate(compiled, input.flag, { targetingKey: unit }).variant ?? 'off';
    events.push({ type: 'exposure', flag: input.flag, variant, unit, timestamp: now });
    // A fixed, evenly spread draw per unit and event keeps every run on the same path.
    for (const [k, e] of [input, ...(input.also ?? [])].entries()) {
      const draw = ((i * 7919 + k * 331) % 1000) / 1000;
      if (draw < (e.rates[variant] ?? 0))
        events.push({ type: 'track', name: e.event, unit, timestamp: now + 1 });
    }
  }
  for (let i = 0; i < events.length; i += 1_000) {
    const sent = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ batchId: `${input.prefix}-${i}`, events: events.slice(i, i + 1_000) }),
    });
    expect(sent.status).toBeLessThan(300);
  }
}
