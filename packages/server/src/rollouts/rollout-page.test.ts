/**
 * What the rollout page reads, through the HTTP API: the decision log as changes (folded holds, incremental
 * reads after a cursor, the action filter), the chart over the whole rollout (downsampled, incremental, the
 * boundary always drawn), the last action and who took it, the deciding test's interval on the log-ratio
 * scale, and the plan dry run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CRASH_METRIC, MINUTE, readRollout, setUpRolloutSim, TrafficSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from '../../testing/test-app.ts';

type SimApp = TestApp & { clock: ReturnType<typeof manualClock> };

let t: SimApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function app(): Promise<SimApp> {
  t = (await buildTestApp({ clock: manualClock() })) as SimApp;
  return t;
}

const STAGES = [
  { reach: 1, minDuration: '1d', minUnitsPerArm: 20, minEventsPerArm: 5 },
  { reach: 10, minDuration: '1h', minUnitsPerArm: 100, minEventsPerArm: 5 },
  { reach: 100, minDuration: '1h' },
];

function plan(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'ro_1',
    flag: 'new-checkout',
    environment: 'production',
    treatment: 'on',
    control: 'off',
    stages: STAGES,
    guardrails: [{ metric: 'crash_rate' }],
    expectedUnitsPerDay: 288_000,
    ...overrides,
  };
}

/** Steps of 15 simulated minutes with a look after each, until the rollout leaves `running` or `steps` ran. */
async function run(a: SimApp, sim: TrafficSim, rates: { treatment: number; control: number }, steps: number) {
  for (let i = 0; i < steps; i++) {
    await sim.step({ units: 3_000, rates: { app_crash: rates }, durationMs: 15 * MINUTE });
    await a.app.dimmer.controller.tick();
    if ((await readRollout(a, 'ro_1')).state !== 'running') break;
  }
  return readRollout(a, 'ro_1');
}

