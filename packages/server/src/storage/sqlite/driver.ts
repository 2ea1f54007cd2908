/**
 * SQL driver over better-sqlite3. Its calls are synchronous; an async lock makes a transaction that
 * awaits between statements exclusive on the one connection, so no other request's statement runs
 * inside it.
 *
 * Waiting for another process's write lock never blocks the event loop for long: SQLite's own busy wait is
 * BUSY_TIMEOUT_MS, after which the driver retries with backoff between event-loop turns, up to BUSY_DEADLINE_MS,
 * then answers UNAVAILABLE. A write failing for a disk reason (full, I/O error, read-only) answers UNAVAILABLE
 * with a retry hint and marks the storage not writable until a write succeeds again (`health`).
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { AppError } from '../../errors.ts';
import type { Row, SqlDriver, SqlExecutor } from '../sql/sql-driver.ts';
import type { ConfigChange } from '../write.ts';
import type { Checkpointer } from './checkpointer.ts';

/** How long one synchronous SQLite call may wait for another process's lock, in milliseconds. */
export const BUSY_TIMEOUT_MS = 20;
/** How long a statement keeps retrying (asynchronously) for a lock before answering UNAVAILABLE. */
export const BUSY_DEADLINE_MS = 5_000;
/** First and longest pause between lock retries, in milliseconds. */
const BUSY_BACKOFF_MIN_MS = 5;
const BUSY_BACKOFF_MAX_MS = 100;
/** Retry-After (seconds) of a write refused because the disk cannot take it or the database is locked. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * After a disk fault the storage counts as writable again only with this much free space (bytes) on its file
 * system: a write of a page or two may fit in the last free bytes while a real write does not.
 */
export const MIN_FREE_BYTES_AFTER_FAULT = 1024 * 1024;

/** SQLite result codes meaning the disk cannot take the write (extended codes start with these). */
const DISK_ERROR_CODES = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY'] as const;

function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** True for a disk fault: no space, an I/O error, or a file or file system gone read-only. */
export function isDiskError(error: unknown): boolean {
  const code = sqliteCode(error);
  return DISK_ERROR_CODES.some((c) => code === c || code.startsWith(`${c}_`));
}

function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_');
}

/**
 * A write refused because the disk cannot take it (UNAVAILABLE with a retry hint); `fault` names the SQLite code
 * and message. A connection on another thread (the events writer) reports it so the serving driver can mark the
 * storage not writable (`SqliteDriver.beside`).
 */
export class DiskFaultError extends AppError {
  readonly fault: string;

  constructor(fault: string) {
    super('UNAVAILABLE', `storage cannot write (${fault}); retry later`, {
      retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS,
    });
    this.fault = fault;
  }
}

/** Runs the synchronous `fn`, retrying with backoff (between event-loop turns) while the database is busy. */
async function retryWhileBusy<T>(fn: () => T): Promise<T> {
  const started = Date.now();
  let pause = BUSY_BACKOFF_MIN_MS;
  for (;;) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error)) throw error;
      if (Date.now() - started >= BUSY_DEADLINE_MS)
        throw new AppError('UNAVAILABLE', 'the database is locked by another process; retry later', {
          retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS,
        });
      await sleep(pause);
      pause = Math.min(pause * 2, BUSY_BACKOFF_MAX_MS);
    }
  }
}

/**
 * `NORMAL` (default): in WAL mode a commit survives a crash of the process; the last commits may be lost on
 * power failure or an OS crash. `FULL`: every commit is fsynced, durable on power loss too, slower.
 */
export type SqliteSynchronous = 'NORMAL' | 'FULL';

/** The SQL driver of one SQLite connection, with what another connection to the same file needs. */
export interface SqliteDriver extends SqlDriver {
  /** The database file, or null for an in-memory database (which no other connection can open). */
  readonly file: string | null;
  readonly synchronous: SqliteSynchronous;
  /**
   * Runs `work`, a write by another connection to the same file (a worker thread's), while this connection writes
   * nothing (its reads go on): neither waits for the other's lock, so the serving thread never blocks on it. A DiskFaultError from
   * `work` marks the storage not writable (`health`), a success clears the mark, as this connection's writes do.
   */
  beside<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * Turns at writing between a connection's own writes and the work written `beside` it by another connection:
 * works beside run together (the other connection orders them itself), a serving write runs alone, and turns are
 * taken first come, first served, so a steady stream of work beside never starves the serving connection.
 */
class WriteTurns {
  #side: 'serving' | 'beside' | null = null;
  #holders = 0;
  readonly #waiting: { side: 'serving' | 'beside'; start(): void }[] = [];

  async run<T>(side: 'serving' | 'beside', fn: () => Promise<T>): Promise<T> {
    const free =
      this.#waiting.length === 0 && (this.#side === null || (side === 'beside' && this.#side === side));
    if (free) this.#enter(side);
    else await new Promise<void>((start) => this.#waiting.push({ side, start }));
    try {
      return await fn();
    } finally {
      this.#leave();
    }
  }

  #enter(side: 'serving' | 'beside'): void {
    this.#side = side;
    this.#holders++;
  }

