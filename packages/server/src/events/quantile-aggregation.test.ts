import type { EventQuantileStats, QuantileSketch } from '@dimmer/stats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type RawEvent,
  referenceQuantiles,
  SAMPLE_METRICS,
  sendBatch,
  setUpAnalysis,
  startRollout,
} from '../../testing/analysis-harness.ts';
import { buildTestApp, manualClock, TEST_T0 } from '../../testing/test-app.ts';
import type { MetricDefinition } from '../metrics/index.ts';

const HOUR = 3_600_000;
const QUANTILE_METRICS = [
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
const GUARDRAILS = ['crash_rate', 'render_p90', 'request_p50'];

const eventArb = fc.oneof(
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

function toWire(e: RawEvent, base: number): Record<string, unknown> {
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

async function ingest(
  wire: Record<string, unknown>[],
  sizes: number[],
  retries: boolean[],
  now: number,
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON replies by value
): Promise<{ evidence: any; metrics: MetricDefinition[] }> {
  const t = await buildTestApp({
    clock: manualClock(now),
    config: { pruneIntervalMs: 0, checkExposures: false },
  });
  try {
    const { clientKey } = await setUpAnalysis(t.app, t.adminToken, [
      ...SAMPLE_METRICS.slice(0, 1),
      ...QUANTILE_METRICS,
    ]);
    const id = await startRollout(t.app, GUARDRAILS);
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

describe('quantile statistics at ingestion', () => {
  it('merged across batches (with retries) equal the one-shot histogram of the raw events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        async (events, sizes, retries) => {
          const base = TEST_T0 + 24 * HOUR;
          const wire = events.map((e) => toWire(e as RawEvent, base));
          const batched = await ingest(wire, sizes, retries, base + 6 * HOUR);
          const oneShot = await ingest(wire, [wire.length], [false], base + 6 * HOUR);
          for (const definition of batched.metrics) {
            if (definition.kind !== 'quantile') continue;
            const want = referenceQuantiles(events as RawEvent[], definition, {
              treatment: 'on',
              control: 'off',
            });
            const got = armsOf(batched.evidence, definition.key);
            const single = armsOf(oneShot.evidence, definition.key);
            for (const arm of ['treatment', 'control'] as const) {
              for (const [label, side] of [
                ['batched', got],
                ['one batch', single],
              ] as const) {
                const data = side?.[arm];
                if (data === undefined) {
                  // No row yet: the reference must hold nothing either.
                  const ref = want[arm];
                  expect('events' in ref ? ref.events.count : ref.count).toBe(0);
                  continue;
                }
                const tag = `${definition.key} ${arm} ${label}`;
                if (definition.scope === 'unit')
                  expectSameSketch(data as QuantileSketch, want[arm] as QuantileSketch, tag);
                else expectSameEventStats(data as EventQuantileStats, want[arm] as EventQuantileStats, tag);
              }
            }
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 180_000);
});
