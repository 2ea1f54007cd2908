/** The guardrail replays over PostgreSQL: each test in a fresh schema, dropped at the end. */
import { afterAll, describe, it } from 'vitest';
import { describeGuardrailReplays } from '../../testing/guardrail-replays.ts';
import {
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { createPostgresStores } from '../stores.ts';

const skipReason = postgresSkipReason();

if (skipReason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
  describe.skip('guardrail replays on postgres', () => {
    it('needs DIMMER_TEST_DATABASE_URL', () => undefined);
  });
} else {
  const url = TEST_DATABASE_URL as string;
  const schemas: string[] = [];
  afterAll(async () => {
    await dropSchemas(url, schemas);
  });
  describeGuardrailReplays('postgres', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    return createPostgresStores({ connectionString: url, schema });
  });
}
