/**
 * A/A rollouts (treatment identical to control) over 50 fixed seeds, each through the HTTP API with simulated
 * traffic and the controller, counting false rollbacks. The bound: with α = 0.05 per rollout (one guardrail),
 * the number of false rollbacks out of 50 is at most Binomial(50, 0.05), and P(X ≥ 9) < 0.001, so more than 8
 * would mean the sequential tests spend more than their α. The seeds (and the flag's salt) are fixed, so the
 * test is deterministic: it cannot flake, it can only fail when the statistics change. Full HTTP rollouts (50 of
 * them, in chunks of 10 to keep each test short) over the memory store.
 * Each rollout runs through every stage and the monitored holdback until it completes: the holdback stage's
 * new cohorts have a control arm of 2% of the new units, often without a single event, which is exactly where
 * degenerate variances once produced false rollbacks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MINUTE, readRollout, setUpRolloutSim, TrafficSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, manualClock, type TestApp } from '../../testing/test-app.ts';

const SEEDS = 50;
const CHUNK = 10;
const ALPHA = 0.05;
/** Largest number of false rollbacks accepted out of SEEDS. */
const MAX_FALSE_ROLLBACKS = 8;
const outcomes: { seed: number; status: string; rule: string | null }[] = [];

/** P(X ≥ k) for X ~ Binomial(n, p). */
function binomialTail(n: number, p: number, k: number): number {
  let term = (1 - p) ** n;
  let below = 0;
  for (let i = 0; i < k; i++) {
    below += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return 1 - below;
}

async function aaRollout(seed: number): Promise<{ status: string; rule: string | null }> {
  const clock = manualClock();
  const t = (await buildTestApp({ clock })) as TestApp & { clock: ReturnType<typeof manualClock> };
  try {
    const { clientKey, flag } = await setUpRolloutSim(t);
    const created = await t.admin('POST', '/api/v1/rollouts', {
      id: 'ro_aa',
      flag,
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [
        { reach: 1, minDuration: '1h', minUnitsPerArm: 20, minEventsPerArm: 5 },
        { reach: 10, minDuration: '1h', minUnitsPerArm: 100, minEventsPerArm: 5 },
        { reach: 50, minDuration: '1h', minUnitsPerArm: 200, minEventsPerArm: 5 },
        { reach: 100, minDuration: '1h' },
      ],
      holdback: 2,
      guardrails: [{ metric: 'crash_rate' }],
    });
    if (created.status !== 201) throw new Error(JSON.stringify(created.json));
    await t.admin('POST', '/api/v1/rollouts/ro_aa/start', {});
    const sim = new TrafficSim(t, { clientKey, flag, seed: 1_000 + seed });
    let rollout = await readRollout(t, 'ro_aa');
    // Through every stage, then the monitored holdback until the controller completes the rollout.
    for (let i = 0; i < 40 && (rollout.state === 'running' || rollout.state === 'holding'); i++) {
      await sim.step({
        units: 500,
        rates: { app_crash: { treatment: 0.2, control: 0.2 } },
        durationMs: 15 * MINUTE,
      });
      await t.app.dimmer.controller.tick();
      rollout = await readRollout(t, 'ro_aa');
    }
    return {
      status: rollout.state,
      rule: rollout.state === 'rolled_back' ? rollout.latestDecision.rule : null,
    };
  } finally {
    await t.close();
  }
}

/** Ten full rollouts take ~10 s alone; far longer beside other suites on a busy 2-core machine. */
const CHUNK_TIMEOUT_MS = 180_000;

describe('A/A rollouts over 50 seeds', () => {
  afterAll(() => {
    expect(outcomes).toHaveLength(SEEDS);
  });

  for (let from = 0; from < SEEDS; from += CHUNK) {
    it(
      `seeds ${from} to ${from + CHUNK - 1}`,
      async () => {
        for (let seed = from; seed < from + CHUNK; seed++)
          outcomes.push({ seed, ...(await aaRollout(seed)) });
      },
      CHUNK_TIMEOUT_MS,
    );
  }

  it(`rolls back at most ${MAX_FALSE_ROLLBACKS} of ${SEEDS} (P(Binomial(${SEEDS}, ${ALPHA}) > ${MAX_FALSE_ROLLBACKS}) < 0.001)`, () => {
    expect(binomialTail(SEEDS, ALPHA, MAX_FALSE_ROLLBACKS + 1)).toBeLessThan(0.001);
    const rollbacks = outcomes.filter((o) => o.status === 'rolled_back');
    const byStatus = new Map<string, number>();
    for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    console.info(`A/A outcomes: ${[...byStatus].map(([status, n]) => `${status} ${n}`).join(', ')}`);
    expect(rollbacks.length, JSON.stringify(rollbacks)).toBeLessThanOrEqual(MAX_FALSE_ROLLBACKS);
    // The rollouts did run their course: most went through the holdback to completion.
    expect(outcomes.filter((o) => o.status === 'completed').length).toBeGreaterThan(SEEDS / 2);
  });
});
