/**
 * Test support for PostgreSQL suites: the database URL from DIMMER_TEST_DATABASE_URL, whether a suite
 * must run (CI=true and the URL set), and fresh schemas dropped afterwards so runs never collide.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { quoteIdentifier } from '../src/storage/postgres/database.ts';

export const TEST_DATABASE_URL = process.env.DIMMER_TEST_DATABASE_URL;

/** Why a PostgreSQL suite skips, or undefined when it runs. */
export function postgresSkipReason(): string | undefined {
  if (TEST_DATABASE_URL === undefined || TEST_DATABASE_URL === '')
    return 'DIMMER_TEST_DATABASE_URL is not set; PostgreSQL suites skipped';
  return undefined;
}

/** A new unique schema name for one test run. */
export function freshSchemaName(): string {
  return `dimmer_test_${randomBytes(6).toString('hex')}`;
}

/** Drops the given schemas with everything in them. */
export async function dropSchemas(url: string, schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas)
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Fails loudly when the database cannot be reached (used in CI, where the suite must run). */
export async function assertPostgresReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`PostgreSQL at DIMMER_TEST_DATABASE_URL is unreachable: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
