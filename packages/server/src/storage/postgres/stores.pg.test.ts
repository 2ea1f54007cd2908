import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertPostgresReachable,
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../../testing/pg-test-schema.ts';
import { storeContract } from '../../../testing/store-contract.ts';
import { createPostgresStores } from '../../stores.ts';
import { LISTENER_APPLICATION_NAME } from './listener.ts';

const skipReason = postgresSkipReason();

if (skipReason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
  console.warn(skipReason);
  describe.skip('store contract: postgres', () => {
    it('needs DIMMER_TEST_DATABASE_URL', () => undefined);
  });
} else {
  const url = TEST_DATABASE_URL as string;
  const schemas: string[] = [];

  beforeAll(async () => {
    await assertPostgresReachable(url);
  });
  afterAll(async () => {
    await dropSchemas(url, schemas);
  });

  storeContract('postgres', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    return createPostgresStores({ connectionString: url, schema });
  });

  describe('postgres specifics', () => {
    it('migrates once: reopening the same schema applies nothing and keeps data', async () => {
      const schema = freshSchemaName();
      schemas.push(schema);
      const first = await createPostgresStores({ connectionString: url, schema });
      await first.environments.create(
        { key: 'production', name: 'Production' },
        {
          at: 1,
          actor: 't',
          action: 'environment.create',
          resourceType: 'environment',
          resourceKey: 'production',
          before: null,
          after: null,
        },
      );
      await first.close();
      const second = await createPostgresStores({ connectionString: url, schema });
      expect((await second.environments.list()).map((e) => e.key)).toEqual(['production']);
      await second.close();
    });

    it('announces committed versions to a listener on another connection', async () => {
      const schema = freshSchemaName();
      schemas.push(schema);
      const writer = await createPostgresStores({ connectionString: url, schema });
      const reader = await createPostgresStores({ connectionString: url, schema });
      const seen: { environment: string; version: number }[] = [];
      const stop = await (reader.watchConfig as NonNullable<typeof reader.watchConfig>)({
        onChange: (change) => seen.push(change),
        onResync: () => undefined,
      });
      await writer.environments.create(
        { key: 'production', name: 'Production' },
        {
          at: 1,
          actor: 't',
          action: 'environment.create',
          resourceType: 'environment',
          resourceKey: 'production',
          before: null,
          after: null,
        },
      );
      await expect
        .poll(() => seen, { timeout: 5_000 })
        .toContainEqual({ environment: 'production', version: 1 });
      await stop();
      await writer.close();
      await reader.close();
    });

    it('reconnects a dropped listener, asks for a resync, and hears later changes', async () => {
      const schema = freshSchemaName();
      schemas.push(schema);
      const writer = await createPostgresStores({ connectionString: url, schema });
      const reader = await createPostgresStores({ connectionString: url, schema });
      const seen: string[] = [];
      let resyncs = 0;
      const stop = await (reader.watchConfig as NonNullable<typeof reader.watchConfig>)({
        onChange: (change) => seen.push(change.environment),
        onResync: () => {
          resyncs += 1;
        },
      });
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [LISTENER_APPLICATION_NAME],
      );
      await admin.end();
      await expect.poll(() => resyncs, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      await writer.environments.create(
        { key: 'after-drop', name: 'After' },
        {
          at: 2,
          actor: 't',
          action: 'environment.create',
          resourceType: 'environment',
          resourceKey: 'after-drop',
          before: null,
          after: null,
        },
      );
      await expect.poll(() => seen, { timeout: 5_000 }).toContain('after-drop');
      await stop();
      await writer.close();
      await reader.close();
    });
  });
}
