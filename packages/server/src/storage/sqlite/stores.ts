/** The SQLite adapter: one database file in the data directory, migrated at open. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createSqlStores } from '../sql/sql-stores.ts';
import type { Stores } from '../stores.ts';
import { createSqliteDriver, openSqliteDatabase, type SqliteSynchronous } from './driver.ts';
import { migrateSqlite } from './migrations.ts';

/** The database file name inside the data directory. */
export const SQLITE_FILE_NAME = 'dimmer.sqlite';

/** Opens (creating if needed) `<dataDir>/dimmer.sqlite`, or an in-memory database for `':memory:'`, and migrates it. */
export function createSqliteStores(
  dataDir: string,
  options: { synchronous?: SqliteSynchronous } = {},
): Stores {
  let filename = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true });
    filename = join(dataDir, SQLITE_FILE_NAME);
  }
  const db = openSqliteDatabase(filename, options.synchronous);
  migrateSqlite(db);
  return { kind: 'sqlite', ...createSqlStores(createSqliteDriver(db)) };
}
