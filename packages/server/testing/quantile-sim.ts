/**
 * Test support for quantile metrics: latency traffic whose tail a change slows while its mean stays put, a
 * rollout over it through the HTTP API, and the check that the histograms kept at ingestion equal a one-shot
 * computation over the raw events. Used by the memory, SQLite and PostgreSQL tests.
 */
import type { EventQuantileStats, QuantileSketch } from '@dimmer/stats';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { MetricDefinition } from '../src/metrics/metric.model.ts';
import type { Stores } from '../src/stores.ts';
import {
  type RawEvent,
  referenceQuantiles,
  SAMPLE_METRICS,
  sendBatch,
  setUpAnalysis,
  startRollout,
} from './analysis-harness.ts';
import { MINUTE, readRollout, setUpRolloutSim, TrafficSim } from './rollout-sim.ts';
import { buildTestApp, manualClock, type TestApp } from './test-app.ts';

const HOUR = 3_600_000;

export const QUANTILE_METRICS = [
  {
    key: 'render_p90',
    kind: 'quantile',
    event: 'render_ms',
    q: 0.9,
    scope: 'unit',
    valueUnit: 'ms',
    direction: 'higher_is_worse',
    margin: 0.1,
    window: '2h',
    category: 'experience',
    cap: 900,
  },
  {
    key: 'request_p50',
    kind: 'quantile',
    event: 'request_ms',
    q: 0.5,
    scope: 'event',
    direction: 'higher_is_worse',
    margin: 0.1,
    window: 'until_now',
    category: 'experience',
    floor: 1,
  },
];
export const QUANTILE_GUARDRAILS = ['crash_rate', 'render_p90', 'request_p50'];

export const quantileEventArb = fc.oneof(
  fc.record({
    type: fc.constant('exposure' as const),
    unit: fc.integer({ min: 0, max: 7 }).map((i) => `u${i}`),
    ts: fc.integer({ min: 0, max: 4 * HOUR }),
    variant: fc.constantFrom('on', 'off'),
  }),
  fc.record({
    type: fc.constant('track' as const),
    unit: fc.integer({ min: 0, max: 7 }).map((i) => `u${i}`),
    ts: fc.integer({ min: -HOUR, max: 5 * HOUR }),
    name: fc.constantFrom('render_ms', 'request_ms', 'app_crash'),
    value: fc.option(
      fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.double({ min: 1e-3, max: 1e6, noNaN: true })),
      { nil: undefined },
    ),
  }),
);

export function toWire(e: RawEvent, base: number): Record<string, unknown> {
  const timestamp = base + e.ts;
  if (e.type === 'exposure')
    return { type: 'exposure', flag: 'new-checkout', variant: e.variant, unit: e.unit, timestamp };
  return {
    type: 'track',
    name: e.name,
    unit: e.unit,
    timestamp,
    ...(e.value !== undefined ? { value: e.value } : {}),
  };
}

type ArmData = QuantileSketch | EventQuantileStats;

/**
 * Expects the quantile statistics of stage 0 in `evidence` to equal the one-shot computation over `events`
 * (`label` names the run in failures).
 */
export function expectQuantilesOf(
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON replies by value
  evidence: any,
  metrics: readonly MetricDefinition[],
  events: readonly RawEvent[],
  label: string,
): void {
  for (const definition of metrics) {
    if (definition.kind !== 'quantile') continue;
    const want = referenceQuantiles(events, definition, { treatment: 'on', control: 'off' });
    const got = armsOf(evidence, definition.key);
    for (const arm of ['treatment', 'control'] as const) {
      const data = got?.[arm];
      const ref = want[arm];
      if (data === undefined) {
        // No row yet: the reference holds nothing either.
        expect('events' in ref ? ref.events.count : ref.count).toBe(0);
        continue;
      }
      const tag = `${definition.key} ${arm} ${label}`;
      if (definition.scope === 'unit') expectSameSketch(data as QuantileSketch, ref as QuantileSketch, tag);
      else expectSameEventStats(data as EventQuantileStats, ref as EventQuantileStats, tag);
    }
  }
}

