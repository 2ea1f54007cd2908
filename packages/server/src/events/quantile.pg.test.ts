/**
 * Quantile metrics on PostgreSQL: the histograms kept at ingestion (batched, with retries) equal the one-shot
 * computation over the raw events, and a rollout over them rolls back a p99 regression but not identical arms.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawEvent } from '../../testing/analysis-harness.ts';
import {
  assertPostgresReachable,
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import {
  expectQuantilesOf,
  ingestQuantileEvents,
  quantileEventArb,
  runLatencyRollout,
  toWire,
} from '../../testing/quantile-sim.ts';
import { TEST_T0 } from '../../testing/test-app.ts';
import { createPostgresStores } from '../stores.ts';

const HOUR = 3_600_000;
const skipReason = postgresSkipReason();

if (skipReason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
  console.warn(skipReason);
  describe.skip('quantile metrics on postgres', () => {
    it('needs DIMMER_TEST_DATABASE_URL', () => undefined);
  });
} else {
  const url = TEST_DATABASE_URL as string;
  const schemas: string[] = [];
  const stores = () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    return createPostgresStores({ connectionString: url, schema });
  };

  beforeAll(async () => {
    await assertPostgresReachable(url);
  });
  afterAll(async () => {
    await dropSchemas(url, schemas);
  });

  describe('quantile metrics on postgres', () => {
    it('keep histograms that equal the one-shot computation, across batches and retries', async () => {
      for (const seed of [11, 12, 13]) {
        const [events] = fc.sample(fc.array(quantileEventArb, { minLength: 120, maxLength: 120 }), {
          numRuns: 1,
          seed,
        }) as RawEvent[][];
        const base = TEST_T0 + 24 * HOUR;
        const wire = (events as RawEvent[]).map((e) => toWire(e, base));
        const run = await ingestQuantileEvents(
          wire,
          { sizes: [5, 1, 17, 40], retries: [true, false, false] },
          base + 6 * HOUR,
          await stores(),
        );
        expectQuantilesOf(run.evidence, run.metrics, events as RawEvent[], `postgres seed ${seed}`);
      }
    }, 120_000);

    it('roll back a p99 regression whose mean barely moves, and not identical arms', async () => {
      const regressed = await runLatencyRollout({
        regressed: true,
        guardrails: ['page_load_p99', 'request_p99'],
        steps: 8,
        seed: 81,
        stores,
      });
      expect(regressed.rollout.state, regressed.rollout.latestDecision?.reason).toBe('rolled_back');
      expect(regressed.rollout.latestDecision.rule).toBe('deterioration');
      expect(regressed.rollout.latestDecision.reason).toMatch(/p99 is worse in treatment/);
      const aa = await runLatencyRollout({
        regressed: false,
        guardrails: ['page_load_p99', 'request_p99'],
        steps: 5,
        seed: 82,
        stores,
      });
      expect(aa.rollout.state, aa.rollout.latestDecision?.reason).toBe('running');
      expect(aa.rollout.latestDecision.metrics.request_p99.quantile.minimumInformationMet).toBe(true);
    }, 180_000);
  });
}
