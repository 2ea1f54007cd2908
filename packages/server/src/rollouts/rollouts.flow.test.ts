/**
 * Guarded rollouts end to end through the HTTP API, with simulated traffic (exposures and crashes sent to
 * `/v1/events` after local evaluation on `/sdk/v1/config`), a fake clock and `controller.tick()`. Seeds are
 * fixed, so every run takes the same path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  CRASH_METRIC,
  HOUR,
  MINUTE,
  readRollout,
  setUpRolloutSim,
  TrafficSim,
  treatmentBuckets,
} from '../../testing/rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from '../../testing/test-app.ts';

type SimApp = TestApp & { clock: ReturnType<typeof manualClock> };

let t: SimApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function app(): Promise<SimApp> {
  const clock = manualClock();
  t = (await buildTestApp({ clock })) as SimApp;
  return t;
}

const STAGES = [
  { reach: 1, minDuration: '1h', minUnitsPerArm: 20, minEventsPerArm: 5 },
  { reach: 10, minDuration: '1h', minUnitsPerArm: 100, minEventsPerArm: 5 },
  { reach: 50, minDuration: '1h', minUnitsPerArm: 200, minEventsPerArm: 5 },
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
    holdback: 2,
    guardrails: [{ metric: 'crash_rate' }],
    expectedUnitsPerDay: 72_000,
    ...overrides,
  };
}

async function createAndStart(a: SimApp, body: Record<string, unknown>): Promise<Json> {
  const created = await a.admin('POST', '/api/v1/rollouts', body);
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const started = await a.admin('POST', `/api/v1/rollouts/${body.id}/start`, {});
  expect(started.status, JSON.stringify(started.json)).toBe(200);
  return created.json;
}

/** Runs steps of 15 simulated minutes, a look after each, until `done` says so or `maxSteps` ran. */
async function run(
  a: SimApp,
  sim: TrafficSim,
  options: {
    unitsPerHour: number;
    rates: { treatment: number; control: number };
    maxSteps: number;
    done: (rollout: Json) => boolean;
  },
): Promise<Json> {
  let rollout = await readRollout(a, 'ro_1');
  for (let i = 0; i < options.maxSteps && !options.done(rollout); i++) {
    await sim.step({
      units: options.unitsPerHour / 4,
      rates: { app_crash: options.rates },
      durationMs: 15 * MINUTE,
    });
    await a.app.dimmer.controller.tick();
    rollout = await readRollout(a, 'ro_1');
  }
  return rollout;
}

