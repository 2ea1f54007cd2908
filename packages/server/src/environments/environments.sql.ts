/** The environments port over SQL (SQLite and PostgreSQL). */
import type { Row, SqlDriver } from '../storage/sql/sql-driver.ts';
import { num, str } from '../storage/sql/sql-rows.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import type { EnvironmentRecord, EnvironmentsStore } from './environments.store.ts';

function toEnvironment(row: Row): EnvironmentRecord {
  return {
    key: str(row.key),
    name: str(row.name),
    createdAt: num(row.created_at),
    configVersion: num(row.config_version),
    committedAt: num(row.committed_at),
  };
}

/** The environments store over a migrated driver. */
export function createSqlEnvironmentsStore(driver: SqlDriver, writes: SqlWrites): EnvironmentsStore {
  return {
    async list() {
      const rows = await driver.all('SELECT * FROM environments ORDER BY key');
      return rows.map(toEnvironment);
    },
    async get(key) {
      const [row] = await driver.all('SELECT * FROM environments WHERE key = ?', [key]);
      return row ? toEnvironment(row) : undefined;
    },
    async create(input, audit) {
      return writes.write(`environment ${input.key}`, async (tx) => {
        const [row] = await tx.all(
          'INSERT INTO environments (key, name, created_at, config_version, committed_at) VALUES (?, ?, ?, 1, ?) RETURNING *',
          [input.key, input.name, audit.at, audit.at],
        );
        const record = toEnvironment(row as Row);
        await writes.appendAudit(tx, audit);
        const changes = [{ environment: record.key, version: record.configVersion, committedAt: audit.at }];
        await driver.announce(tx, changes);
        return { value: record, changes };
      });
    },
  };
}
