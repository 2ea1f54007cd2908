/**
 * A/B tests through the HTTP API with simulated traffic and a fake clock: ingestion keeps every variant's
 * exposure counts and metric statistics (memory, SQLite, PostgreSQL alike), exposures contradicting the
 * assignment are refused, and each refused change names its field and changes nothing. The decisions from
 * simulated traffic are proved in experiments.sim.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanUpExperimentSims,
  experimentPlan as plan,
  type SimApp,
  setUpExperimentSim as setUp,
  VARIANTS,
} from '../../testing/experiment-sim.ts';
import {
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { type ArmRates, HOUR, TrafficSim } from '../../testing/rollout-sim.ts';
import type { Json } from '../../testing/test-app.ts';
import { createPostgresStores, createSqliteStores, type Stores } from '../stores.ts';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await cleanUpExperimentSims();
});

describe('experiment evidence per variant', () => {
  it('counts every variant of a three-variant experiment exactly once, the same in memory, SQLite and PostgreSQL', async () => {
    const rates: ArmRates = {
      purchase: { control: 0.3, treatment: 0.3, b: 0.45 },
      app_crash: { control: 0.02, treatment: 0.02 },
    };
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-ex-variants-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const backends: { name: string; stores?: () => Promise<Stores> }[] = [
      { name: 'memory' },
      { name: 'SQLite', stores: async () => createSqliteStores(dir) },
    ];
    const pgSkip = postgresSkipReason();
    if (pgSkip === undefined) {
      const schema = freshSchemaName();
      cleanups.push(() => dropSchemas(TEST_DATABASE_URL as string, [schema]));
      backends.push({
        name: 'PostgreSQL',
        stores: () => createPostgresStores({ connectionString: TEST_DATABASE_URL as string, schema }),
      });
    } else console.warn(`experiment evidence on PostgreSQL skipped: ${pgSkip}`);
    const seen: Json[] = [];
    for (const backend of backends) {
      const { a, sim } = await setUp(backend.stores ? await backend.stores() : undefined);
      expect((await a.admin('POST', '/api/v1/experiments', plan())).status).toBe(201);
      expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
      await sim.step({ units: 600, rates, durationMs: HOUR });
      await sim.step({ units: 600, rates, durationMs: HOUR });
      const results = await a.admin('GET', '/api/v1/experiments/ex_1/results');
      expect(results.status, JSON.stringify(results.json)).toBe(200);
      // Exposure counts per variant: exactly the units the simulation logged for each.
      expect(results.json.units, backend.name).toEqual({
        control: sim.served.control,
        b: sim.served.b,
        c: sim.served.c,
      });
      for (const v of VARIANTS) expect(sim.served[v] ?? 0).toBeGreaterThan(300);
      // Per-variant statistics of each treatment against control, from ingestion.
      for (const v of ['b', 'c']) {
        const look = results.json.metrics.conversion[v];
        expect(look.summary.nTreatment, `${backend.name} ${v}`).toBe(sim.served[v]);
        expect(look.summary.nControl).toBe(sim.served.control);
      }
      expect(results.json.metrics.conversion.b.summary.meanTreatment).toBeGreaterThan(
        results.json.metrics.conversion.c.summary.meanTreatment,
      );
      seen.push({ units: results.json.units, metrics: results.json.metrics });
    }
    for (const s of seen.slice(1)) expect(s).toEqual(seen[0]);
  });

  it('refuses an exposure whose variant is not the one the unit is assigned, naming the variant', async () => {
    const { a } = await setUp();
    expect((await a.admin('POST', '/api/v1/experiments', plan())).status).toBe(201);
    expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
    const key = await a.admin('POST', '/api/v1/keys', {
      name: 'k',
      environment: 'production',
      kind: 'server',
    });
    const config = await a.app.inject({
      method: 'GET',
      url: '/sdk/v1/config',
      headers: { authorization: `Bearer ${key.json.secret}` },
    });
    expect(config.statusCode).toBe(200);
    const { sim } = { sim: new TrafficSim(a, { clientKey: key.json.secret, flag: 'new-checkout', seed: 3 }) };
    const [served] = await sim.variants(['unit-1']);
    const wrong = VARIANTS.find((v) => v !== served) as string;
    const sent = await a.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${key.json.secret}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        batchId: 'forged',
        events: [
          {
            type: 'exposure',
            flag: 'new-checkout',
            variant: wrong,
            unit: 'unit-1',
            timestamp: a.clock.now(),
          },
        ],
      }),
    });
    expect(sent.statusCode).toBe(202);
    expect(sent.json().accepted).toBe(0);
    expect(sent.json().rejected[0].reason).toMatch(/^variant: /);
    const results = await a.admin('GET', '/api/v1/experiments/ex_1/results');
    expect(results.json.units).toEqual({ control: 0, b: 0, c: 0 });
  });
});

describe('refused experiment changes name the field and change nothing', () => {
  async function running(): Promise<SimApp> {
    const { a } = await setUp();
    expect((await a.admin('POST', '/api/v1/experiments', plan({ coverage: 40 }))).status).toBe(201);
    expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
    return a;
  }

  async function unchanged(a: SimApp, before: { experiment: Json; flag: Json }): Promise<void> {
    const experiment = await a.admin('GET', '/api/v1/experiments/ex_1');
    const flag = await a.admin('GET', '/api/v1/flags/new-checkout');
    expect(experiment.json.coverage).toBe(before.experiment.coverage);
    expect(experiment.json.variants).toEqual(before.experiment.variants);
    expect(experiment.json.updatedAt).toBe(before.experiment.updatedAt);
    expect(flag.json.environments).toEqual(before.flag.environments);
  }

  async function snapshot(a: SimApp) {
    return {
      experiment: (await a.admin('GET', '/api/v1/experiments/ex_1')).json,
      flag: (await a.admin('GET', '/api/v1/flags/new-checkout')).json,
    };
  }

  it('a coverage decrease, through the coverage action and through a revised plan', async () => {
    const a = await running();
    const before = await snapshot(a);
    const lower = await a.admin('POST', '/api/v1/experiments/ex_1/coverage', { coverage: 20 });
    expect(lower.status).toBe(400);
    expect(lower.json.error.code).toBe('VALIDATION_FAILED');
    expect(lower.json.error.message).toMatch(/^coverage: /);
    expect(lower.json.error.details.issues[0].path).toBe('coverage');
    const revised = await a.admin('PUT', '/api/v1/experiments/ex_1', plan({ coverage: 20 }));
    expect(revised.status).toBe(400);
    expect(revised.json.error.details.issues.map((i: Json) => i.path)).toContain('coverage');
    await unchanged(a, before);
  });

  it('a weight change after start (a draft takes it)', async () => {
    const { a } = await setUp();
    expect((await a.admin('POST', '/api/v1/experiments', plan({ coverage: 40 }))).status).toBe(201);
    const reweighted = plan({
      coverage: 40,
      variants: [
        { variant: 'control', weight: 50 },
        { variant: 'b', weight: 25 },
        { variant: 'c', weight: 25 },
      ],
    });
    const taken = await a.admin('PUT', '/api/v1/experiments/ex_1', reweighted);
    expect(taken.status, JSON.stringify(taken.json)).toBe(200);
    expect(taken.json.variants.map((v: Json) => v.weight)).toEqual([50, 25, 25]);
    expect((await a.admin('PUT', '/api/v1/experiments/ex_1', plan({ coverage: 40 }))).status).toBe(200);
    expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
    const before = await snapshot(a);
    const refused = await a.admin('PUT', '/api/v1/experiments/ex_1', reweighted);
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('VALIDATION_FAILED');
    const paths = refused.json.error.details.issues.map((i: Json) => i.path);
    expect(paths).toContain('variants[0].weight');
    expect(refused.json.error.message).toMatch(/weight/);
    await unchanged(a, before);
    // What a running experiment may change: its minimum duration.
    const longer = await a.admin(
      'PUT',
      '/api/v1/experiments/ex_1',
      plan({ coverage: 40, minDuration: '2h' }),
    );
    expect(longer.status, JSON.stringify(longer.json)).toBe(200);
    expect(longer.json.coverage).toBe(40);
    expect(longer.json.variants.map((v: Json) => v.weight)).toEqual([34, 33, 33]);
  });

  it('a success metric that is also a guardrail, and fewer than two variants, on a revised plan', async () => {
    const { a } = await setUp();
    expect((await a.admin('POST', '/api/v1/experiments', plan())).status).toBe(201);
    const before = (await a.admin('GET', '/api/v1/experiments/ex_1')).json;
    const both = await a.admin(
      'PUT',
      '/api/v1/experiments/ex_1',
      plan({ guardrails: [{ metric: 'conversion' }, { metric: 'crash_rate' }] }),
    );
    expect(both.status).toBe(400);
    expect(both.json.error.details.issues.map((i: Json) => i.path)).toContain('successMetrics[0].metric');
    const one = await a.admin(
      'PUT',
      '/api/v1/experiments/ex_1',
      plan({ variants: [{ variant: 'control', weight: 100 }] }),
    );
    expect(one.status).toBe(400);
    expect(one.json.error.details.issues.map((i: Json) => i.path).join(' ')).toMatch(/variants/);
    expect((await a.admin('GET', '/api/v1/experiments/ex_1')).json).toEqual(before);
  });

  it('a flag that already has a running experiment: a second experiment and a rollout are refused', async () => {
    const a = await running();
    const before = await snapshot(a);
    const second = await a.admin('POST', '/api/v1/experiments', plan({ id: 'ex_2' }));
    expect(second.status).toBe(409);
    expect(second.json.error.message).toMatch(/^flag: /);
    expect(second.json.error.details.issues[0].path).toBe('flag');
    const rollout = await a.admin('POST', '/api/v1/rollouts', {
      id: 'ro_1',
      flag: 'new-checkout',
      environment: 'production',
      treatment: 'b',
      control: 'control',
      stages: [{ reach: 10 }, { reach: 100 }],
      guardrails: [{ metric: 'crash_rate' }],
    });
    expect(rollout.status).toBe(409);
    expect(rollout.json.error.message).toMatch(/^flag: /);
    await unchanged(a, before);
    expect((await a.admin('GET', '/api/v1/experiments/ex_2')).status).toBe(404);
    expect((await a.admin('GET', '/api/v1/rollouts')).json.rollouts).toEqual([]);
  });
});
