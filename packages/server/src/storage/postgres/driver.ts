/**
 * SQL driver over a pg Pool: `?` placeholders are numbered, config changes are announced with NOTIFY, every
 * connection carries the session timeouts, and errors that mean "the database cannot answer now" become
 * StoreUnavailableError (a transaction that hit a lock timeout, a deadlock or a serialisation failure is retried
 * a few times first).
 */
import type pg from 'pg';
import type { Row, SqlDriver, SqlExecutor } from '../sql/sql-driver.ts';
import { type ConfigChange, type LeaseStore, StoreFencedError, StoreUnavailableError } from '../write.ts';

/** The channel every node LISTENs on; the payload is `{"environment":…,"version":…}`. */
export const CONFIG_CHANNEL = 'dimmer_config';
/** The channel announcing client key changes (creation, revocation); the payload is empty. */
export const KEYS_CHANNEL = 'dimmer_keys';

/** Session and socket limits of every connection (see docs/operations/configuration.md). */
export interface PostgresTimeouts {
  /** Longest statement, in milliseconds (statement_timeout). */
  statementTimeoutMs: number;
  /** Longest wait for a row or advisory lock, in milliseconds (lock_timeout). */
  lockTimeoutMs: number;
  /** A session idle inside a transaction longer than this is ended by the server (idle_in_transaction_session_timeout). */
  idleInTransactionTimeoutMs: number;
  /** Longest wait to open a connection, in milliseconds. */
  connectTimeoutMs: number;
  /** Idle time before TCP keepalive probes start, on both ends, in milliseconds. */
  keepAliveMs: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  statementTimeoutMs: 15_000,
  lockTimeoutMs: 2_000,
  idleInTransactionTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  keepAliveMs: 10_000,
};

/** Connections per node (pool) unless configured. */
export const DEFAULT_POOL_SIZE = 10;

/** Connection settings shared by the pool and the listener. */
export interface PostgresConnection {
  connectionString: string;
  /** Schema to use instead of `public` (tests use a fresh one per run). */
  schema?: string;
  /** Session timeouts and keepalive; defaults to DEFAULT_POSTGRES_TIMEOUTS. */
  timeouts?: Partial<PostgresTimeouts>;
  /** Pool size (DIMMER_DATABASE_POOL_SIZE); the listener uses one more connection. */
  poolSize?: number;
  /** Longest total wait for the database at start, in milliseconds (retried with backoff). */
  startupTimeoutMs?: number;
}

/** The timeouts of a connection with the defaults filled in. */
export function timeoutsOf(connection: PostgresConnection): PostgresTimeouts {
  return { ...DEFAULT_POSTGRES_TIMEOUTS, ...connection.timeouts };
}

/** Keepalive probes the server sends before it declares a silent client dead. */
const SERVER_KEEPALIVE_COUNT = 3;

/**
 * pg client options for a connection: search_path when a schema is given, the session timeouts, and TCP
 * keepalive on both ends (the server's settings make it drop a client that vanished without closing its socket,
 * releasing its locks within keepAlive + 3 probes instead of the kernel's two hours).
 */
export function clientConfig(connection: PostgresConnection): pg.ClientConfig {
  const t = timeoutsOf(connection);
  const keepAliveSeconds = Math.max(1, Math.round(t.keepAliveMs / 1000));
  const intervalSeconds = Math.max(1, Math.round(keepAliveSeconds / SERVER_KEEPALIVE_COUNT));
  const options = [
    `-c statement_timeout=${t.statementTimeoutMs}`,
    `-c lock_timeout=${t.lockTimeoutMs}`,
    `-c idle_in_transaction_session_timeout=${t.idleInTransactionTimeoutMs}`,
    `-c tcp_keepalives_idle=${keepAliveSeconds}`,
    `-c tcp_keepalives_interval=${intervalSeconds}`,
    `-c tcp_keepalives_count=${SERVER_KEEPALIVE_COUNT}`,
  ];
  if (connection.schema !== undefined) options.push(`-c search_path=${connection.schema}`);
  return {
    connectionString: connection.connectionString,
    options: options.join(' '),
    connectionTimeoutMillis: t.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: t.keepAliveMs,
  };
}

/** SQLSTATE classes and codes meaning the database cannot answer now. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout)
  '25P03', // idle_in_transaction_session_timeout
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);
/** SQLSTATEs after which the whole transaction is simply run again. */
const RETRYABLE_SQLSTATES = new Set(['55P03', '40001', '40P01']);
/** Socket error codes of an unreachable or lost server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
/** Messages pg gives lost or never-opened connections (they carry no code). */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'connection timeout',
  'Connection timed out',
  'Client was closed',
];

