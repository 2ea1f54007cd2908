/**
 * Upgrading a database whose cohort statistics were counting before the third-order sums existed: the old row
 * keeps them unknown (NULL plus a change stays NULL), new rows count them from 0, and the evidence reports the
 * old row's skewness as unknown instead of a sum that misses the units counted before.
 */
import { minimumInformation } from '@dimmer/stats';
import { describe, expect, it } from 'vitest';
import { type AnalysisChanges, rolloutAnalysis, type StatsDelta } from '../events/aggregation.ts';
import { createMemoryEventsStorage } from '../events/events.memory.ts';
import { createSqlEventsStorage } from '../events/events.sql.ts';
import type { MetricDefinition } from '../metrics/index.ts';
import { createMemoryDatabase } from '../storage/memory/memory-database.ts';
import { createSqlWrites } from '../storage/sql/sql-writes.ts';
import { createSqliteDriver, openSqliteDatabase } from '../storage/sqlite/driver.ts';
import { migrateSqlite, SQLITE_MIGRATIONS } from '../storage/sqlite/migrations.ts';
import { buildEvidence } from './evidence.ts';
import { COHORT_STATS_TABLE, createMemoryRolloutsStore, type MemoryCohortStats } from './rollouts.memory.ts';
import { createSqlRolloutsStore } from './rollouts.sql.ts';
import type { RolloutRecord, RolloutsStore } from './rollouts.store.ts';

const THIRD_ORDER_MIGRATION = 6;

const REVENUE = {
  key: 'revenue',
  kind: 'mean',
  event: 'purchase',
  aggregate: 'sum',
  direction: 'lower_is_worse',
  margin: 5,
  window: 'until_now',
  category: 'business',
} as unknown as MetricDefinition;

const RECORD = {
  id: 'ro_1',
  flag: 'f',
  environment: 'production',
  treatment: 'on',
  control: 'off',
  state: 'running',
  stage: 1,
  reach: 10,
  attempt: 1,
  guardrails: ['revenue'],
  metrics: [REVENUE],
  plan: null,
  stateDoc: null,
  traffic: null,
  revision: 1,
  createdAt: 0,
  updatedAt: 0,
} satisfies RolloutRecord;

const ANALYSED = rolloutAnalysis({
  id: 'ro_1',
  attempt: 1,
  stage: 1,
  flag: 'f',
  treatment: 'on',
  control: 'off',
  metrics: [REVENUE],
});

/** The sums of 200 units with value 1 and one with value 100 (per-unit skewness ≈ 14). */
const OLD_ROW = { n: 201, sumY: 300, sumY2: 10_200, sumD: 0, sumD2: 0, sumYD: 0 };

/** One more unit with value 3 in cohort `cohort`. */
function oneUnit(cohort: number, arm: 'treatment' | 'control'): StatsDelta {
  return {
    cohort,
    arm,
    metric: 'revenue',
    n: 1,
    sumY: 3,
    sumY2: 9,
    sumD: 0,
    sumD2: 0,
    sumYD: 0,
    sumY3: 27,
    sumY2D: 0,
    sumYD2: 0,
    sumD3: 0,
  };
}

const CHANGES: AnalysisChanges = {
  upserts: [],
  deletes: [],
  stats: [oneUnit(0, 'control'), oneUnit(0, 'treatment'), oneUnit(1, 'control'), oneUnit(1, 'treatment')],
  units: [],
};

async function expectUpgraded(rollouts: RolloutsStore): Promise<void> {
  const { stats } = await rollouts.readAnalysis('ro_1', 1);
  const old = stats.filter((r) => r.cohort === 0);
  const fresh = stats.filter((r) => r.cohort === 1);
  expect(old).toHaveLength(2);
  for (const row of old) {
    expect(row).toMatchObject({ n: 202, sumY: 303, sumY2: 10_209 });
    expect(row.sumY3).toBeUndefined();
    expect(row.sumD3).toBeUndefined();
  }
  expect(fresh.map((r) => r.sumY3)).toEqual([27, 27]);
  const evidence = buildEvidence(RECORD, { stats, units: [] }).evidence.metrics.revenue;
  const cohorts = evidence?.cohorts ?? [];
  expect(cohorts[0]?.control.sumY3).toBeUndefined();
  expect(cohorts[1]?.control.sumY3).toBe(27);
  // A cohort without third moments makes the metric's skewness unknown.
  expect(minimumInformation('mean', cohorts).minimum.rule).toBe('skewness_unknown');
  // Had the old row known its sums, the rule would be Cochran's and demand far more than 100 units.
  const known = cohorts.slice(0, 1).map((c) => ({
    ...c,
    control: { ...c.control, sumY3: 200 + 1_000_000 + 27 },
    treatment: { ...c.treatment, sumY3: 200 + 1_000_000 + 27 },
  }));
  expect(minimumInformation('mean', known).minimum).toMatchObject({ rule: 'cochran', met: false });
  expect(minimumInformation('mean', known).minimum.required).toBeGreaterThan(1000);
}

describe('third-order sums after an upgrade', () => {
  it('sqlite: a row counted before the migration keeps them NULL and its skewness unknown', async () => {
    const db = openSqliteDatabase(':memory:');
    expect(
      migrateSqlite(
        db,
        SQLITE_MIGRATIONS.filter((m) => m.version < THIRD_ORDER_MIGRATION),
      ),
    ).not.toContain(THIRD_ORDER_MIGRATION);
    const insert = db.prepare(
      `INSERT INTO cohort_stats (rollout_id, attempt, cohort, arm, metric, n, sum_y, sum_y2, sum_d, sum_d2, sum_yd)
       VALUES ('ro_1', 1, 0, ?, 'revenue', ?, ?, ?, 0, 0, 0)`,
    );
    for (const arm of ['control', 'treatment']) insert.run(arm, OLD_ROW.n, OLD_ROW.sumY, OLD_ROW.sumY2);
    expect(migrateSqlite(db)).toContain(THIRD_ORDER_MIGRATION);
    expect(SQLITE_MIGRATIONS.find((m) => m.version === THIRD_ORDER_MIGRATION)?.sql).toContain('sum_y3');
    const driver = createSqliteDriver(db);
    await createSqlEventsStorage(driver).transaction((io) => io.writeChanges(ANALYSED, CHANGES));
    await expectUpgraded(createSqlRolloutsStore(driver, createSqlWrites(driver)));
    await driver.close();
  });

  it('memory: a row kept from before has no third-order sums and gains none', async () => {
    const db = createMemoryDatabase();
    const table = db.table<MemoryCohortStats>(COHORT_STATS_TABLE);
    for (const arm of ['control', 'treatment'] as const)
      table.set(`ro_1|1|0|${arm}|revenue`, {
        rollout: 'ro_1',
        attempt: 1,
        cohort: 0,
        arm,
        metric: 'revenue',
        ...OLD_ROW,
      });
    await createMemoryEventsStorage(db).transaction((io) => io.writeChanges(ANALYSED, CHANGES));
    await expectUpgraded(createMemoryRolloutsStore(db));
  });
});