/** Stage 0's statistics of both arms of a quantile metric in an evidence reply. */
function armsOf(evidence: { evidence: { metrics: Record<string, { quantile?: unknown }> } }, metric: string) {
  const q = evidence.evidence.metrics[metric]?.quantile as
    | { cohorts: { stage: number; treatment: ArmData; control: ArmData }[] }
    | undefined;
  return q?.cohorts.find((c) => c.stage === 0) ?? null;
}

function bucketsOf(s: QuantileSketch): Record<string, number> {
  const out: Record<string, number> = { zero: s.zeroCount };
  s.positive.counts.forEach((c, j) => {
    if (c > 0) out[`p${s.positive.offset + j}`] = c;
  });
  s.negative.counts.forEach((c, j) => {
    if (c > 0) out[`m${s.negative.offset + j}`] = c;
  });
  return out;
}

function gridValue(s: EventQuantileStats, key: 'sumC2' | 'sumCN', g: number): number {
  const arr = s.grid[key];
  if (arr.length === 0 || g < s.grid.offset) return s.belowGrid[key];
  if (g >= s.grid.offset + arr.length) return s.sumN2;
  return arr[g - s.grid.offset] as number;
}

/** Expects incremental statistics to equal the one-shot ones: counts exactly, sums closely, bounds as bounds. */
function expectSameSketch(got: QuantileSketch, want: QuantileSketch, label: string): void {
  expect(bucketsOf(got), label).toEqual(bucketsOf(want));
  expect(got.count, label).toBe(want.count);
  expect(got.sum, label).toBeCloseTo(want.sum, 6);
  if (want.min !== null) expect(got.min ?? Number.NaN, label).toBeLessThanOrEqual(want.min);
  if (want.max !== null) expect(got.max ?? Number.NaN, label).toBeGreaterThanOrEqual(want.max);
}

function expectSameEventStats(got: EventQuantileStats, want: EventQuantileStats, label: string): void {
  expectSameSketch(got.events, want.events, label);
  expect([got.units, got.sumN, got.sumN2], label).toEqual([want.units, want.sumN, want.sumN2]);
  expect(got.belowGrid, label).toEqual(want.belowGrid);
  const lo = Math.min(got.grid.offset, want.grid.offset) - 1;
  const hi = Math.max(got.grid.offset + got.grid.sumC2.length, want.grid.offset + want.grid.sumC2.length) + 1;
  for (let g = lo; g <= hi; g++)
    for (const key of ['sumC2', 'sumCN'] as const)
      expect(gridValue(got, key, g), `${label} ${key}[${g}]`).toBe(gridValue(want, key, g));
}

/**
 * Sends `wire` events in batches of `sizes` (each retried when `retries` says so) to a fresh app over `stores`
 * (memory by default) with the quantile metrics and a running rollout; returns its evidence and metrics.
 */
export async function ingestQuantileEvents(
  wire: Record<string, unknown>[],
  batching: { sizes: number[]; retries: boolean[] },
  now: number,
  stores?: Stores,
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON replies by value
): Promise<{ evidence: any; metrics: MetricDefinition[] }> {
  const { sizes, retries } = batching;
  const t = await buildTestApp({
    clock: manualClock(now),
    config: { pruneIntervalMs: 0, checkExposures: false },
    ...(stores ? { stores } : {}),
  });
  try {
    const { clientKey } = await setUpAnalysis(t.app, t.adminToken, [
      ...SAMPLE_METRICS.slice(0, 1),
      ...QUANTILE_METRICS,
    ]);
    const id = await startRollout(t.app, QUANTILE_GUARDRAILS);
    let start = 0;
    let b = 0;
    while (start < wire.length) {
      const size = sizes[b % sizes.length] as number;
      const batch = { batchId: `b-${b}`, events: wire.slice(start, start + size) };
      const reply = await sendBatch(t.app, clientKey, batch);
      expect(reply.status).toBe(202);
      if (retries[b % retries.length])
        expect((await sendBatch(t.app, clientKey, batch)).json.duplicate).toBe(true);
      start += size;
      b++;
    }
    const evidence = (await t.admin('GET', `/api/v1/rollouts/${id}/evidence`)).json;
    return { evidence, metrics: (await t.app.dimmer.rollouts.get(id)).metrics };
  } finally {
    await t.close();
  }
}