/** Attempts of a transaction that hit a lock timeout, deadlock or serialisation failure. */
const TRANSACTION_ATTEMPTS = 3;
/** Base delay between such attempts, in milliseconds (jittered). */
const TRANSACTION_RETRY_MS = 50;

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the error means the database cannot be reached or cannot answer now. */
export function isUnavailableError(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const code = sqlState(error);
  if (
    code !== undefined &&
    (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08') || NETWORK_CODES.has(code))
  )
    return true;
  const message = error instanceof Error ? error.message : '';
  return CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/** The error as StoreUnavailableError when it means unavailability; otherwise unchanged. */
export function classifyError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isUnavailableError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`database unavailable: ${message}`, { cause: error });
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async all(sql, params = []) {
      try {
        const result = await client.query(numbered(sql), params as unknown[]);
        return result.rows as Row[];
      } catch (error) {
        throw classifyError(error);
      }
    },
    async run(sql, params = []) {
      try {
        const result = await client.query(numbered(sql), params as unknown[]);
        return result.rowCount ?? 0;
      } catch (error) {
        throw classifyError(error);
      }
    },
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Checks a client out of the pool, turning connection failures into StoreUnavailableError. */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw classifyError(error);
  }
}

/** Wraps a pool as a SqlDriver; closing the driver ends the pool. */
export function createPostgresDriver(pool: pg.Pool): SqlDriver {
  const direct = executor(pool);
  async function once<T>(fn: (tx: SqlExecutor) => Promise<T>, readOnly: boolean): Promise<T> {
    const client = await checkout(pool);
    let broken = false;
    try {
      await client.query(readOnly ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
      const result = await fn(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = isUnavailableError(error) && !RETRYABLE_SQLSTATES.has(sqlState(error) ?? '');
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw classifyError(error);
    } finally {
      // A connection that failed is not handed out again.
      client.release(broken);
    }
  }
  return {
    dialect: 'postgres',
    all: direct.all,
    run: direct.run,
    async transaction(fn, options = {}) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(fn, options.readOnly === true);
        } catch (error) {
          const cause = error instanceof StoreUnavailableError ? error.cause : error;
          if (attempt >= TRANSACTION_ATTEMPTS || !RETRYABLE_SQLSTATES.has(sqlState(cause) ?? '')) throw error;
          await pause(TRANSACTION_RETRY_MS * attempt * (1 + Math.random()));
        }
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
    async announceKeys(tx) {
      await tx.all('SELECT pg_notify(?, ?)', [KEYS_CHANNEL, '']);
    },
    async lockKeys(tx, keys) {
      const sorted = [...new Set(keys)].sort();
      for (const key of sorted) await tx.all('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [key]);
    },
    async checkFence(tx, fence) {
      const rows = await tx.all(
        'SELECT epoch FROM leases WHERE name = ? AND holder = ? AND epoch = ? AND expires_at > clock_timestamp() FOR SHARE',
        [fence.name, fence.holder, fence.epoch],
      );
      if (rows.length === 0)
        throw new StoreFencedError(
          `lease ${fence.name} epoch ${fence.epoch} is no longer held by ${fence.holder}`,
        );
    },
    isUniqueViolation(error) {
      return sqlState(error) === '23505';
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * Leases over the `leases` table. Taking a lease that was free, expired or held by another holder moves its
 * epoch on; renewing a live lease keeps the epoch. Expiry is kept on the database's clock, so node clocks do not
 * matter.
 */
export function createPostgresLeases(driver: SqlDriver): LeaseStore {
  return {
    async acquire(name, holder, ttlMs) {
      const rows = await driver.all(
        `INSERT INTO leases (name, holder, epoch, expires_at)
         VALUES (?, ?, 1, clock_timestamp() + make_interval(secs => ? / 1000.0))
         ON CONFLICT (name) DO UPDATE SET
           epoch = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > clock_timestamp()
                        THEN leases.epoch ELSE leases.epoch + 1 END,
           holder = excluded.holder,
           expires_at = excluded.expires_at
         WHERE leases.holder = excluded.holder OR leases.expires_at <= clock_timestamp()
         RETURNING epoch`,
        [name, holder, ttlMs],
      );
      const epoch = rows[0]?.epoch;
      return epoch === undefined ? null : Number(epoch);
    },
    async release(name, holder) {
      await driver.run('UPDATE leases SET expires_at = clock_timestamp() WHERE name = ? AND holder = ?', [
        name,
        holder,
      ]);
    },
  };
}
