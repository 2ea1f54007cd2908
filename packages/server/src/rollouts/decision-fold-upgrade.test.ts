/**
 * Upgrading a database whose decision log has one row per look: the migration copies every look to the chart's
 * looks, then folds each run of consecutive identical looks that applied nothing into its newest row with the
 * run's count and first time; applied decisions and changes of rule or stage stay their own rows.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { quoteIdentifier } from '../storage/postgres/database.ts';
import { createPostgresDriver } from '../storage/postgres/driver.ts';
import { migratePostgres, POSTGRES_MIGRATIONS } from '../storage/postgres/migrations.ts';
import { createSqlWrites } from '../storage/sql/sql-writes.ts';
import { createSqliteDriver, openSqliteDatabase } from '../storage/sqlite/driver.ts';
import { migrateSqlite, SQLITE_MIGRATIONS } from '../storage/sqlite/migrations.ts';
import { createSqlRolloutsStore } from './rollouts.sql.ts';
import type { RolloutsStore } from './rollouts.store.ts';

const SQLITE_FOLD_MIGRATION = 10;
const POSTGRES_FOLD_MIGRATION = 11;
const T0 = 1_700_000_000_000;

/** The old log, oldest first: [action, rule, stage, applied]. */
const OLD_LOG: [string, string, number, boolean][] = [
  ['hold', 'min_duration', 0, false],
  ['hold', 'min_duration', 0, false],
  ['hold', 'min_duration', 0, false],
  ['hold', 'srm', 0, false],
  ['hold', 'min_duration', 0, false],
  ['advance', 'all_clear', 0, true],
  ['hold', 'min_duration', 1, false],
  ['hold', 'min_duration', 1, false],
  ['rollback', 'deterioration', 1, true],
];

function evidence(stage: number, k: number): string {
  return JSON.stringify({
    stageIndex: stage,
    status: 'running',
    reach: stage === 0 ? 1 : 10,
    metrics: {
      crash_rate: {
        direction: 'higher_is_worse',
        margin: 0.1,
        summary: {
          delta: k / 100,
          se: 0.01,
          interval: [k / 100 - 0.03, k / 100 + 0.03],
          meanControl: 0.02,
          harmDetected: k === 8,
          deterioration: { z: k, boundary: 4 },
          nonInferiority: null,
        },
      },
    },
  });
}

async function expectFolded(store: RolloutsStore): Promise<void> {
  const log = await store.listDecisions('ro_1', { limit: 50 });
  expect(log.map((d) => [d.action, d.rule, d.count, d.firstAt, d.at])).toEqual([
    ['rollback', 'deterioration', 1, T0 + 8, T0 + 8],
    ['hold', 'min_duration', 2, T0 + 6, T0 + 7],
    ['advance', 'all_clear', 1, T0 + 5, T0 + 5],
    ['hold', 'min_duration', 1, T0 + 4, T0 + 4],
    ['hold', 'srm', 1, T0 + 3, T0 + 3],
    ['hold', 'min_duration', 3, T0, T0 + 2],
  ]);
  // The folded row keeps the newest look's evidence; every look stays on the chart.
  const folded = log[5]?.evidence.metrics as { crash_rate: { summary: { delta: number } } } | undefined;
  expect(folded?.crash_rate.summary.delta).toBe(0.02);
  const looks = await store.listLooks('ro_1');
  expect(looks.map((l) => l.at)).toEqual(OLD_LOG.map((_, k) => T0 + k));
  expect(looks.map((l) => l.stage)).toEqual(OLD_LOG.map(([, , stage]) => stage));
  expect(looks[8]?.points.crash_rate).toMatchObject({ estimate: 0.08, rollback: 0.04, crossed: true });
  // New looks continue the sequence after the migrated rows.
  const cursor = await store.decisionCursor('ro_1');
  expect(cursor).toBeGreaterThan(0);
  expect(await store.listDecisions('ro_1', { limit: 50, afterSeq: cursor })).toEqual([]);
}

describe('the decision log after an upgrade', () => {
  it('sqlite: folds consecutive identical looks of the old log and keeps every look for the chart', async () => {
    const db = openSqliteDatabase(':memory:');
    migrateSqlite(
      db,
      SQLITE_MIGRATIONS.filter((m) => m.version < SQLITE_FOLD_MIGRATION),
    );
    db.prepare(
      "INSERT INTO environments (key, name, created_at, config_version, committed_at) VALUES ('production', 'P', 0, 1, 0)",
    ).run();
    db.prepare(
      `INSERT INTO rollouts (id, flag, environment, treatment, control, state, stage, reach, attempt, guardrails, metrics, plan, state_doc, revision, created_at, updated_at)
       VALUES ('ro_1', 'f', 'production', 'on', 'off', 'rolled_back', 1, 0, 1, '[]', '[]', NULL, NULL, 1, 0, 0)`,
    ).run();
    const insert = db.prepare(
      `INSERT INTO rollout_decisions (rollout_id, attempt, at, action, rule, reason, applied, evidence)
       VALUES ('ro_1', 1, ?, ?, ?, 'why', ?, ?)`,
    );
    for (const [k, [action, rule, stage, applied]] of OLD_LOG.entries())
      insert.run(T0 + k, action, rule, applied ? 1 : 0, evidence(stage, k));
    expect(migrateSqlite(db)).toContain(SQLITE_FOLD_MIGRATION);
    const driver = createSqliteDriver(db);
    await expectFolded(createSqlRolloutsStore(driver, createSqlWrites(driver)));
    await driver.close();
  });

  const skip = postgresSkipReason();
  const schemas: string[] = [];
  afterAll(async () => {
    if (TEST_DATABASE_URL !== undefined) await dropSchemas(TEST_DATABASE_URL, schemas);
  });
  it.skipIf(skip !== undefined)(
    `postgresql: folds the old log the same way${skip === undefined ? '' : ` (skipped: ${skip})`}`,
    async () => {
      const schema = freshSchemaName();
      schemas.push(schema);
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
        await client.query(`SET search_path TO ${quoteIdentifier(schema)}`);
        await migratePostgres(
          client,
          POSTGRES_MIGRATIONS.filter((m) => m.version < POSTGRES_FOLD_MIGRATION),
        );
        await client.query(
          "INSERT INTO environments (key, name, created_at, config_version, committed_at) VALUES ('production', 'P', 0, 1, 0)",
        );
        await client.query(
          `INSERT INTO rollouts (id, flag, environment, treatment, control, state, stage, reach, attempt, guardrails, metrics, plan, state_doc, revision, created_at, updated_at)
           VALUES ('ro_1', 'f', 'production', 'on', 'off', 'rolled_back', 1, 0, 1, '[]', '[]', NULL, NULL, 1, 0, 0)`,
        );
        for (const [k, [action, rule, stage, applied]] of OLD_LOG.entries())
          await client.query(
            `INSERT INTO rollout_decisions (rollout_id, attempt, at, action, rule, reason, applied, evidence)
             VALUES ('ro_1', 1, $1, $2, $3, 'why', $4, $5)`,
            [T0 + k, action, rule, applied, evidence(stage, k)],
          );
        expect(await migratePostgres(client)).toContain(POSTGRES_FOLD_MIGRATION);
      } finally {
        await client.end();
      }
      const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
      try {
        const driver = createPostgresDriver(pool);
        await expectFolded(createSqlRolloutsStore(driver, createSqlWrites(driver)));
      } finally {
        await pool.end();
      }
    },
  );
});
