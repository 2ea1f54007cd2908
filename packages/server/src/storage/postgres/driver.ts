/** SQL driver over a pg Pool: `?` placeholders are numbered, config changes are announced with NOTIFY. */
import type pg from 'pg';
import type { Row, SqlDriver, SqlExecutor } from '../sql/sql-driver.ts';
import type { ConfigChange } from '../write.ts';

/** The channel every node LISTENs on; the payload is `{"environment":…,"version":…}`. */
export const CONFIG_CHANNEL = 'dimmer_config';

/** Connection settings shared by the pool and the listener. */
export interface PostgresConnection {
  connectionString: string;
  /** Schema to use instead of `public` (tests use a fresh one per run). */
  schema?: string;
}

/** pg client options for a connection (search_path set at connect time when a schema is given). */
export function clientConfig(connection: PostgresConnection): pg.ClientConfig {
  const config: pg.ClientConfig = { connectionString: connection.connectionString };
  if (connection.schema !== undefined) config.options = `-c search_path=${connection.schema}`;
  return config;
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async all(sql, params = []) {
      const result = await client.query(numbered(sql), params as unknown[]);
      return result.rows as Row[];
    },
    async run(sql, params = []) {
      const result = await client.query(numbered(sql), params as unknown[]);
      return result.rowCount ?? 0;
    },
  };
}

/** Wraps a pool as a SqlDriver; closing the driver ends the pool. */
export function createPostgresDriver(pool: pg.Pool): SqlDriver {
  const direct = executor(pool);
  return {
    dialect: 'postgres',
    all: direct.all,
    run: direct.run,
    async transaction(fn, options = {}) {
      const client = await pool.connect();
      try {
        await client.query(options.readOnly ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async announce(tx, changes: readonly ConfigChange[]) {
      for (const change of changes) {
        await tx.all('SELECT pg_notify(?, ?)', [
          CONFIG_CHANNEL,
          JSON.stringify({ environment: change.environment, version: change.version }),
        ]);
      }
    },
    async lockKeys(tx, keys) {
      const sorted = [...new Set(keys)].sort();
      for (const key of sorted) await tx.all('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [key]);
    },
    isUniqueViolation(error) {
      return (error as { code?: unknown } | null)?.code === '23505';
    },
    async close() {
      await pool.end();
    },
  };
}
