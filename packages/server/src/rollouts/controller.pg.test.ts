/**
 * On PostgreSQL exactly one node runs the controller at a time: two apps over the same schema, one holding the
 * controller's advisory lock; the other's tick skips until the lock is free.
 */
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
import { createPostgresStores } from '../stores.ts';
import { CONTROLLER_LOCK } from './controller.ts';

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
    it('runs on one node at a time: a tick skips while another node holds the lock', async () => {
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
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered: () => void = () => undefined;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const holder = a.stores.runExclusive?.(CONTROLLER_LOCK, async () => {
        entered();
        await held;
        return 'done';
      });
      await inside;
      expect(await b.app.dimmer.controller.tick()).toEqual([]);
      release();
      expect(await holder).toEqual({ ran: true, value: 'done' });
      const decisions = await b.app.dimmer.controller.tick();
      expect(decisions.map((d) => [d.rollout, d.action, d.rule])).toEqual([
        ['ro_pg', 'hold', 'min_duration'],
      ]);
      // The decision is in PostgreSQL: the other node reads it.
      const listed = (await a.admin('GET', '/api/v1/rollouts/ro_pg/decisions')).json.decisions;
      expect(listed.map((d: { id: number }) => d.id)).toEqual([decisions[0]?.id]);
    }, 30_000);
  });
}
