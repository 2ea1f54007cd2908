/** The generic document store over SQL: a keyed JSON document table with revisions and audit. */
import type { DocumentRecord, DocumentStore } from '../document-stores.ts';
import { StoreConflictError, StoreNotFoundError } from '../write.ts';
import type { Row, SqlDriver, SqlExecutor } from './sql-driver.ts';
import { json, num } from './sql-rows.ts';
import type { SqlWrites } from './sql-writes.ts';

const DOCUMENT_COLUMNS = 'key, document, revision, created_at, updated_at';

/** A document store over `table` (columns key, document, revision, created_at, updated_at); `what` names it in errors. */
export function createSqlDocumentStore<T extends { key: string }>(
  driver: SqlDriver,
  writes: SqlWrites,
  table: string,
  what: string,
): DocumentStore<T> {
  const toRecord = (row: Row): DocumentRecord<T> => ({
    doc: json(row.document) as T,
    revision: num(row.revision),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  });
  const missingOrConflict = async (tx: SqlExecutor, key: string) => {
    const [exists] = await tx.all(`SELECT revision FROM ${table} WHERE key = ?`, [key]);
    if (!exists) return new StoreNotFoundError(`${what} ${key} not found`);
    return new StoreConflictError(`${what} ${key} was changed concurrently`);
  };
  return {
    async list() {
      return (await driver.all(`SELECT ${DOCUMENT_COLUMNS} FROM ${table} ORDER BY key`)).map(toRecord);
    },
    async get(key) {
      const [row] = await driver.all(`SELECT ${DOCUMENT_COLUMNS} FROM ${table} WHERE key = ?`, [key]);
      return row ? toRecord(row) : undefined;
    },
    create(doc, audit) {
      return writes.write(`${what} ${doc.key}`, async (tx) => {
        const [row] = await tx.all(
          `INSERT INTO ${table} (${DOCUMENT_COLUMNS}) VALUES (?, ?, 1, ?, ?) RETURNING ${DOCUMENT_COLUMNS}`,
          [doc.key, JSON.stringify(doc), audit.at, audit.at],
        );
        await writes.appendAudit(tx, audit);
        return toRecord(row as Row);
      });
    },
    update(doc, options, audit) {
      return driver.transaction(async (tx) => {
        const [row] = await tx.all(
          `UPDATE ${table} SET document = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ? RETURNING ${DOCUMENT_COLUMNS}`,
          [JSON.stringify(doc), audit.at, doc.key, options.expectedRevision],
        );
        if (!row) throw await missingOrConflict(tx, doc.key);
        await writes.appendAudit(tx, audit);
        return toRecord(row);
      });
    },
    async delete(key, options, audit) {
      await driver.transaction(async (tx) => {
        const changed = await tx.run(`DELETE FROM ${table} WHERE key = ? AND revision = ?`, [
          key,
          options.expectedRevision,
        ]);
        if (changed === 0) throw await missingOrConflict(tx, key);
        await writes.appendAudit(tx, audit);
      });
    },
  };
}
