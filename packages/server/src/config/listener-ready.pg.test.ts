/**
 * `/readyz` follows the PostgreSQL LISTEN connection: a node whose listener backend is terminated reports
 * not-ready (it would miss other nodes' changes until its next poll), and ready again once the listener is back
 * and the config was re-read — including a change another node made while it was not listening.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, sleep } from '../../testing/cluster.ts';
import { postgresSkipReason, TEST_DATABASE_URL } from '../../testing/pg-test-schema.ts';
import { sampleFlag } from '../../testing/test-app.ts';
import { buildApp } from '../app.ts';
import { systemClock } from '../clock.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../secrets.ts';
import { LISTENER_APPLICATION_NAME } from '../storage/postgres/listener.ts';
import { createPostgresStores } from '../stores.ts';

const skipReason = postgresSkipReason();

if (skipReason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
  describe.skip(`readiness follows the LISTEN connection (${skipReason})`, () => {
    it('needs DIMMER_TEST_DATABASE_URL', () => undefined);
  });
} else {
  const closing: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closing.reverse()) await close();
  });

  describe('readiness follows the LISTEN connection', () => {
    it('answers 503 while the listener is down and 200 once it listens again and re-read the config', async () => {
      // A database of its own: the listener to terminate is found by database name, never another suite's.
      const database = await createTestDatabase(TEST_DATABASE_URL as string);
      closing.push(() => database.drop());
      const base = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await base.connect();
      closing.push(() => base.end());
      const name = new URL(database.url).pathname.slice(1);
      const token = generateSecret(ADMIN_TOKEN_PREFIX);
      const open = async () => {
        const stores = await createPostgresStores({ connectionString: database.url });
        const app = await buildApp({
          stores,
          clock: systemClock,
          adminToken: token,
          config: { configPollMs: 0 },
        });
        closing.push(async () => {
          await app.close();
          await stores.close();
        });
        return app;
      };
      const node = await open();
      const other = await open();
      const ready = async () => (await node.inject({ method: 'GET', url: '/readyz' })).statusCode;
      expect(await ready()).toBe(200);

      // New connections to the database are refused, so the terminated listener cannot come back yet (the
      // pools keep their open connections and the storage stays reachable).
      await base.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      try {
        const { rows } = await base.query(
          'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
          [name, LISTENER_APPLICATION_NAME],
        );
        expect(rows.length).toBe(2);
        const downBy = Date.now() + 5_000;
        while ((await ready()) !== 503 && Date.now() < downBy) await sleep(20);
        const down = await node.inject({ method: 'GET', url: '/readyz' });
        expect(down.statusCode).toBe(503);
        expect(down.json().error.message).toMatch(/LISTEN connection is down/);
        // A change through the other node while this one cannot hear it.
        const created = await other.inject({
          method: 'POST',
          url: '/api/v1/flags',
          headers: { authorization: `Bearer ${token}` },
          payload: sampleFlag('made-while-deaf'),
        });
        expect(created.statusCode).toBe(201);
      } finally {
        await base.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      }
      const upBy = Date.now() + 15_000;
      while ((await ready()) !== 200 && Date.now() < upBy) await sleep(50);
      expect(await ready()).toBe(200);
      // Ready again means the config was re-read: the change made meanwhile is served (no poll runs here).
      const version = other.dimmer.hub.get('production')?.version;
      expect(node.dimmer.hub.get('production')?.version).toBe(version);
      expect(node.dimmer.hub.get('production')?.snapshot.flags.map((f) => f.key)).toContain(
        'made-while-deaf',
      );
    }, 60_000);
  });
}
