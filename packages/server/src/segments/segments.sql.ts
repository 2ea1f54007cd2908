/** The segments port over SQL (SQLite and PostgreSQL). */
import type { Segment } from '@dimmer/core';
import type { Row, SqlDriver, SqlExecutor } from '../storage/sql/sql-driver.ts';
import { json, num } from '../storage/sql/sql-rows.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import { StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { SegmentRecord, SegmentsStore } from './segments.store.ts';

const SEGMENT_COLUMNS = 'key, document, revision, created_at, updated_at';

function toSegment(row: Row): SegmentRecord {
  return {
    segment: json(row.document) as Segment,
    revision: num(row.revision),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

async function missingOrConflict(tx: SqlExecutor, key: string): Promise<Error> {
  const [exists] = await tx.all('SELECT revision FROM segments WHERE key = ?', [key]);
  if (!exists) return new StoreNotFoundError(`segment ${key} not found`);
  return new StoreConflictError(`segment ${key} was changed concurrently`);
}

/** The segments store over a migrated driver; every write bumps every environment's config version. */
export function createSqlSegmentsStore(driver: SqlDriver, writes: SqlWrites): SegmentsStore {
  return {
    async list() {
      const rows = await driver.all(`SELECT ${SEGMENT_COLUMNS} FROM segments ORDER BY key`);
      return rows.map(toSegment);
    },
    async get(key) {
      const [row] = await driver.all(`SELECT ${SEGMENT_COLUMNS} FROM segments WHERE key = ?`, [key]);
      return row ? toSegment(row) : undefined;
    },
    async create(segment, audit) {
      return writes.write(`segment ${segment.key}`, async (tx) => {
        const [row] = await tx.all(
          `INSERT INTO segments (key, document, revision, created_at, updated_at) VALUES (?, ?, 1, ?, ?) RETURNING ${SEGMENT_COLUMNS}`,
          [segment.key, JSON.stringify(segment), audit.at, audit.at],
        );
        await writes.appendAudit(tx, audit);
        return { value: toSegment(row as Row), changes: await writes.bumpAll(tx, audit.at) };
      });
    },
    async update(segment, options, audit) {
      return driver.transaction(async (tx) => {
        const [row] = await tx.all(
          `UPDATE segments SET document = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ? RETURNING ${SEGMENT_COLUMNS}`,
          [JSON.stringify(segment), audit.at, segment.key, options.expectedRevision],
        );
        if (!row) throw await missingOrConflict(tx, segment.key);
        await writes.appendAudit(tx, audit);
        return { value: toSegment(row), changes: await writes.bumpAll(tx, audit.at) };
      });
    },
    async delete(key, options, audit) {
      return driver.transaction(async (tx) => {
        const changed = await tx.run('DELETE FROM segments WHERE key = ? AND revision = ?', [
          key,
          options.expectedRevision,
        ]);
        if (changed === 0) throw await missingOrConflict(tx, key);
        await writes.appendAudit(tx, audit);
        return { value: null, changes: await writes.bumpAll(tx, audit.at) };
      });
    },
  };
}
