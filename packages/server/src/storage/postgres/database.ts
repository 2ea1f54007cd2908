/** The PostgreSQL database: a pool for queries, migrations at open, LISTEN/NOTIFY for config changes. */
import pg from 'pg';
import type { SqlDriver } from '../sql/sql-driver.ts';
import type { ConfigWatchHandlers, LeaseStore } from '../write.ts';
import {
  clientConfig,
  createPostgresDriver,
  createPostgresLeases,
  DEFAULT_POOL_SIZE,
  isUnavailableError,
  type PostgresConnection,
} from './driver.ts';

export type { PostgresConnection } from './driver.ts';

import { type ListenerLogger, listenForConfigChanges } from './listener.ts';
import { migratePostgres } from './migrations.ts';

/** Longest total wait for the database at start unless configured, in milliseconds. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
/** First and largest delay between connection attempts at start, in milliseconds. */
const STARTUP_RETRY_INITIAL_MS = 250;
const STARTUP_RETRY_MAX_MS = 5_000;

/** An open PostgreSQL database: the SQL driver, the leases and the change listener. */
export interface PostgresDatabase {
  driver: SqlDriver;
  /** Leases with fencing epochs (the rollout controller's leadership). */
  leases: LeaseStore;
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
  const pool = new pg.Pool({ ...clientConfig(connection), max: connection.poolSize ?? DEFAULT_POOL_SIZE });
  // An idle client's error reaches the pool; a checked-out client's error reaches only the client, and an
  // 'error' event nobody listens to ends the process. Every client gets a listener when it connects.
  pool.on('error', (error) => logger?.warn(`postgres idle connection error: ${error.message}`));
  pool.on('connect', (client) => {
    client.on('error', (error) => logger?.warn(`postgres connection error: ${error.message}`));
  });
  try {
    await migrateWithRetry(pool, connection, logger);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  const stops = new Set<() => Promise<void>>();
  const driver = createPostgresDriver(pool);
  return {
    driver,
    leases: createPostgresLeases(driver),
    async close() {
      await Promise.all([...stops].map((stop) => stop()));
      await driver.close();
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

/**
 * Creates the schema and applies migrations, waiting for the database while it is unreachable: attempts are
 * retried with exponential backoff (each logged) until `startupTimeoutMs` has passed. Migrations run without
 * the statement and lock timeouts (another node may hold the migration lock while it migrates).
 */
async function migrateWithRetry(
  pool: pg.Pool,
  connection: PostgresConnection,
  logger: ListenerLogger | undefined,
): Promise<void> {
  const deadline = Date.now() + (connection.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
  let delay = STARTUP_RETRY_INITIAL_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      const client = await pool.connect();
      try {
        await client.query('SET statement_timeout = 0; SET lock_timeout = 0');
        if (connection.schema !== undefined)
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(connection.schema)}`);
        await migratePostgres(client);
        await client.query('RESET statement_timeout; RESET lock_timeout');
      } finally {
        client.release();
      }
      if (attempt > 1) logger?.warn(`postgres reachable after ${attempt} attempts`);
      return;
    } catch (error) {
      const remaining = deadline - Date.now();
      if (!isUnavailableError(error) || remaining <= 0) throw error;
      const wait = Math.min(delay, remaining);
      logger?.warn(
        `postgres unreachable at start (attempt ${attempt}: ${(error as Error).message}); retrying in ${wait} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, STARTUP_RETRY_MAX_MS);
    }
  }
}

/** Double-quotes an SQL identifier. */
export function quoteIdentifier(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
