import { afterAll, describe, it } from 'vitest';
import {
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { describeWebhookOutbox } from '../../testing/webhooks.ts';
import { createPostgresStores } from '../stores.ts';

const skipReason = postgresSkipReason();

if (skipReason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
  describe.skip(`the webhook outbox on PostgreSQL (${skipReason})`, () => {
    it('needs DIMMER_TEST_DATABASE_URL', () => undefined);
  });
} else {
  const schemas: string[] = [];
  afterAll(() => dropSchemas(TEST_DATABASE_URL as string, schemas));
  describeWebhookOutbox('postgres', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    return createPostgresStores({ connectionString: TEST_DATABASE_URL as string, schema });
  });
}
