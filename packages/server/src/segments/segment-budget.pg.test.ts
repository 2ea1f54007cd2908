/** The segment-change budget check of segment-budget.test.ts on the PostgreSQL stores. */
import { afterAll, describe, it } from 'vitest';
import {
  assertPostgresReachable,
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { segmentEditBudgetScenario } from '../../testing/segment-budget.ts';
import { buildTestApp } from '../../testing/test-app.ts';
import { createPostgresStores } from '../stores.ts';

const skipReason = postgresSkipReason();

if (skipReason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
  console.warn(skipReason);
  describe.skip('segment changes and the flags that use them (postgres)', () => {
    it('needs DIMMER_TEST_DATABASE_URL', () => undefined);
  });
} else {
  const url = TEST_DATABASE_URL as string;
  const schema = freshSchemaName();
  afterAll(async () => {
    await dropSchemas(url, [schema]);
  });

  describe('segment changes and the flags that use them (postgres)', () => {
    it('refuses a change that puts a flag over its evaluation budget', async () => {
      await assertPostgresReachable(url);
      const t = await buildTestApp({ stores: await createPostgresStores({ connectionString: url, schema }) });
      try {
        await segmentEditBudgetScenario(t);
      } finally {
        await t.close();
      }
    });
  });
}