describe('guarded rollouts through the API', () => {
  it('advances a healthy change through every stage to 100% with a 2% holdback', async () => {
    const a = await app();
    const { clientKey, flag } = await setUpRolloutSim(a);
    const created = await createAndStart(a, plan());
    expect(created.forecast.traffic).toMatchObject({ unitsPerDay: 72_000, source: 'expected' });
    expect(created.forecast.forecast.stages).toHaveLength(4);
    const sim = new TrafficSim(a, { clientKey, flag, seed: 1 });
    const rollout = await run(a, sim, {
      unitsPerHour: 3_000,
      rates: { treatment: 0.2, control: 0.2 },
      maxSteps: 40,
      done: (r) => r.state !== 'running',
    });
    expect(rollout.state, rollout.latestDecision?.reason).toBe('holding');
    expect(rollout.reach).toBe(98);
    const advances = (await a.admin('GET', '/api/v1/rollouts/ro_1/decisions?limit=500')).json.decisions
      .filter((d: Json) => d.applied)
      .reverse();
    expect(advances.map((d: Json) => [d.action, d.stageIndex, d.toStage])).toEqual([
      ['advance', 0, 1],
      ['advance', 1, 2],
      ['advance', 2, 3],
    ]);
    // The last step needed every guardrail shown non-inferior, with its evidence stored.
    expect(advances[2].metrics.crash_rate.summary.nonInferior).toBe(true);
    expect(advances[2].rule).toBe('all_clear');
    // Reach 98: treatment [0, 980000), the 2% holdback stays on control and monitored.
    expect(treatmentBuckets(await sim.snapshot(), flag)).toBe(980_000);
    const audit = (await a.admin('GET', '/api/v1/audit?resourceType=rollout&actor=controller')).json.entries;
    expect(audit.filter((e: Json) => e.action === 'rollout.decision').length).toBeGreaterThanOrEqual(3);
    // Prometheus: the decision counter, the rollout state gauge and the ingestion counters.
    const metrics = (await a.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain(
      'dimmer_rollout_decisions_total{action="advance",rule="all_clear",applied="true"} 3',
    );
    expect(metrics).toContain('dimmer_rollouts{status="holding"} 1');
    expect(metrics).toMatch(/dimmer_ingest_events_total [1-9]\d+/);
    // Every transaction is timed: the histogram counts them all, and the longest one is shown.
    const transactions = /dimmer_ingest_transactions_total (\d+)/.exec(metrics)?.[1];
    expect(metrics).toContain(`dimmer_ingest_transaction_seconds_count ${transactions}`);
    expect(metrics).toMatch(/dimmer_ingest_transaction_max_seconds [0-9.e-]+/);
  }, 30_000);

  it('rolls a +30% crash-rate regression back during the 1% stage; the SDK config serves reach 0 at once', async () => {
    const a = await app();
    const { clientKey, flag } = await setUpRolloutSim(a);
    await createAndStart(
      a,
      plan({
        stages: [{ ...STAGES[0], minDuration: '1d' }, ...STAGES.slice(1)],
        expectedUnitsPerDay: 288_000,
      }),
    );
    const sim = new TrafficSim(a, { clientKey, flag, seed: 2 });
    expect(treatmentBuckets(await sim.snapshot(), flag)).toBe(10_000);
    const rollout = await run(a, sim, {
      unitsPerHour: 12_000,
      rates: { treatment: 0.39, control: 0.3 },
      maxSteps: 96,
      done: (r) => r.state !== 'running',
    });
    expect(rollout.state).toBe('rolled_back');
    expect(rollout.reach).toBe(0);
    expect(rollout.health).toBe('failing');
    const decision = rollout.latestDecision;
    expect(decision).toMatchObject({ action: 'rollback', applied: true, stageIndex: 0, reach: 1 });
    expect(['deterioration', 'canary_guard']).toContain(decision.rule);
    expect(decision.reason).toContain('crash_rate');
    const look = decision.metrics.crash_rate.summary;
    expect(look.relativeLift).toBeGreaterThan(0);
    expect(look.nTreatment).toBeGreaterThan(0);
    // The rollout rule's treatment range is empty right after the look: every unit is served control.
    expect(treatmentBuckets(await sim.snapshot(), flag)).toBe(0);
    expect(new Set(await sim.variants(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']))).toEqual(new Set(['off']));
    // Nothing happens at later looks: a rolled-back rollout is not monitored.
    expect(await a.app.dimmer.controller.tick()).toEqual([]);
  }, 30_000);

  it('holds while a required surface metric has no events, and says so', async () => {
    const a = await app();
    const latency = {
      key: 'latency',
      kind: 'mean',
      event: 'request_ms',
      aggregate: 'sum',
      direction: 'higher_is_worse',
      margin: 0.1,
      window: 'until_now',
      category: 'experience',
    };
    const { clientKey, flag } = await setUpRolloutSim(a, {
      metrics: [CRASH_METRIC, latency],
      surfaceRequires: ['latency'],
    });
    // The surface's metric cannot be removed from a rollout.
    const optional = await a.admin(
      'POST',
      '/api/v1/rollouts',
      plan({ guardrails: [{ metric: 'crash_rate' }, { metric: 'latency', required: false }] }),
    );
    expect(optional.status).toBe(400);
    expect(optional.json.error.details.issues).toContainEqual({
      path: 'guardrails[1].required',
      message: expect.stringContaining('required by the flag'),
    });
    const created = await createAndStart(a, plan());
    expect(created.guardrails.map((g: Json) => [g.metric, g.required])).toEqual([
      ['crash_rate', false],
      ['latency', true],
    ]);
    const sim = new TrafficSim(a, { clientKey, flag, seed: 4 });
    const rollout = await run(a, sim, {
      unitsPerHour: 3_000,
      rates: { treatment: 0.2, control: 0.2 },
      maxSteps: 12,
      done: () => false,
    });
    // Past the stage's minimum duration a required metric without data is an alarm, not a quiet warning.
    expect(rollout).toMatchObject({ state: 'running', stage: 0, reach: 1, health: 'alarm' });
    expect(rollout.alarm.reasons.map((r: Json) => r.cause)).toEqual(['missing_metric']);
    expect(rollout.alarm.reasons[0].message).toContain('latency');
    expect(rollout.latestDecision).toMatchObject({ action: 'hold', rule: 'missing_data', applied: false });
    expect(rollout.latestDecision.reason).toContain('No usable data yet for required metric latency');
    expect(rollout.latestDecision.metrics.latency.status).toBe('no_data');
    expect(rollout.latestDecision.checks.elapsedMs).toBeGreaterThan(HOUR);
  }, 30_000);

  it('trips the sample-ratio check on a 54/46 split of a 50/50 stage and holds', async () => {
    const a = await app();
    const { clientKey, flag } = await setUpRolloutSim(a);
    await createAndStart(
      a,
      plan({
        stages: [{ reach: 50, minDuration: '1h', minUnitsPerArm: 100, minEventsPerArm: 5 }, { reach: 100 }],
      }),
    );
    const sim = new TrafficSim(a, { clientKey, flag, seed: 5 });
    // A broken client loses 15% of its control units' exposures: 54% treatment instead of 50%.
    const drop = (served: string, u: number) => served === 'off' && u < 0.15;
    let rollout = await readRollout(a, 'ro_1');
    for (let i = 0; i < 40 && rollout.latestDecision?.rule !== 'srm'; i++) {
      await sim.step({
        units: 3_000,
        rates: { app_crash: { treatment: 0.2, control: 0.2 } },
        durationMs: 15 * MINUTE,
        drop,
      });
      await a.app.dimmer.controller.tick();
      rollout = await readRollout(a, 'ro_1');
    }
    const share = (sim.served.on ?? 0) / ((sim.served.on ?? 0) + (sim.served.off ?? 0));
    expect(share).toBeGreaterThan(0.51);
    expect(rollout).toMatchObject({ state: 'running', stage: 0, reach: 50, health: 'warning' });
    expect(rollout.latestDecision).toMatchObject({ action: 'hold', rule: 'srm', applied: false });
    expect(rollout.latestDecision.srm.mismatch).toBe(true);
    expect(rollout.latestDecision.srm.pValue).toBeLessThan(0.001);
    expect(rollout.latestDecision.reason).toContain('Sample-ratio mismatch');
  }, 30_000);

  it('in manual mode shows the recommendation and changes nothing until a person acts', async () => {
    const a = await app();
    const { clientKey, flag } = await setUpRolloutSim(a);
    await createAndStart(a, plan({ mode: 'manual' }));
    const sim = new TrafficSim(a, { clientKey, flag, seed: 6 });
    let rollout = await run(a, sim, {
      unitsPerHour: 3_000,
      rates: { treatment: 0.2, control: 0.2 },
      maxSteps: 12,
      done: (r) => r.recommendation !== null,
    });
    expect(rollout.recommendation).toMatchObject({ action: 'advance', rule: 'all_clear', toStage: 1 });
    expect(rollout.recommendation.reason).toContain('manual mode: waiting for a person');
    expect(rollout.latestDecision).toMatchObject({ action: 'advance', applied: false });
    // More looks: the recommendation stays, reach does not move, the flag is untouched.
    for (let i = 0; i < 3; i++) {
      await sim.step({
        units: 750,
        rates: { app_crash: { treatment: 0.2, control: 0.2 } },
        durationMs: 15 * MINUTE,
      });
      await a.app.dimmer.controller.tick();
    }
    rollout = await readRollout(a, 'ro_1');
    expect(rollout).toMatchObject({ state: 'running', stage: 0, reach: 1 });
    expect(rollout.recommendation?.action).toBe('advance');
    expect(treatmentBuckets(await sim.snapshot(), flag)).toBe(10_000);
    // Saying the same thing again is not news: one audit entry for the recommendation.
    const audit = (await a.admin('GET', '/api/v1/audit?resourceType=rollout&actor=controller')).json.entries;
    expect(audit.filter((e: Json) => e.after?.decision?.action === 'advance')).toHaveLength(1);
    // A person follows it.
    const advanced = await a.admin('POST', '/api/v1/rollouts/ro_1/advance', {});
    expect(advanced.status).toBe(200);
    expect(advanced.json).toMatchObject({ stage: 1, reach: 10, recommendation: null });
    expect(treatmentBuckets(await sim.snapshot(), flag)).toBe(100_000);
    const people = (await a.admin('GET', '/api/v1/audit?resourceType=rollout&key=ro_1')).json.entries;
    expect(people[0]).toMatchObject({ action: 'rollout.advance', actor: expect.stringMatching(/^token:/) });
  }, 30_000);

  it('rejects bad plans with clear errors and changes nothing', async () => {
    const a = await app();
    await setUpRolloutSim(a);
    const before = {
      flag: (await a.admin('GET', '/api/v1/flags/new-checkout')).json,
      audit: (await a.admin('GET', '/api/v1/audit?limit=200')).json.entries.length,
      envs: (await a.admin('GET', '/api/v1/environments')).json,
    };
    const down = await a.admin(
      'POST',
      '/api/v1/rollouts',
      plan({ stages: [{ reach: 10 }, { reach: 5 }, { reach: 100 }] }),
    );
    expect(down.status).toBe(400);
    expect(down.json.error.code).toBe('VALIDATION_FAILED');
    expect(down.json.error.details.issues).toContainEqual({
      path: 'stages[1].reach',
      message: expect.stringContaining('reach only rises'),
    });
    const variant = await a.admin('POST', '/api/v1/rollouts', plan({ treatment: 'blue' }));
    expect(variant.status).toBe(400);
    expect(variant.json.error.details.issues).toContainEqual({
      path: 'treatment',
      message: expect.stringContaining(
        'expected a variant of flag new-checkout (off, on), got the string "blue"',
      ),
    });
    const unknownField = await a.admin('POST', '/api/v1/rollouts', plan({ speed: 'fast' }));
    expect(unknownField.status).toBe(400);
    const metric = await a.admin('POST', '/api/v1/rollouts', plan({ guardrails: [{ metric: 'nope' }] }));
    expect(metric.json.error.details.issues[0].path).toBe('guardrails[0].metric');
    expect((await a.admin('GET', '/api/v1/rollouts')).json.rollouts).toEqual([]);
    expect((await a.admin('GET', '/api/v1/flags/new-checkout')).json).toEqual(before.flag);
    expect((await a.admin('GET', '/api/v1/audit?limit=200')).json.entries).toHaveLength(before.audit);
    expect((await a.admin('GET', '/api/v1/environments')).json).toEqual(before.envs);

    await createAndStart(a, plan());
    const flagAfterStart = (await a.admin('GET', '/api/v1/flags/new-checkout')).json;
    const second = await a.admin('POST', '/api/v1/rollouts', plan({ id: 'ro_2' }));
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe('CONFLICT');
    expect(second.json.error.message).toContain('already has an active rollout (ro_1, running)');
    expect((await a.admin('GET', '/api/v1/rollouts')).json.rollouts.map((r: Json) => r.id)).toEqual(['ro_1']);
    expect((await a.admin('GET', '/api/v1/flags/new-checkout')).json).toEqual(flagAfterStart);
    // An action the state machine does not allow is refused too.
    const again = await a.admin('POST', '/api/v1/rollouts/ro_1/start', {});
    expect(again.status).toBe(409);
    expect(again.json.error.message).toContain('start needs a draft rollout');
  });

  it('resumes after a rollback with a new attempt on the same salt: the same units return', async () => {
    const a = await app();
    const { clientKey, flag } = await setUpRolloutSim(a);
    await createAndStart(a, plan({ stages: [{ reach: 10 }, { reach: 50 }, { reach: 100 }], holdback: 0 }));
    const sim = new TrafficSim(a, { clientKey, flag, seed: 7 });
    const sample = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);
    const treated = (variants: string[]) => sample.filter((_, i) => variants[i] === 'on');
    const before = treated(await sim.variants(sample));
    expect(before.length).toBeGreaterThan(120);
    expect(before.length).toBeLessThan(280);
    const rolled = await a.admin('POST', '/api/v1/rollouts/ro_1/rollback', {});
    expect(rolled.json).toMatchObject({ state: 'rolled_back', reach: 0, attempt: 1 });
    expect(treated(await sim.variants(sample))).toEqual([]);
    const resumed = await a.admin('POST', '/api/v1/rollouts/ro_1/resume', {});
    expect(resumed.json).toMatchObject({ state: 'running', stage: 0, reach: 10, attempt: 2 });
    expect(treated(await sim.variants(sample))).toEqual(before);
    expect((await a.admin('GET', '/api/v1/rollouts/ro_1/evidence')).json.attempt).toBe(2);
  });
});
