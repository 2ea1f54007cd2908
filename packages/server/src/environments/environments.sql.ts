/** The environments port over SQL (SQLite and PostgreSQL). */

import type { FlagConfig } from '@dimmer/core';
import type { Row, SqlDriver } from '../storage/sql/sql-driver.ts';
import { json, num, str } from '../storage/sql/sql-rows.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import { StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
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
    async rename(key, name, audit) {
      return driver.transaction(async (tx) => {
        const [row] = await tx.all('UPDATE environments SET name = ? WHERE key = ? RETURNING *', [name, key]);
        if (!row) throw new StoreNotFoundError(`environment ${key} not found`);
        await writes.appendAudit(tx, audit);
        return toEnvironment(row);
      });
    },
    async remove(key, audit) {
      return driver.transaction(async (tx) => {
        const [env] = await tx.all('SELECT key FROM environments WHERE key = ?', [key]);
        if (!env) throw new StoreNotFoundError(`environment ${key} not found`);
        const [refs] = await tx.all(
          `SELECT (SELECT COUNT(*) FROM client_keys WHERE environment = ? AND revoked_at IS NULL)
             + (SELECT COUNT(*) FROM rollouts WHERE environment = ?)
             + (SELECT COUNT(*) FROM experiments WHERE environment = ?) AS n`,
          [key, key, key],
        );
        if (num(refs?.n) > 0) throw new StoreConflictError(`environment ${key} is in use`);
        await tx.run('DELETE FROM client_keys WHERE environment = ?', [key]);
        const changed: string[] = [];
        for (const row of await tx.all('SELECT key, document FROM flags ORDER BY key')) {
          const flag = json(row.document) as FlagConfig;
          if (flag.environments[key] === undefined) continue;
          const { [key]: _gone, ...rest } = flag.environments;
          await tx.run(
            'UPDATE flags SET document = ?, revision = revision + 1, updated_at = ? WHERE key = ?',
            [JSON.stringify({ ...flag, environments: rest }), audit.at, str(row.key)],
          );
          changed.push(str(row.key));
        }
        await tx.run('DELETE FROM environments WHERE key = ?', [key]);
        await writes.appendAudit(tx, audit);
        return changed;
      });
    },
  };
}
