/**
 * Surface holdbacks through the HTTP API: the holdback ships with the SDK config, so local evaluation (core on
 * `/sdk/v1/config`, as every SDK does), the server's resolve and OFREP agree that held-back units get the default
 * from every rollout and experiment on the surface, completed rollouts included; the holdback is immutable except
 * to disable it; exposures of held-back units feed the holdback report, which compares them with everyone else.
 */
import { bucket, compileConfig, type EnvironmentSnapshot, evaluate } from '@dimmer/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONVERSION,
  CRASHES,
  cleanUpExperimentSims,
  openSimApp,
  type SimApp,
} from '../../testing/experiment-sim.ts';
import { HOUR, TrafficSim } from '../../testing/rollout-sim.ts';
import type { Json } from '../../testing/test-app.ts';

afterEach(cleanUpExperimentSims);

const UNITS = 100_000;
const CLICKS = { ...CONVERSION, key: 'clicks', event: 'click' };
const HOLDBACK_PERCENT = 5;

async function flag(a: SimApp, key: string, variants: string[]): Promise<void> {
  const r = await a.admin('POST', '/api/v1/flags', {
    key,
    kind: 'string',
    surface: 'checkout',
    variants: Object.fromEntries(variants.map((v) => [v, v])),
    defaultVariant: variants[0],
    environments: { production: { enabled: true, rules: [] } },
  });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
}

/** A surface with two metrics, a rollout flag and an experiment flag on it, both running, and a server key. */
async function setUp(): Promise<{ a: SimApp; key: string }> {
  const a = await openSimApp();
  for (const metric of [CONVERSION, CRASHES, CLICKS])
    expect((await a.admin('POST', '/api/v1/metrics', metric)).status).toBe(201);
  const surface = await a.admin('POST', '/api/v1/surfaces', {
    key: 'checkout',
    guardrails: [{ metric: 'crash_rate' }, { metric: 'conversion' }],
  });
  expect(surface.status).toBe(201);
  await flag(a, 'one-page', ['off', 'on']);
  await flag(a, 'button', ['control', 'b', 'c']);
  const rollout = await a.admin('POST', '/api/v1/rollouts', {
    id: 'ro_1',
    flag: 'one-page',
    environment: 'production',
    treatment: 'on',
    control: 'off',
    stages: [{ reach: 50 }, { reach: 100 }],
  });
  expect(rollout.status, JSON.stringify(rollout.json)).toBe(201);
  expect((await a.admin('POST', '/api/v1/rollouts/ro_1/start', {})).status).toBe(200);
  const experiment = await a.admin('POST', '/api/v1/experiments', {
    id: 'ex_1',
    flag: 'button',
    environment: 'production',
    control: 'control',
    variants: [
      { variant: 'control', weight: 34 },
      { variant: 'b', weight: 33 },
      { variant: 'c', weight: 33 },
    ],
    coverage: 100,
    successMetrics: [{ metric: 'clicks', mde: 0.1 }],
  });
  expect(experiment.status, JSON.stringify(experiment.json)).toBe(201);
  expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
  const key = await a.admin('POST', '/api/v1/keys', {
    name: 'sdk',
    environment: 'production',
    kind: 'server',
  });
  return { a, key: key.json.secret };
}

async function config(a: SimApp, key: string): Promise<EnvironmentSnapshot> {
  const r = await a.app.inject({
    method: 'GET',
    url: '/sdk/v1/config',
    headers: { authorization: `Bearer ${key}` },
  });
  expect(r.statusCode).toBe(200);
  return r.json() as EnvironmentSnapshot;
}

async function resolve(a: SimApp, key: string, unit: string): Promise<Record<string, Json>> {
  const r = await a.app.inject({
    method: 'POST',
    url: '/sdk/v1/resolve',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ context: { targetingKey: unit }, logExposures: false }),
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().flags;
}

async function ofrep(a: SimApp, key: string, flagKey: string, unit: string): Promise<Json> {
  const r = await a.app.inject({
    method: 'POST',
    url: `/ofrep/v1/evaluate/flags/${flagKey}`,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ context: { targetingKey: unit } }),
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
}

