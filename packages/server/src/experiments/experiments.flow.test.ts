/**
 * Experiments (A/B tests) end to end through the HTTP API with a fake clock: create with the sample plan, the
 * refusals that name their field and change nothing, the rule on the flag through start, coverage, stop and
 * ship (every unit that saw the winner keeps it in the rollout), the results and the controller's looks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { CRASH_METRIC, HOUR, setUpRolloutSim, TrafficSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from '../../testing/test-app.ts';
import { createPostgresStores, createSqliteStores, type Stores } from '../stores.ts';

type SimApp = TestApp & { clock: ReturnType<typeof manualClock> };

let t: SimApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

const CONVERSION_METRIC = {
  key: 'conversion',
  kind: 'proportion',
  event: 'purchase',
  direction: 'lower_is_worse',
  margin: 0.05,
  window: 'until_now',
  category: 'business',
};

const UNITS = Array.from({ length: 20_000 }, (_, i) => `unit-${i}`);

async function setUp(stores?: Stores): Promise<{ a: SimApp; sim: TrafficSim }> {
  const clock = manualClock();
  const a = (await buildTestApp({ clock, ...(stores !== undefined ? { stores } : {}) })) as SimApp;
  t = a;
  const { clientKey, flag } = await setUpRolloutSim(a, { metrics: [CRASH_METRIC, CONVERSION_METRIC] });
  return { a, sim: new TrafficSim(a, { clientKey, flag, seed: 1 }) };
}

function plan(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'ex_1',
    flag: 'new-checkout',
    environment: 'production',
    control: 'off',
    variants: [
      { variant: 'off', weight: 50 },
      { variant: 'on', weight: 50 },
    ],
    coverage: 20,
    successMetrics: [{ metric: 'conversion', mde: 0.05 }],
    guardrails: [{ metric: 'crash_rate' }],
    expectedUnitsPerDay: 50_000,
    expectedBaselines: { conversion: { mean: 0.1 } },
    ...overrides,
  };
}

async function flagRules(a: SimApp): Promise<Json[]> {
  const flag = await a.admin('GET', '/api/v1/flags/new-checkout');
  return flag.json.environments.production.rules;
}

function count(variants: readonly string[], variant: string): number {
  return variants.filter((v) => v === variant).length;
}

/** Start, coverage, a second experiment refused, ship: the rollout takes the experiment's place on the flag. */
async function shipFlow({ a, sim }: { a: SimApp; sim: TrafficSim }): Promise<void> {
  const guard = await a.admin('PUT', '/api/v1/flags/new-checkout/environments/production', {
    enabled: true,
    rules: [{ id: 'staff', when: { attr: 'staff', op: 'eq', value: true }, serve: { variant: 'off' } }],
  });
  expect(guard.status, JSON.stringify(guard.json)).toBe(200);
  expect((await a.admin('POST', '/api/v1/experiments', plan())).status).toBe(201);
  expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
  a.clock.advance(HOUR);
  const before = await sim.variants(UNITS);
  const sawWinner = UNITS.filter((_, i) => before[i] === 'on');
  expect(sawWinner.length).toBeGreaterThan(0);

  const shipped = await a.admin('POST', '/api/v1/experiments/ex_1/ship', {
    variant: 'on',
    rolloutId: 'ro_ship',
  });
  expect(shipped.status, JSON.stringify(shipped.json)).toBe(200);
  expect(shipped.json.experiment.status).toBe('shipped');
  expect(shipped.json.experiment.rollout).toBe('ro_ship');
  expect(shipped.json.rollout.state).toBe('running');
  expect(shipped.json.rollout.treatment).toBe('on');
  const ruleIds = (await flagRules(a)).map((r: Json) => r.id);
  expect(ruleIds).toEqual(['staff', 'rollout-ro_ship']);
  const after = await sim.variants(sawWinner);
  expect(after.every((v) => v === 'on')).toBe(true);
  const audit = await a.admin('GET', '/api/v1/audit?resourceType=experiment');
  expect(audit.json.entries.map((e: Json) => e.action)).toContain('experiment.ship');
}

