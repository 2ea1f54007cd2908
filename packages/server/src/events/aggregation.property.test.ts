import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type RawEvent,
  referenceStats,
  sendBatch,
  setUpAnalysis,
  startRollout,
  zeroSums,
} from '../../testing/analysis-harness.ts';
import { buildTestApp, manualClock, TEST_T0 } from '../../testing/test-app.ts';
import { createSqliteStores, type Stores } from '../stores.ts';

const HOUR = 3_600_000;
const NAMES = ['app_crash', 'purchase', 'click', 'request_ms', 'request', 'unrelated'];
const GUARDRAILS = ['crash_rate', 'revenue', 'clicks', 'latency'];

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
    name: fc.constantFrom(...NAMES),
    value: fc.option(fc.integer({ min: -5, max: 120 }), { nil: undefined }),
  }),
);

function toWire(e: RawEvent, base: number, i: number): Record<string, unknown> {
  const ts = base + e.ts;
  const timestamp = i % 2 === 0 ? new Date(ts).toISOString() : ts;
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

/**
 * Sends `events` in batches of `sizes` (retrying where `retries` says) and checks the rollout's statistics against
 * a direct computation over the raw events.
 */
async function expectReferenceStats(
  events: RawEvent[],
  sizes: number[],
  retries: boolean[],
  stores?: Stores,
): Promise<void> {
  const base = TEST_T0 + 24 * HOUR;
  const clock = manualClock(base + 6 * HOUR);
  // Units move between arms freely here (the arithmetic, not the assignment check, is under test).
  const t = await buildTestApp({
    clock,
    config: { pruneIntervalMs: 0, checkExposures: false },
    ...(stores === undefined ? {} : { stores }),
  });
  try {
    const { clientKey } = await setUpAnalysis(t.app, t.adminToken);
    const id = await startRollout(t.app, GUARDRAILS);
    const wire = events.map((e, i) => toWire(e as RawEvent, base, i));
    let start = 0;
    let b = 0;
    const sent: { batchId: string; events: unknown[] }[] = [];
    while (start < wire.length) {
      const size = sizes[b % sizes.length] as number;
      const batch = { batchId: `b-${b}`, events: wire.slice(start, start + size) };
      sent.push(batch);
      const reply = await sendBatch(t.app, clientKey, batch);
      expect(reply.status).toBe(202);
      expect(reply.json.duplicate).toBe(false);
      if (retries[b % retries.length]) {
        const again = await sendBatch(t.app, clientKey, batch);
        expect(again.json).toEqual({ ...reply.json, duplicate: true });
      }
      start += size;
      b++;
    }
    // A late retry of the first batch changes nothing either.
    expect((await sendBatch(t.app, clientKey, sent[0])).json.duplicate).toBe(true);
    const evidence = (await t.admin('GET', `/api/v1/rollouts/${id}/evidence`)).json;
    const record = await t.app.dimmer.rollouts.get(id);
    const expected = referenceStats(events as RawEvent[], record.metrics, {
      treatment: 'on',
      control: 'off',
    });
    for (const metric of GUARDRAILS) {
      const cohorts = evidence.evidence.metrics[metric].cohorts;
      for (const arm of ['treatment', 'control'] as const) {
        const want = expected[arm]?.[metric] ?? zeroSums();
        const found = cohorts.find((c: { stage: number }) => c.stage === 0)?.[arm];
        const got = found ?? zeroSums();
        const ratio = record.metrics.find((m) => m.key === metric)?.kind === 'ratio';
        const fields = ['n', 'sumY', 'sumY2', 'sumD', 'sumD2', 'sumYD', 'sumY3'] as const;
        const ratioFields = ['sumY2D', 'sumYD2', 'sumD3'] as const;
        for (const field of ratio ? [...fields, ...ratioFields] : fields)
          expect(got[field], `${metric} ${arm} ${field}`).toBeCloseTo(want[field], 6);
        if (found && !ratio)
          for (const field of ratioFields) expect(got[field], `${metric} ${arm} ${field}`).toBeUndefined();
      }
    }
    expect(evidence.evidence.units).toEqual({
      treatment: expected.treatment?.crash_rate?.n ?? 0,
      control: expected.control?.crash_rate?.n ?? 0,
    });
  } finally {
    await t.close();
  }
}

describe('incremental sufficient statistics', () => {
  it('equal a direct computation over the raw events, whatever the order, batching and retries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 80 }),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        (events, sizes, retries) => expectReferenceStats(events as RawEvent[], sizes, retries),
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it("equal it too when SQLite's events writer thread writes them", async () => {
    // Few units, many small batches: each unit's epochs are read back and moved again and again by the writer
    // thread, units move between arms, and retries are answered from their stored batch ids.
    const [events, sizes, retries] = fc.sample(
      fc.tuple(
        fc.array(eventArb, { minLength: 300, maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 5, maxLength: 10 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 10 }),
      ),
      { numRuns: 1, seed: 11 },
    )[0] as [RawEvent[], number[], boolean[]];
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-aggregation-'));
    try {
      const stores = createSqliteStores(dir);
      await stores.events.ready?.();
      expect(stores.events.offThread).toBe(true);
      await expectReferenceStats(events, sizes, retries, stores);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
