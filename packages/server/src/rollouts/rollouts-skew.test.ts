/**
 * A rollout on skewed revenue through the HTTP API: the server keeps the third-order sums, so the decision
 * gates revenue with the skew-corrected statistic and Cochran's minimum-information rule.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR, MINUTE, seeded, setUpRolloutSim, TrafficSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from '../../testing/test-app.ts';

type SimApp = TestApp & { clock: ReturnType<typeof manualClock> };

const REVENUE = {
  key: 'revenue',
  kind: 'mean',
  event: 'purchase',
  aggregate: 'sum',
  direction: 'lower_is_worse',
  margin: 5,
  window: 'until_now',
  category: 'business',
};
const UNITS = 800;
const BATCH = 400;

let t: SimApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('skewed revenue through the API', () => {
  it('gates with the skew-corrected statistic and the Cochran minimum, not skewness unknown', async () => {
    const clock = manualClock();
    t = (await buildTestApp({ clock })) as SimApp;
    const { clientKey, flag } = await setUpRolloutSim(t, { metrics: [REVENUE] });
    const created = await t.admin('POST', '/api/v1/rollouts', {
      id: 'ro_1',
      flag,
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [
        { reach: 50, minDuration: '1h' },
        { reach: 100, minDuration: '1h' },
      ],
      guardrails: [{ metric: 'revenue' }],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect((await t.admin('POST', '/api/v1/rollouts/ro_1/start', {})).status).toBe(200);

    // Units are served by local evaluation; a quarter of them buy, for a log-normal amount (strong right skew).
    const sim = new TrafficSim(t, { clientKey, flag, seed: 7 });
    const random = seeded(11);
    const units = Array.from({ length: UNITS }, (_, i) => `buyer-${i}`);
    const variants = await sim.variants(units);
    const now = clock.now();
    const events: Json[] = [];
    units.forEach((unit, i) => {
      events.push({ type: 'exposure', flag, variant: variants[i], unit, timestamp: now + i });
      if (random() < 0.25) {
        const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        const value = Math.round(Math.exp(3 + 1.2 * normal) * 100) / 100;
        events.push({ type: 'track', name: 'purchase', unit, value, timestamp: now + i + 1 });
      }
    });
    for (let i = 0; i < events.length; i += BATCH) {
      const reply = await t.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ batchId: `skew-${i}`, events: events.slice(i, i + BATCH) }),
      });
      expect(reply.statusCode, reply.body).toBe(202);
    }
    clock.advance(HOUR + 5 * MINUTE);
    await t.app.dimmer.controller.tick();

    const evidence = (await t.admin('GET', '/api/v1/rollouts/ro_1/evidence')).json;
    const cohort = evidence.evidence.metrics.revenue.cohorts[0];
    for (const arm of ['treatment', 'control'] as const) {
      expect(cohort[arm].n).toBeGreaterThan(300);
      expect(cohort[arm].sumY3).toBeGreaterThan(0);
    }
    const [decision] = (await t.admin('GET', '/api/v1/rollouts/ro_1/decisions?limit=1')).json.decisions;
    expect(decision.metrics.revenue.status).toBe('assessed');
    // The decision's stored evidence keeps the gating statistic of each metric.
    const [stored] = await t.stores.rollouts.listDecisions('ro_1', { limit: 1 });
    expect(stored).toBeDefined();
    const gating = (stored as { evidence: Json }).evidence.metrics.revenue.summary.gating;
    expect(gating.method, JSON.stringify(gating)).toBe('skew-corrected');
    expect(gating.minimum.rule).toBe('cochran');
    // Log-normal with σ = 1.2 behind a 25% purchase rate: the control arm's per-unit skewness is large.
    expect(gating.controlUnitSkewness).toBeGreaterThan(2);
    expect(gating.minimum.required).toBeGreaterThan(100);
  }, 60_000);
});