  #leave(): void {
    this.#holders--;
    if (this.#holders > 0) return;
    this.#side = null;
    const head = this.#waiting[0];
    if (head === undefined) return;
    if (head.side === 'serving') {
      this.#waiting.shift();
      this.#enter('serving');
      head.start();
      return;
    }
    for (let next = this.#waiting[0]; next?.side === 'beside'; next = this.#waiting[0]) {
      this.#waiting.shift();
      this.#enter('beside');
      next.start();
    }
  }
}

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

/**
 * Wraps an open database as a SqlDriver; closing the driver closes the database, then runs `onClose`
 * (releasing the data directory's lock). `startCheckpoints` takes over the WAL checkpoints: it is given a way
 * to run a step on the connection between two transactions, every committed write is reported to what it
 * returns, and that is stopped before the database closes.
 */
export function createSqliteDriver(
  db: Database.Database,
  onClose: () => void = () => undefined,
  startCheckpoints?: (betweenTransactions: (step: () => void) => void) => Checkpointer,
  synchronous: SqliteSynchronous = 'NORMAL',
): SqliteDriver {
  const statements = new Map<string, Database.Statement>();
  let queue: Promise<unknown> = Promise.resolve();
  const turns = new WriteTurns();
  /** The disk fault of the last failed write, until a write succeeds again. */
  let writeFault: string | undefined;

  function diskFault(error: unknown): DiskFaultError {
    writeFault = `${sqliteCode(error)}: ${(error as Error).message}`;
    return new DiskFaultError(writeFault);
  }

  /**
   * Runs a statement or transaction: a disk fault becomes UNAVAILABLE and marks the storage not writable;
   * a successful write (`writes`) clears the mark.
   */
  async function writing<T>(fn: () => Promise<T>, writes = true): Promise<T> {
    try {
      const result = await fn();
      if (writes) {
        writeFault = undefined;
        checkpoints?.wrote();
      }
      return result;
    } catch (error) {
      throw isDiskError(error) ? diskFault(error) : error;
    }
  }

  function prepare(sql: string): Database.Statement {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  }

  function isReader(sql: string): boolean {
    return statements.get(sql)?.reader ?? /^\s*(SELECT|WITH)\b/i.test(sql);
  }

  function allSync(sql: string, params: readonly unknown[] = []): Row[] {
    const stmt = prepare(sql);
    if (stmt.reader) return stmt.all(...params) as Row[];
    stmt.run(...params);
    return [];
  }

  function runSync(sql: string, params: readonly unknown[] = []): number {
    const stmt = prepare(sql);
    if (stmt.reader) {
      stmt.all(...params);
      return 0;
    }
    return stmt.run(...params).changes;
  }

  const direct: SqlExecutor = {
    async all(sql, params) {
      return allSync(sql, params);
    },
    async run(sql, params) {
      return runSync(sql, params);
    },
  };

  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = queue.then(fn, fn);
    queue = result.catch(() => undefined);
    return result;
  }

  /** One statement outside a transaction; a write waits for its turn (work beside may be writing). */
  function statement<T>(sql: string, fn: () => T): Promise<T> {
    if (isReader(sql)) return exclusive(() => writing(() => retryWhileBusy(fn), false));
    return exclusive(() => turns.run('serving', () => writing(() => retryWhileBusy(fn))));
  }

  // A checkpoint step that fails (another checkpoint holds the log) is simply left to the next one.
  const checkpoints = startCheckpoints?.((step) => {
    void exclusive(async () => step()).catch(() => undefined);
  });

  return {
    dialect: 'sqlite',
    file: db.memory ? null : db.name,
    synchronous,
    beside(work) {
      return turns.run('beside', async () => {
        try {
          const result = await work();
          writeFault = undefined;
          return result;
        } catch (error) {
          if (error instanceof DiskFaultError) writeFault = error.fault;
          throw error;
        }
      });
    },
    // Outside a transaction a statement that failed busy took no lock and changed nothing: retry it.
    all: (sql, params) => statement(sql, () => allSync(sql, params)),
    run: (sql, params) => statement(sql, () => runSync(sql, params)),
    transaction(fn, options = {}) {
      const begin = options.readOnly ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE';
      const body = async () => {
        await retryWhileBusy(() => db.exec(begin));
        try {
          const result = await fn(direct);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      };
      return exclusive(() =>
        options.readOnly ? writing(body, false) : turns.run('serving', () => writing(body)),
      );
    },
    async health() {
      if (writeFault === undefined) return;
      if (!db.memory) {
        const fs = statfsSync(dirname(db.name));
        if (fs.bavail * fs.bsize < MIN_FREE_BYTES_AFTER_FAULT)
          throw new AppError('UNAVAILABLE', `storage cannot write (${writeFault}); the disk is still full`, {
            retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS,
          });
      }
      // Not writable since the last disk fault: probe with a small write that changes nothing.
      await exclusive(() =>
        turns.run('serving', () =>
          writing(async () => {
            await retryWhileBusy(() => db.exec('BEGIN IMMEDIATE'));
            try {
              runSync(
                'UPDATE schema_migrations SET applied_at = applied_at WHERE version = (SELECT MAX(version) FROM schema_migrations)',
              );
              db.exec('COMMIT');
            } catch (error) {
              if (db.inTransaction) db.exec('ROLLBACK');
              throw error;
            }
          }),
        ),
      );
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
        await checkpoints?.close();
        db.close();
        onClose();
      });
    },
  };
}
