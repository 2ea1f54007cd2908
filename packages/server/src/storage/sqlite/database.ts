/**
 * The SQLite database: one file in the data directory, migrated at open, behind the SQL driver.
 *
 * Opening a data directory is guarded so that storage faults stop the start instead of surfacing later:
 * - one process at a time: `dimmer.lock` is a small SQLite database held in `locking_mode=EXCLUSIVE`. The
 *   lock is an OS file lock (POSIX advisory lock) that the kernel drops when the process dies, even on
 *   SIGKILL, so a crashed server never leaves a stale lock. `dimmer.pid` names the holder for the message.
 * - a directory that held data (the `dimmer.initialized` marker) never starts over: a missing, empty
 *   (zero-byte) or unreadable database file is refused, as is a zero-byte file next to WAL files.
 * - `PRAGMA quick_check` must answer `ok`.
 * - the directory is 0700 and every file in it 0600 (tightened on every start).
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startCheckpointer } from './checkpointer.ts';
import {
  BUSY_TIMEOUT_MS,
  createSqliteDriver,
  openSqliteDatabase,
  type SqliteDriver,
  type SqliteSynchronous,
} from './driver.ts';
import { migrateSqlite } from './migrations.ts';

export type { SqliteDriver, SqliteSynchronous } from './driver.ts';

/** The database file name inside the data directory. */
export const SQLITE_FILE_NAME = 'dimmer.sqlite';
/** The lock database: held exclusively by the running server. */
export const LOCK_FILE_NAME = 'dimmer.lock';
/** The pid of the server holding the lock (informational: the lock itself is the OS lock on LOCK_FILE_NAME). */
export const PID_FILE_NAME = 'dimmer.pid';
/** Written once the database was created and migrated: from then on the directory must hold a database. */
export const MARKER_FILE_NAME = 'dimmer.initialized';
/** Mode of the data directory. */
const DIR_MODE = 0o700;
/** Mode of every file in the data directory. */
const FILE_MODE = 0o600;
/** At most this many `quick_check` problems are named in the refusal. */
const QUICK_CHECK_LIMIT = 5;

/** A reason the data directory cannot be opened; the message says what is wrong and what to do. */
export class SqliteStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqliteStartError';
  }
}

/** Takes the data directory's lock or throws SqliteStartError naming the holder's pid; returns the release. */
function lockDataDir(dataDir: string): () => void {
  const lockPath = join(dataDir, LOCK_FILE_NAME);
  const pidPath = join(dataDir, PID_FILE_NAME);
  const lock = new Database(lockPath, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is kept until the connection closes.
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); BEGIN EXCLUSIVE; DELETE FROM holder; COMMIT');
    lock.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
  } catch (error) {
    lock.close();
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      let holder = 'another process';
      try {
        const pid = readFileSync(pidPath, 'utf8').trim();
        if (/^\d+$/.test(pid)) holder = `process ${pid}`;
      } catch {
        // No pid file yet: the holder is starting.
      }
      throw new SqliteStartError(
        `the data directory ${dataDir} is in use by ${holder} (${LOCK_FILE_NAME} is locked); ` +
          'only one Dimmer server may use a SQLite data directory: stop the other one, or use PostgreSQL to run several',
      );
    }
    throw new SqliteStartError(`cannot lock the data directory ${dataDir}: ${(error as Error).message}`);
  }
  writeFileSync(pidPath, `${process.pid}\n`, { mode: FILE_MODE });
  return () => {
    try {
      rmSync(pidPath, { force: true });
    } finally {
      lock.close();
    }
  };
}

/** Makes the directory 0700 and every regular file in it 0600. */
function tightenModes(dataDir: string): void {
  chmodSync(dataDir, DIR_MODE);
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name);
    if (statSync(path).isFile()) chmodSync(path, FILE_MODE);
  }
}

/** Refuses a directory that held data but whose database file is missing, empty or unreadable. */
function checkDatabaseFile(dataDir: string): void {
  const dbPath = join(dataDir, SQLITE_FILE_NAME);
  const initialized = existsSync(join(dataDir, MARKER_FILE_NAME));
  const sidecars = ['-wal', '-shm'].some((suffix) => existsSync(dbPath + suffix));
  if (!existsSync(dbPath)) {
    if (initialized || sidecars)
      throw new SqliteStartError(
        `the database file ${dbPath} is missing but ${dataDir} held a Dimmer database; ` +
          'restore it from a backup (refusing to start an empty install over it)',
      );
    return;
  }
  let size: number;
  try {
    const fd = openSync(dbPath, 'r');
    closeSync(fd);
    size = statSync(dbPath).size;
  } catch (error) {
    throw new SqliteStartError(`the database file ${dbPath} is unreadable: ${(error as Error).message}`);
  }
  if (size === 0)
    throw new SqliteStartError(
      `the database file ${dbPath} is empty (0 bytes); restore it from a backup, or delete the data directory ` +
        'to start a new install (refusing to start an empty install over it)',
    );
}

/** Throws SqliteStartError unless `PRAGMA quick_check` answers ok. */
function quickCheck(db: Database.Database, dbPath: string): void {
  const rows = db.pragma(`quick_check(${QUICK_CHECK_LIMIT})`) as { quick_check: string }[];
  const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  if (problems.length > 0)
    throw new SqliteStartError(
      `the database file ${dbPath} is corrupt (quick_check: ${problems.join('; ')}); restore it from a backup`,
    );
}

/**
 * Opens (creating if needed) `<dataDir>/dimmer.sqlite`, or an in-memory database for `':memory:'`, and
 * migrates it. Throws SqliteStartError when the directory is in use, the database is missing, empty or corrupt.
 */
export function openSqlite(dataDir: string, options: { synchronous?: SqliteSynchronous } = {}): SqliteDriver {
  if (dataDir === ':memory:') {
    const db = openSqliteDatabase(':memory:', options.synchronous);
    migrateSqlite(db);
    return createSqliteDriver(db, undefined, undefined, options.synchronous);
  }
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  const release = lockDataDir(dataDir);
  try {
    tightenModes(dataDir);
    checkDatabaseFile(dataDir);
    const dbPath = join(dataDir, SQLITE_FILE_NAME);
    // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode.
    closeSync(openSync(dbPath, 'a', FILE_MODE));
    let db: Database.Database;
    try {
      db = openSqliteDatabase(dbPath, options.synchronous);
    } catch (error) {
      throw new SqliteStartError(`cannot open the database file ${dbPath}: ${(error as Error).message}`);
    }
    try {
      try {
        quickCheck(db, dbPath);
      } catch (error) {
        if (error instanceof SqliteStartError) throw error;
        throw new SqliteStartError(`the database file ${dbPath} is unreadable: ${(error as Error).message}`);
      }
      migrateSqlite(db);
      writeFileSync(join(dataDir, MARKER_FILE_NAME), 'dimmer\n', { mode: FILE_MODE });
      tightenModes(dataDir);
    } catch (error) {
      db.close();
      throw error;
    }
    return createSqliteDriver(
      db,
      release,
      (betweenTransactions) =>
        startCheckpointer(db, {
          synchronous: options.synchronous ?? 'NORMAL',
          busyTimeoutMs: BUSY_TIMEOUT_MS,
          restart: betweenTransactions,
          onError: (error) => process.emitWarning(error.message, 'DimmerSqliteCheckpoint'),
        }),
      options.synchronous,
    );
  } catch (error) {
    release();
    throw error;
  }
}