describe('experiments through the API', () => {
  it('creates a draft with its sample plan and an audit entry', async () => {
    const { a } = await setUp();
    const created = await a.admin('POST', '/api/v1/experiments', plan());
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.status).toBe('draft');
    expect(created.json.autoAbort).toBe(true);
    const sample = created.json.samplePlan;
    expect(sample.traffic).toEqual({ unitsPerDay: 50_000, source: 'expected' });
    expect(sample.metrics.find((m: Json) => m.metric === 'conversion').role).toBe('success');
    expect(sample.unitsPerArm.on).toBeGreaterThan(1000);
    expect(sample.durationDays).toBeGreaterThanOrEqual(7);
    expect(await flagRules(a)).toEqual([]);
    const audit = await a.admin('GET', '/api/v1/audit?resourceType=experiment');
    expect(audit.json.entries.map((e: Json) => e.action)).toContain('experiment.create');
  });

  it.each([
    ['a success metric that is also a guardrail', { guardrails: [{ metric: 'conversion' }] }, 'guardrails'],
    ['fewer than two variants', { variants: [{ variant: 'off', weight: 100 }] }, 'variants'],
    [
      'weights not summing to 100',
      {
        variants: [
          { variant: 'off', weight: 50 },
          { variant: 'on', weight: 40 },
        ],
      },
      'variants',
    ],
    ['an unknown flag', { flag: 'nope' }, 'flag'],
  ])('refuses %s, naming the field, and stores nothing', async (_name, overrides, field) => {
    const { a } = await setUp();
    const r = await a.admin('POST', '/api/v1/experiments', plan(overrides));
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json.error)).toContain(field);
    expect((await a.admin('GET', '/api/v1/experiments')).json.experiments).toEqual([]);
  });

  it('refuses an experiment on a flag with an active rollout, naming the flag', async () => {
    const { a } = await setUp();
    const ro = await a.admin('POST', '/api/v1/rollouts', {
      id: 'ro_1',
      flag: 'new-checkout',
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [{ reach: 10 }, { reach: 100 }],
      guardrails: [{ metric: 'crash_rate' }],
    });
    expect(ro.status, JSON.stringify(ro.json)).toBe(201);
    expect((await a.admin('POST', '/api/v1/rollouts/ro_1/start', {})).status).toBe(200);
    const r = await a.admin('POST', '/api/v1/experiments', plan());
    expect(r.status).toBe(409);
    expect(r.json.error.message).toMatch(/^flag: /);
    expect(r.json.error.details.issues[0].path).toBe('flag');
    expect((await a.admin('GET', '/api/v1/experiments')).json.experiments).toEqual([]);
  });

  it('start installs the rule, coverage grows (never shrinks), stop removes it', async () => {
    const { a, sim } = await setUp();
    expect((await a.admin('POST', '/api/v1/experiments', plan())).status).toBe(201);
    const started = await a.admin('POST', '/api/v1/experiments/ex_1/start', {});
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    expect(started.json.coverage).toBe(20);
    const rules = await flagRules(a);
    expect(rules.map((r: Json) => r.id)).toEqual(['experiment-ex_1']);
    expect(rules[0].experiment).toBe('ex_1');
    let served = await sim.variants(UNITS);
    // 20% coverage split 50/50: about 10% of units are served `on`.
    expect(count(served, 'on') / UNITS.length).toBeGreaterThan(0.08);
    expect(count(served, 'on') / UNITS.length).toBeLessThan(0.12);
    const onBefore = UNITS.filter((_, i) => served[i] === 'on');

    const grown = await a.admin('POST', '/api/v1/experiments/ex_1/coverage', { coverage: 40 });
    expect(grown.status, JSON.stringify(grown.json)).toBe(200);
    expect(grown.json.coverage).toBe(40);
    served = await sim.variants(onBefore);
    expect(served.every((v) => v === 'on')).toBe(true);

    const shrink = await a.admin('POST', '/api/v1/experiments/ex_1/coverage', { coverage: 10 });
    expect(shrink.status).toBe(400);
    expect(shrink.json.error.message).toMatch(/^coverage: /);
    expect((await a.admin('GET', '/api/v1/experiments/ex_1')).json.coverage).toBe(40);

    const second = await a.admin('POST', '/api/v1/experiments', plan({ id: 'ex_2' }));
    expect(second.status).toBe(409);
    expect(second.json.error.details.issues[0].path).toBe('flag');

    const rollout = await a.admin('POST', '/api/v1/rollouts', {
      id: 'ro_1',
      flag: 'new-checkout',
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [{ reach: 10 }, { reach: 100 }],
      guardrails: [{ metric: 'crash_rate' }],
    });
    expect(rollout.status).toBe(409);
    expect(rollout.json.error.details.issues[0].path).toBe('flag');
    expect((await a.admin('GET', '/api/v1/rollouts')).json.rollouts).toEqual([]);

    const stopped = await a.admin('POST', '/api/v1/experiments/ex_1/stop', {});
    expect(stopped.status).toBe(200);
    expect(stopped.json.status).toBe('stopped');
    expect(await flagRules(a)).toEqual([]);
    served = await sim.variants(UNITS);
    expect(count(served, 'on')).toBe(0);
    const again = await a.admin('POST', '/api/v1/experiments/ex_1/start', {});
    expect(again.status).toBe(409);
  });

  it('ship turns into a running rollout in the same place where every unit that saw the winner keeps it', async () => {
    await shipFlow(await setUp());
  });

  it('the same lifecycle on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-experiments-'));
    try {
      await shipFlow(await setUp(createSqliteStores(dir)));
    } finally {
      await t?.close();
      t = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(postgresSkipReason() !== undefined)('the same lifecycle on PostgreSQL', async () => {
    const url = TEST_DATABASE_URL as string;
    const schema = freshSchemaName();
    try {
      await shipFlow(await setUp(await createPostgresStores({ connectionString: url, schema })));
    } finally {
      await t?.close();
      t = undefined;
      await dropSchemas(url, [schema]);
    }
  });

  it('ship of an unknown variant is refused naming the variant, nothing changed', async () => {
    const { a } = await setUp();
    expect((await a.admin('POST', '/api/v1/experiments', plan())).status).toBe(201);
    expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
    const r = await a.admin('POST', '/api/v1/experiments/ex_1/ship', { variant: 'off' });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.json.error.message).toMatch(/^variant: /);
    expect((await a.admin('GET', '/api/v1/experiments/ex_1')).json.status).toBe('running');
    expect((await a.admin('GET', '/api/v1/rollouts')).json.rollouts).toEqual([]);
  });

  it('the controller records results and never ships; results give the recommendation with its reason', async () => {
    const { a } = await setUp();
    expect((await a.admin('POST', '/api/v1/experiments', plan())).status).toBe(201);
    expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
    a.clock.advance(HOUR);
    const results = await a.admin('GET', '/api/v1/experiments/ex_1/results');
    expect(results.status, JSON.stringify(results.json)).toBe(200);
    expect(results.json.recommendation).toBe('continue');
    expect(results.json.reason.length).toBeGreaterThan(0);
    const looks = await a.app.dimmer.experimentController.tick();
    expect(looks).toHaveLength(1);
    const read = await a.admin('GET', '/api/v1/experiments/ex_1');
    expect(read.json.status).toBe('running');
    expect(read.json.latestResults.recommendation).toBe('continue');
  });
});