/** Log-normal latency: median 200 ms, σ = 0.5 on the log scale. */
const MU = Math.log(200);
const SIGMA = 0.5;
/** The slow tail the change hurts: values above the 97th percentile. */
const TAIL = Math.exp(MU + 1.8808 * SIGMA);
/** Tail factor and the body factor that keeps the mean where it was (E[X; X > p97] is 8.4% of the mean). */
const TAIL_FACTOR = 1.6;
const BODY_FACTOR = 1 - ((TAIL_FACTOR - 1) * 0.0838) / 0.9162;

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** One latency; the change (regressed treatment) slows the tail and speeds up the body. */
function latency(random: () => number, regressed: boolean, unitEffect = 0): number {
  const x = Math.exp(MU + unitEffect + SIGMA * normal(random));
  if (!regressed) return x;
  return x > TAIL * Math.exp(unitEffect) ? x * TAIL_FACTOR : x * BODY_FACTOR;
}

export const UNIT_METRIC = {
  key: 'page_load_p99',
  kind: 'quantile',
  event: 'page_load_ms',
  q: 0.99,
  scope: 'unit',
  valueUnit: 'ms',
  direction: 'higher_is_worse',
  margin: 0.1,
  window: 'until_now',
  category: 'experience',
};
export const EVENT_METRIC = {
  key: 'request_p99',
  kind: 'quantile',
  event: 'request_ms',
  q: 0.99,
  scope: 'event',
  valueUnit: 'ms',
  direction: 'higher_is_worse',
  margin: 0.1,
  window: 'until_now',
  category: 'experience',
};
export const MEAN_METRIC = {
  key: 'page_load_mean',
  kind: 'mean',
  event: 'page_load_ms',
  aggregate: 'sum',
  direction: 'higher_is_worse',
  margin: 0.1,
  window: 'until_now',
  category: 'experience',
};

type SimApp = TestApp & { clock: ReturnType<typeof manualClock> };

/**
 * Runs rollout `ro_latency` (50% then 100%, stage minimums out of reach so it stays at 50%) with the guardrails
 * named, `steps` half-hour steps of 800 new units each sending a page load and 1–12 requests, and a controller
 * look after each step; `regressed` slows treatment's tail. Returns the rollout and its evidence.
 */
export async function runLatencyRollout(options: {
  regressed: boolean;
  guardrails: string[];
  steps: number;
  seed: number;
  stores?: () => Promise<Stores>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON replies by value
}): Promise<{ rollout: any; evidence: any }> {
  const clock = manualClock();
  const stores = options.stores ? await options.stores() : undefined;
  const t = (await buildTestApp({ clock, ...(stores ? { stores } : {}) })) as SimApp;
  try {
    const { clientKey, flag } = await setUpRolloutSim(t, {
      metrics: [UNIT_METRIC, EVENT_METRIC, MEAN_METRIC],
    });
    const created = await t.admin('POST', '/api/v1/rollouts', {
      id: 'ro_latency',
      flag,
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [{ reach: 50, minDuration: '1d', minUnitsPerArm: 100_000 }, { reach: 100 }],
      guardrails: options.guardrails.map((metric) => ({ metric })),
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect((await t.admin('POST', '/api/v1/rollouts/ro_latency/start', {})).status).toBe(200);
    const sim = new TrafficSim(t, { clientKey, flag, seed: options.seed });
    const regressed = (arm: 'treatment' | 'control') => options.regressed && arm === 'treatment';
    let rollout = await readRollout(t, 'ro_latency');
    for (let i = 0; i < options.steps && rollout.state === 'running'; i++) {
      await sim.step({
        units: 800,
        rates: {},
        durationMs: 30 * MINUTE,
        samples: {
          page_load_ms: (arm, random) => [latency(random, regressed(arm))],
          // 1 to 12 requests per unit, with a unit effect (a slow device is slow on every request).
          request_ms: (arm, random) => {
            const effect = 0.3 * normal(random);
            const n = 1 + Math.floor(random() * 12);
            return Array.from({ length: n }, () => latency(random, regressed(arm), effect));
          },
        },
      });
      await t.app.dimmer.controller.tick();
      rollout = await readRollout(t, 'ro_latency');
    }
    const evidence = (await t.admin('GET', '/api/v1/rollouts/ro_latency/evidence')).json;
    return { rollout, evidence };
  } finally {
    await t.close();
  }
}