describe('surface holdbacks', () => {
  it(`units in the holdback never get a treatment from any rollout or experiment on the surface (${UNITS.toLocaleString('en-US')} units)`, async () => {
    const { a, key } = await setUp();
    const set = await a.admin('POST', '/api/v1/surfaces/checkout/holdback', { percent: HOLDBACK_PERCENT });
    expect(set.status, JSON.stringify(set.json)).toBe(201);
    const salt: string = set.json.holdback.salt;
    expect(set.json.holdback).toMatchObject({ percent: HOLDBACK_PERCENT, enabled: true, generation: 1 });
    const units = Array.from({ length: UNITS }, (_, i) => `user-${i}`);
    // Membership computed here from the contract (hash v1 under the holdback's salt), not by the server.
    const held = new Set(units.filter((u) => bucket(salt, u) < HOLDBACK_PERCENT * 10_000));
    expect(held.size).toBeGreaterThan(UNITS * 0.045);
    expect(held.size).toBeLessThan(UNITS * 0.055);

    const check = async (label: string) => {
      const snapshot = await config(a, key);
      expect(
        snapshot.flags.every((f) => f.holdback?.surface === 'checkout'),
        label,
      ).toBe(true);
      const compiled = compileConfig(snapshot);
      const treated = { 'one-page': 0, button: 0 };
      for (const unit of units) {
        const page = evaluate(compiled, 'one-page', { targetingKey: unit });
        const button = evaluate(compiled, 'button', { targetingKey: unit });
        if (held.has(unit)) {
          if (page.variant !== 'off' || button.variant !== 'control')
            throw new Error(`${label}: held-back unit ${unit} got ${page.variant} / ${button.variant}`);
          expect(page.holdback).toBe('checkout');
          expect(page.inExperiment).toBe(true);
        } else {
          if (page.variant === 'on') treated['one-page']++;
          if (button.variant !== 'control') treated.button++;
        }
      }
      // Everyone else does get the treatments.
      expect(treated['one-page'], label).toBeGreaterThan(0);
      expect(treated.button, label).toBeGreaterThan(0);
      // The server's resolve and OFREP agree with local evaluation.
      for (const unit of units.slice(0, 300)) {
        const local = evaluate(compiled, 'button', { targetingKey: unit }).variant;
        expect((await resolve(a, key, unit)).button.variant, `${label} ${unit}`).toBe(local);
        expect((await ofrep(a, key, 'one-page', unit)).variant).toBe(
          evaluate(compiled, 'one-page', { targetingKey: unit }).variant,
        );
      }
      return treated;
    };
    const running = await check('running');
    expect(running['one-page']).toBeGreaterThan((UNITS - held.size) * 0.45);
    // A completed rollout keeps the holdback: its units still get the default.
    a.clock.advance(30 * 24 * HOUR);
    const completed = await a.admin('POST', '/api/v1/rollouts/ro_1/complete', {});
    expect(completed.status, JSON.stringify(completed.json)).toBe(200);
    const after = await check('completed');
    expect(after['one-page']).toBe(UNITS - held.size);

    // Disabled: held-back units get what everyone else gets.
    const disabled = await a.admin('POST', '/api/v1/surfaces/checkout/holdback/disable', {});
    expect(disabled.status).toBe(200);
    expect(disabled.json.holdback.enabled).toBe(false);
    const compiled = compileConfig(await config(a, key));
    const released = [...held].filter(
      (u) => evaluate(compiled, 'one-page', { targetingKey: u }).variant === 'on',
    );
    expect(released.length).toBe(held.size);
  }, 120_000);

  it('is immutable once set (CONFLICT naming percent) except to disable; bad input names the field', async () => {
    const { a } = await setUp();
    const bad = await a.admin('POST', '/api/v1/surfaces/checkout/holdback', { percent: 60 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/percent/);
    expect((await a.admin('GET', '/api/v1/surfaces/checkout')).json.holdback).toBeNull();
    const set = await a.admin('POST', '/api/v1/surfaces/checkout/holdback', { percent: 2 });
    expect(set.status).toBe(201);
    const again = await a.admin('POST', '/api/v1/surfaces/checkout/holdback', { percent: 3 });
    expect(again.status).toBe(409);
    expect(again.json.error.message).toMatch(/^percent: /);
    // A surface edit keeps the holdback.
    const edited = await a.admin('PUT', '/api/v1/surfaces/checkout', {
      name: 'Checkout',
      guardrails: [{ metric: 'crash_rate' }],
    });
    expect(edited.status, JSON.stringify(edited.json)).toBe(200);
    expect(edited.json.holdback).toEqual(set.json.holdback);
    const smuggled = await a.admin('PUT', '/api/v1/surfaces/checkout', { holdback: null });
    expect(smuggled.status).toBe(400);
    expect((await a.admin('GET', '/api/v1/surfaces/checkout')).json.holdback).toEqual(set.json.holdback);
    expect((await a.admin('POST', '/api/v1/surfaces/checkout/holdback/disable', {})).status).toBe(200);
    expect((await a.admin('POST', '/api/v1/surfaces/checkout/holdback/disable', {})).status).toBe(409);
    // A new holdback after a disabled one: a new generation with a new salt.
    const next = await a.admin('POST', '/api/v1/surfaces/checkout/holdback', { percent: 3 });
    expect(next.status).toBe(201);
    expect(next.json.holdback.generation).toBe(2);
    expect(next.json.holdback.salt).not.toBe(set.json.holdback.salt);
    const audit = await a.admin('GET', '/api/v1/audit?resourceType=surface');
    expect(audit.json.entries.map((e: Json) => e.action)).toEqual(
      expect.arrayContaining(['surface.holdback.set', 'surface.holdback.disable']),
    );
  });

  it('the holdback report compares held-back units with everyone else from their logged exposures', async () => {
    const { a, key } = await setUp();
    expect((await a.admin('POST', '/api/v1/surfaces/checkout/holdback', { percent: 20 })).status).toBe(201);
    const sim = new TrafficSim(a, { clientKey: key, flag: 'one-page', seed: 11 });
    // The launch raises conversion and leaves crashes alone: treated units convert at 40% instead of 20%.
    for (let i = 0; i < 3; i++)
      await sim.step({
        units: 2_000,
        rates: { purchase: { control: 0.2, treatment: 0.4 }, app_crash: { control: 0.05, treatment: 0.05 } },
        durationMs: HOUR,
      });
    const report = await a.admin('GET', '/api/v1/surfaces/checkout/holdback-report?environment=production');
    expect(report.status, JSON.stringify(report.json)).toBe(200);
    // Every held-back exposure was accepted (served the default) and counted for the holdback only.
    expect(report.json.units.holdback + report.json.units.rest).toBe(6_000);
    expect(report.json.units.holdback).toBeGreaterThan(1_000);
    expect(report.json.units.holdback).toBeLessThan(1_400);
    const conversion = report.json.metrics.find((m: Json) => m.metric === 'conversion');
    expect(conversion.verdict).toBe('better');
    expect(conversion.relativeLift).toBeGreaterThan(0.2);
    expect(conversion.interval[0]).toBeGreaterThan(0);
    expect(conversion.interval[0]).toBeLessThan(conversion.relativeLift);
    expect(conversion.holdback.mean).toBeLessThan(0.25);
    const crashes = report.json.metrics.find((m: Json) => m.metric === 'crash_rate');
    expect(crashes.verdict).toBe('inconclusive');
    // The rollout's arms never counted a held-back unit.
    const evidence = await a.admin('GET', '/api/v1/rollouts/ro_1/evidence');
    const counted = evidence.json.evidence.units.treatment + evidence.json.evidence.units.control;
    expect(counted).toBe(report.json.units.rest);
    const missing = await a.admin('GET', '/api/v1/surfaces/checkout/holdback-report');
    expect(missing.status).toBe(400);
  });
});
