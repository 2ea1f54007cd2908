/**
 * On PostgreSQL exactly one node runs the controller at a time: two apps over the same schema share a lease with a
 * fencing epoch; the holder looks, the other skips, and a holder whose lease moved on has its decision refused.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertPostgresReachable,
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { setUpRolloutSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, type TestApp } from '../../testing/test-app.ts';
import { quoteIdentifier } from '../storage/postgres/database.ts';
import { createPostgresStores } from '../stores.ts';

const skipReason = postgresSkipReason();

if (skipReason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
  describe.skip('rollout controller on postgres', () => {
    it('needs DIMMER_TEST_DATABASE_URL', () => undefined);
  });
} else {
  const url = TEST_DATABASE_URL as string;
  const schema = freshSchemaName();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await assertPostgresReachable(url);
    const connection = { connectionString: url, schema };
    a = await buildTestApp({ stores: await createPostgresStores(connection) });
    b = await buildTestApp({ stores: await createPostgresStores(connection), adminToken: a.adminToken });
  }, 30_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dropSchemas(url, [schema]);
  });

  describe('rollout controller on postgres', () => {
    it('runs on the lease holder only, and refuses a stale holder decision by its epoch', async () => {
      const { flag } = await setUpRolloutSim(a);
      const created = await a.admin('POST', '/api/v1/rollouts', {
        id: 'ro_pg',
        flag,
        environment: 'production',
        treatment: 'on',
        control: 'off',
        stages: [{ reach: 5, minDuration: '1h' }, { reach: 100 }],
        guardrails: [{ metric: 'crash_rate' }],
      });
      expect(created.status).toBe(201);
      expect((await a.admin('POST', '/api/v1/rollouts/ro_pg/start', {})).status).toBe(200);
      const first = await a.app.dimmer.controller.tick();
      expect(first.map((d) => [d.rollout, d.action, d.rule])).toEqual([['ro_pg', 'hold', 'min_duration']]);
      const epochA = a.app.dimmer.controller.epoch;
      expect(epochA).toBeGreaterThan(0);
      // B does not look while A holds the lease.
      expect(await b.app.dimmer.controller.tick()).toEqual([]);
      expect(b.app.dimmer.controller.epoch).toBeUndefined();

      // A stalls past its lease (its expiry is moved into the past); B takes over with the next epoch.
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(
          `UPDATE ${quoteIdentifier(schema)}.leases SET expires_at = clock_timestamp() - interval '1 second'`,
        );
      } finally {
        await admin.end();
      }
      const taken = await b.app.dimmer.controller.tick();
      expect(taken).toHaveLength(1);
      expect(b.app.dimmer.controller.epoch).toBe((epochA as number) + 1);

      // A still believes it holds epoch N: its decision is refused in the applying transaction.
      expect(a.app.dimmer.controller.epoch).toBe(epochA);
      const before = (await a.admin('GET', '/api/v1/rollouts/ro_pg/decisions')).json.decisions.length;
      expect(await a.app.dimmer.controller.tick()).toEqual([]);
      expect(a.app.dimmer.controller.epoch).toBeUndefined();
      const after = (await a.admin('GET', '/api/v1/rollouts/ro_pg/decisions')).json.decisions.length;
      expect(after).toBe(before);
      const metrics = await (await a.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^dimmer_controller_fenced_total 1$/m);
      // And A's next tick does not take the live lease back.
      expect(await a.app.dimmer.controller.tick()).toEqual([]);
    }, 30_000);
  });
}
