/** The flags port over SQL (SQLite and PostgreSQL). */
import type { FlagConfig } from '@dimmer/core';
import type { Row, SqlDriver } from '../storage/sql/sql-driver.ts';
import { escapeLike, json, num, whereClause } from '../storage/sql/sql-rows.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import { StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import { environmentsTouched, type FlagState } from './flag-versions.ts';
import type { FlagRecord, FlagsStore } from './flags.store.ts';

const FLAG_COLUMNS = 'key, document, archived, revision, created_at, updated_at';

function toFlag(row: Row): FlagRecord {
  return {
    flag: json(row.document) as FlagConfig,
    archived: num(row.archived) === 1,
    revision: num(row.revision),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

/** A stored row's flag state (document and archived). */
export function toFlagState(row: Row): FlagState {
  return { flag: json(row.document) as FlagConfig, archived: num(row.archived) === 1 };
}

/**
 * The flags store over a migrated driver; a creation bumps every environment's config version, an update only
 * the environments whose config it changes (flag-versions.ts).
 */
export function createSqlFlagsStore(driver: SqlDriver, writes: SqlWrites): FlagsStore {
  return {
    async list(filter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.includeArchived !== true) where.push('archived = 0');
      if (filter.q !== undefined && filter.q !== '') {
        const pattern = '%' + escapeLike(filter.q.toLowerCase()) + '%';
        where.push("(LOWER(key) LIKE ? ESCAPE '\\' OR LOWER(description) LIKE ? ESCAPE '\\')");
        params.push(pattern, pattern);
      }
      const rows = await driver.all(
        `SELECT ${FLAG_COLUMNS} FROM flags${whereClause(where)} ORDER BY key`,
        params,
      );
      return rows.map(toFlag);
    },
    async get(key) {
      const [row] = await driver.all(`SELECT ${FLAG_COLUMNS} FROM flags WHERE key = ?`, [key]);
      return row ? toFlag(row) : undefined;
    },
    async create(flag, audit) {
      return writes.write(`flag ${flag.key}`, async (tx) => {
        const [row] = await tx.all(
          `INSERT INTO flags (key, document, description, archived, revision, created_at, updated_at) VALUES (?, ?, ?, 0, 1, ?, ?) RETURNING ${FLAG_COLUMNS}`,
          [flag.key, JSON.stringify(flag), flag.description ?? '', audit.at, audit.at],
        );
        await writes.appendAudit(tx, audit);
        return { value: toFlag(row as Row), changes: await writes.bumpAll(tx, audit.at) };
      });
    },
    async update(flag, options, audit) {
      return driver.transaction(async (tx) => {
        const [old] = await tx.all('SELECT document, archived FROM flags WHERE key = ?', [flag.key]);
        const [row] = await tx.all(
          `UPDATE flags SET document = ?, description = ?, archived = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ? RETURNING ${FLAG_COLUMNS}`,
          [
            JSON.stringify(flag),
            flag.description ?? '',
            options.archived ? 1 : 0,
            audit.at,
            flag.key,
            options.expectedRevision,
          ],
        );
        if (!row) {
          const [exists] = await tx.all('SELECT revision FROM flags WHERE key = ?', [flag.key]);
          if (!exists) throw new StoreNotFoundError(`flag ${flag.key} not found`);
          throw new StoreConflictError(`flag ${flag.key} was changed concurrently`);
        }
        await writes.appendAudit(tx, audit);
        const before = old === undefined ? undefined : toFlagState(old);
        const touched = environmentsTouched(before, toFlagState(row), await writes.environmentKeys(tx));
        return { value: toFlag(row), changes: await writes.bump(tx, audit.at, touched) };
      });
    },
  };
}