describe('the rollout page through the API', () => {
  it('keeps the log as changes, reads what changed after a cursor, and charts every look with its boundary', async () => {
    const a = await app();
    const { clientKey, flag } = await setUpRolloutSim(a);
    expect((await a.admin('POST', '/api/v1/rollouts', plan())).status).toBe(201);
    expect((await a.admin('POST', '/api/v1/rollouts/ro_1/start', {})).status).toBe(200);
    const sim = new TrafficSim(a, { clientKey, flag, seed: 2 });
    // Healthy looks first: the stage's one-day minimum holds them, one entry with a growing count.
    await run(a, sim, { treatment: 0.3, control: 0.3 }, 6);
    const first = (await a.admin('GET', '/api/v1/rollouts/ro_1/decisions')).json;
    expect(first.decisions).toHaveLength(1);
    expect(first.decisions[0]).toMatchObject({ action: 'hold', rule: 'min_duration', count: 6 });
    expect(Date.parse(first.decisions[0].lastAt) - Date.parse(first.decisions[0].firstAt)).toBe(75 * MINUTE);
    const cursor = first.cursor;
    // Nothing changed: an incremental read is empty and keeps the cursor.
    const none = (await a.admin('GET', `/api/v1/rollouts/ro_1/decisions?after=${cursor}`)).json;
    expect(none).toMatchObject({ decisions: [], cursor });
    const chartBefore = (await a.admin('GET', '/api/v1/rollouts/ro_1/chart')).json;
    expect(chartBefore.total).toBe(6);

    // Then a regression: the controller rolls back.
    const rolled = await run(a, sim, { treatment: 0.42, control: 0.3 }, 96);
    expect(rolled.state).toBe('rolled_back');
    expect(rolled.health).toBe('failing');
    expect(rolled.lastAction).toMatchObject({ actor: 'controller', by: 'controller', action: 'rollback' });
    expect(rolled.lastAction.reason).toContain('crash_rate');
    expect(rolled.lastAction.reason).toBe(rolled.latestDecision.reason);

    // The incremental read brings the updated hold entry (its count grew) and the rollback, in write order.
    const changed = (await a.admin('GET', `/api/v1/rollouts/ro_1/decisions?after=${cursor}`)).json;
    expect(changed.decisions.map((d: Json) => d.action)).toEqual(['hold', 'rollback']);
    expect(changed.decisions[0].id).toBe(first.decisions[0].id);
    expect(changed.decisions[0].count).toBeGreaterThan(6);
    expect(Number(changed.cursor)).toBeGreaterThan(Number(cursor));
    const rollbacks = (await a.admin('GET', '/api/v1/rollouts/ro_1/decisions?action=rollback')).json;
    expect(rollbacks.decisions.map((d: Json) => d.action)).toEqual(['rollback']);
    const bad = await a.admin('GET', '/api/v1/rollouts/ro_1/decisions?action=explode');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('VALIDATION_FAILED');

    // The deciding test's interval: the rollback boundary, on the log-ratio scale (never below −100%).
    const look = rolled.latestDecision.metrics.crash_rate;
    expect(look.relativeChange).toMatchObject({ test: 'rollback' });
    expect(look.relativeChange.boundary).toBe(look.summary.deterioration.boundary);
    expect(look.relativeChange.lower).toBeGreaterThan(-1);
    expect(look.relativeChange.lower).toBeLessThan(look.relativeChange.lift);
    expect(look.relativeChange.upper).toBeGreaterThan(look.relativeChange.lift);
    expect(rolled.latestDecision.reason).toContain('rollback-test interval');

    // The chart: every look of the rollout, the boundary drawn at each (carried over looks without α).
    const chart = (await a.admin('GET', '/api/v1/rollouts/ro_1/chart')).json;
    const looks = chart.total as number;
    expect(looks).toBeGreaterThan(6);
    expect(chart.at).toHaveLength(looks);
    expect(chart.downsampled).toBe(false);
    expect(chart.at[0]).toBe(chartBefore.at[0]);
    const crash = chart.metrics.crash_rate;
    expect(crash.crossed[looks - 1]).toBe(true);
    expect(chart.action[looks - 1]).toBe('rollback');
    const firstBoundary = crash.rollback.findIndex((b: number | null) => b !== null);
    expect(firstBoundary).toBeGreaterThanOrEqual(0);
    expect(crash.rollback.slice(firstBoundary).every((b: number | null) => b !== null && b > 0)).toBe(true);
    // Incremental: only the looks after the cursor, with the boundary carried into them.
    const since = (await a.admin('GET', `/api/v1/rollouts/ro_1/chart?after=${chartBefore.cursor}`)).json;
    expect(since.total).toBe(looks - 6);
    expect(since.at).toEqual(chart.at.slice(6));
    expect(since.metrics.crash_rate.rollback).toEqual(crash.rollback.slice(6));
    // Downsampled: at most the budget, keeping the first and the last look and the crossing.
    const small = (await a.admin('GET', '/api/v1/rollouts/ro_1/chart?points=5')).json;
    expect(small.downsampled).toBe(true);
    expect(small.at.length).toBeLessThanOrEqual(5);
    expect(small.at[0]).toBe(chart.at[0]);
    expect(small.at[small.at.length - 1]).toBe(chart.at[looks - 1]);
    expect(small.metrics.crash_rate.crossed.at(-1)).toBe(true);
  }, 60_000);

  it("names the person who rolled back, and a person's rollback does not read as failing metrics", async () => {
    const a = await app();
    const { clientKey, flag } = await setUpRolloutSim(a);
    expect((await a.admin('POST', '/api/v1/rollouts', plan())).status).toBe(201);
    const started = (await a.admin('POST', '/api/v1/rollouts/ro_1/start', {})).json;
    expect(started.lastAction).toMatchObject({ by: 'person', action: 'start', reason: null });
    expect(started.lastAction.actor).toMatch(/^token:/);
    const sim = new TrafficSim(a, { clientKey, flag, seed: 3 });
    await run(a, sim, { treatment: 0.3, control: 0.3 }, 3);
    const back = (await a.admin('POST', '/api/v1/rollouts/ro_1/rollback', {})).json;
    expect(back.state).toBe('rolled_back');
    expect(back.lastAction).toMatchObject({ by: 'person', action: 'rollback', stage: 0, reach: 0 });
    expect(back.health).not.toBe('failing');
    const listed = (await a.admin('GET', '/api/v1/rollouts')).json.rollouts[0];
    expect(listed.lastAction.actor).toBe(back.lastAction.actor);
  }, 60_000);

  it('plans a rollout without storing it: the same errors as create, the forecast, schedule and warnings', async () => {
    const a = await app();
    await setUpRolloutSim(a, { surfaceRequires: ['crash_rate'] });
    // The same validation errors as POST /rollouts, word for word.
    for (const body of [
      plan({ stages: [{ reach: 10 }, { reach: 5 }] }),
      plan({ flag: 'nope' }),
      plan({ guardrails: [{ metric: 'crash_rate', required: false }] }),
      plan({ expectedUnitsPerDay: -1 }),
    ]) {
      const dry = await a.admin('POST', '/api/v1/rollouts/plan', body);
      const real = await a.admin('POST', '/api/v1/rollouts', body);
      expect(dry.status).toBeGreaterThanOrEqual(400);
      expect(dry).toEqual(real);
    }
    const preview = await a.admin(
      'POST',
      '/api/v1/rollouts/plan',
      plan({ guardrails: [], expectedBaselines: { crash_rate: { mean: 0.02 } } }),
    );
    expect(preview.status, JSON.stringify(preview.json)).toBe(200);
    expect((await a.admin('GET', '/api/v1/rollouts')).json.rollouts).toEqual([]);
    const p = preview.json;
    expect(p.requiredGuardrails).toEqual([{ metric: 'crash_rate', margin: CRASH_METRIC.margin }]);
    expect(p.plan.guardrails.map((g: Json) => [g.metric, g.required])).toEqual([['crash_rate', true]]);
    expect(p.plan.stages[0].minDuration).toBe(24 * 60 * MINUTE);
    expect(p.flagEnabled).toBe(true);
    expect(p.schedule).toHaveLength(3);
    expect(p.schedule[0]).toMatchObject({ index: 0, reach: 1, startsAfterMs: 0 });
    expect(p.schedule[1].startsAfterMs).toBe(p.schedule[0].endsAfterMs);
    expect(p.schedule[0].detects.crash_rate).toBeGreaterThan(0);
    expect(p.forecast.traffic).toMatchObject({ unitsPerDay: 288_000, source: 'expected' });
    // Little traffic: the final gate is short of power, and the warning says so.
    const thin = (
      await a.admin(
        'POST',
        '/api/v1/rollouts/plan',
        plan({ expectedUnitsPerDay: 10_000, expectedBaselines: { crash_rate: { mean: 0.02 } } }),
      )
    ).json;
    expect(thin.warnings.map((w: Json) => w.code)).toContain('low_power');
    // The flag off in the environment: a warning naming it.
    await a.admin('POST', '/api/v1/flags/new-checkout/environments/production/disable', {});
    const off = (await a.admin('POST', '/api/v1/rollouts/plan', plan())).json;
    expect(off.flagEnabled).toBe(false);
    expect(off.warnings).toContainEqual({
      code: 'flag_disabled',
      message: expect.stringContaining('new-checkout is off in production'),
    });
    // An id in use is the same CONFLICT as on create.
    expect((await a.admin('POST', '/api/v1/rollouts', plan())).status).toBe(201);
    const taken = await a.admin('POST', '/api/v1/rollouts/plan', plan({ flag: 'new-checkout' }));
    expect(taken.status).toBe(409);
    expect(taken).toEqual(await a.admin('POST', '/api/v1/rollouts', plan()));
  }, 60_000);
});
