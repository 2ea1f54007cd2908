/**
 * SQL driver over better-sqlite3. Its calls are synchronous; an async lock makes a transaction that
 * awaits between statements exclusive on the one connection, so no other request's statement runs
 * inside it.
 */
import Database from 'better-sqlite3';
import type { Row, SqlDriver, SqlExecutor } from '../sql/sql-driver.ts';
import type { ConfigChange } from '../write.ts';

/** How long a writer waits for another process's write lock, in milliseconds. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * `NORMAL` (default): in WAL mode a commit survives a crash of the process; the last commits may be lost on
 * power failure or an OS crash. `FULL`: every commit is fsynced, durable on power loss too, slower.
 */
export type SqliteSynchronous = 'NORMAL' | 'FULL';

/** Opens a database file (or `:memory:`) in WAL mode with foreign keys on. */
export function openSqliteDatabase(
  filename: string,
  synchronous: SqliteSynchronous = 'NORMAL',
): Database.Database {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}

/** Wraps an open database as a SqlDriver; closing the driver closes the database. */
export function createSqliteDriver(db: Database.Database): SqlDriver {
  const statements = new Map<string, Database.Statement>();
  let queue: Promise<unknown> = Promise.resolve();

  function prepare(sql: string): Database.Statement {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  }

  const direct: SqlExecutor = {
    async all(sql, params = []) {
      const stmt = prepare(sql);
      if (stmt.reader) return stmt.all(...params) as Row[];
      stmt.run(...params);
      return [];
    },
    async run(sql, params = []) {
      const stmt = prepare(sql);
      if (stmt.reader) {
        stmt.all(...params);
        return 0;
      }
      return stmt.run(...params).changes;
    },
  };

  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = queue.then(fn, fn);
    queue = result.catch(() => undefined);
    return result;
  }

  return {
    dialect: 'sqlite',
    all: (sql, params) => exclusive(() => direct.all(sql, params)),
    run: (sql, params) => exclusive(() => direct.run(sql, params)),
    transaction(fn, options = {}) {
      return exclusive(async () => {
        db.exec(options.readOnly ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE');
        try {
          const result = await fn(direct);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      });
    },
    async announce(_tx: SqlExecutor, _changes: readonly ConfigChange[]) {
      // One process owns the file: the caller notifies its hub after the commit.
    },
    async lockKeys() {
      // BEGIN IMMEDIATE already makes every write transaction exclusive.
    },
    isUniqueViolation(error) {
      const code = (error as { code?: unknown } | null)?.code;
      return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
    },
    async close() {
      await exclusive(async () => {
        db.close();
      });
    },
  };
}
