import { afterAll, describe, expect, it } from 'vitest';
import {
  assertPostgresReachable,
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { sampleFlag } from '../../testing/test-app.ts';
import { buildApp } from '../app.ts';
import { systemClock } from '../clock.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../secrets.ts';
import type { Stores } from '../stores.ts';
import { createPostgresStores } from '../stores.ts';

const skipReason = postgresSkipReason();

if (skipReason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
  console.warn(skipReason);
  describe.skip('config hub across nodes (postgres)', () => {
    it('needs DIMMER_TEST_DATABASE_URL', () => undefined);
  });
} else {
  const url = TEST_DATABASE_URL as string;
  const schema = freshSchemaName();
  const opened: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const item of opened.reverse()) await item.close();
    await dropSchemas(url, [schema]);
  });

  async function node(adminToken: string) {
    const stores: Stores = await createPostgresStores({ connectionString: url, schema });
    const app = await buildApp({
      stores,
      clock: systemClock,
      adminToken,
      config: { previewSampleSize: 1_000 },
    });
    opened.push({
      async close() {
        await app.close();
        await stores.close();
      },
    });
    return app;
  }

  describe('config hub across nodes (postgres)', () => {
    it('a change committed on one node reaches the other node’s hub through LISTEN/NOTIFY', async () => {
      await assertPostgresReachable(url);
      const token = generateSecret(ADMIN_TOKEN_PREFIX);
      const a = await node(token);
      const b = await node(token);
      expect(b.dimmer.hub.get('production')?.version).toBe(a.dimmer.hub.get('production')?.version);
      const start = b.dimmer.hub.get('production')?.version ?? 0;
      const seen: number[] = [];
      b.dimmer.hub.subscribe('production', (s) => seen.push(s.version));

      const res = await a.inject({
        method: 'POST',
        url: '/api/v1/flags',
        headers: { authorization: `Bearer ${token}` },
        payload: sampleFlag(),
      });
      expect(res.statusCode).toBe(201);
      await expect.poll(() => b.dimmer.hub.get('production')?.version, { timeout: 5_000 }).toBe(start + 1);
      expect(b.dimmer.hub.get('production')?.snapshot.flags.map((f) => f.key)).toEqual(['new-checkout']);

      const env = await b.inject({
        method: 'POST',
        url: '/api/v1/environments',
        headers: { authorization: `Bearer ${token}` },
        payload: { key: 'staging' },
      });
      expect(env.statusCode).toBe(201);
      await expect.poll(() => a.dimmer.hub.get('staging')?.version, { timeout: 5_000 }).toBe(1);
      expect(seen).toEqual([start + 1]);
    });
  });
}
