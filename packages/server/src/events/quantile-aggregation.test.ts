import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RawEvent } from '../../testing/analysis-harness.ts';
import {
  expectQuantilesOf,
  ingestQuantileEvents,
  quantileEventArb,
  toWire,
} from '../../testing/quantile-sim.ts';
import { TEST_T0 } from '../../testing/test-app.ts';
import { createSqliteStores } from '../stores.ts';

const HOUR = 3_600_000;

describe('quantile statistics at ingestion', () => {
  it('merged across batches (with retries) equal the one-shot histogram of the raw events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(quantileEventArb, { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        async (events, sizes, retries) => {
          const base = TEST_T0 + 24 * HOUR;
          const wire = events.map((e) => toWire(e as RawEvent, base));
          const batched = await ingestQuantileEvents(wire, { sizes, retries }, base + 6 * HOUR);
          expectQuantilesOf(batched.evidence, batched.metrics, events as RawEvent[], 'batched');
          const single = await ingestQuantileEvents(
            wire,
            { sizes: [wire.length], retries: [false] },
            base + 6 * HOUR,
          );
          expectQuantilesOf(single.evidence, single.metrics, events as RawEvent[], 'one batch');
        },
      ),
      { numRuns: 12 },
    );
  }, 180_000);

  it('are the same on SQLite', async () => {
    const events = fc.sample(fc.array(quantileEventArb, { minLength: 150, maxLength: 150 }), {
      numRuns: 1,
      seed: 7,
    })[0] as RawEvent[];
    const base = TEST_T0 + 24 * HOUR;
    const wire = events.map((e) => toWire(e, base));
    const run = await ingestQuantileEvents(
      wire,
      { sizes: [7, 1, 30, 12], retries: [false, true] },
      base + 6 * HOUR,
      createSqliteStores(':memory:'),
    );
    expectQuantilesOf(run.evidence, run.metrics, events, 'sqlite');
    // With a data directory the events writer thread writes them.
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-quantile-'));
    try {
      const stores = createSqliteStores(dir);
      await stores.events.ready?.();
      expect(stores.events.offThread).toBe(true);
      const threaded = await ingestQuantileEvents(
        wire,
        { sizes: [7, 1, 30, 12, 2, 3], retries: [false, true] },
        base + 6 * HOUR,
        stores,
      );
      expectQuantilesOf(threaded.evidence, threaded.metrics, events, 'sqlite, events writer thread');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
