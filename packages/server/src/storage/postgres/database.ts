/** The PostgreSQL database: a pool for queries, migrations at open, LISTEN/NOTIFY for config changes. */
import pg from 'pg';
import type { SqlDriver } from '../sql/sql-driver.ts';
import type { ConfigWatchHandlers, RunExclusive } from '../write.ts';
import { clientConfig, createPostgresDriver, type PostgresConnection } from './driver.ts';

export type { PostgresConnection } from './driver.ts';

import { type ListenerLogger, listenForConfigChanges } from './listener.ts';
import { migratePostgres } from './migrations.ts';

/** Pool size per node. */
const POOL_SIZE = 10;

/** An open PostgreSQL database: the SQL driver, the cross-process lock and the change listener. */
export interface PostgresDatabase {
  driver: SqlDriver;
  /** Runs `fn` under a session advisory lock on a dedicated connection, held while `fn` runs. */
  runExclusive: RunExclusive;
  /** Starts listening for config changes committed by other processes; resolves to the stop function. */
  watchConfig(handlers: ConfigWatchHandlers): Promise<() => Promise<void>>;
  /** Stops every listener and closes the pool. */
  close(): Promise<void>;
}

/** Connects and migrates the schema (creating it when a non-public schema is named). */
export async function openPostgres(
  connection: PostgresConnection,
  logger?: ListenerLogger,
): Promise<PostgresDatabase> {
  const pool = new pg.Pool({ ...clientConfig(connection), max: POOL_SIZE });
  pool.on('error', (error) => logger?.warn(`postgres pool error: ${error.message}`));
  try {
    const client = await pool.connect();
    try {
      if (connection.schema !== undefined)
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(connection.schema)}`);
      await migratePostgres(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  const stops = new Set<() => Promise<void>>();
  const driver = createPostgresDriver(pool);
  return {
    driver,
    async close() {
      await Promise.all([...stops].map((stop) => stop()));
      await driver.close();
    },
    async runExclusive(name, fn) {
      // Advisory locks are per database: the schema in the key keeps deployments in other schemas apart.
      const key = `${connection.schema ?? 'public'}:${name}`;
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
          [key],
        );
        if (rows[0]?.locked !== true) return { ran: false };
        try {
          return { ran: true, value: await fn() };
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
        }
      } finally {
        client.release();
      }
    },
    async watchConfig(handlers) {
      const stop = await listenForConfigChanges(connection, handlers, logger);
      stops.add(stop);
      return async () => {
        stops.delete(stop);
        await stop();
      };
    },
  };
}

/** Double-quotes an SQL identifier. */
export function quoteIdentifier(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
