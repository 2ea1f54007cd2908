/** The SQLite database: one file in the data directory, migrated at open, behind the SQL driver. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlDriver } from '../sql/sql-driver.ts';
import { createSqliteDriver, openSqliteDatabase, type SqliteSynchronous } from './driver.ts';
import { migrateSqlite } from './migrations.ts';

export type { SqliteSynchronous } from './driver.ts';

/** The database file name inside the data directory. */
export const SQLITE_FILE_NAME = 'dimmer.sqlite';

/** Opens (creating if needed) `<dataDir>/dimmer.sqlite`, or an in-memory database for `':memory:'`, and migrates it. */
export function openSqlite(dataDir: string, options: { synchronous?: SqliteSynchronous } = {}): SqlDriver {
  let filename = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true });
    filename = join(dataDir, SQLITE_FILE_NAME);
  }
  const db = openSqliteDatabase(filename, options.synchronous);
  migrateSqlite(db);
  return createSqliteDriver(db);
}
