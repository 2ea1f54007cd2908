/** The generic document store in memory: keyed documents with revisions and audit. */
import type { DocumentRecord, DocumentStore } from '../document-stores.ts';
import { StoreConflictError, StoreNotFoundError } from '../write.ts';
import { copy, type MemoryDatabase } from './memory-database.ts';

/** A document store over table `table` of `db`; `what` names it in errors. */
export function createMemoryDocumentStore<T extends { key: string }>(
  db: MemoryDatabase,
  table: string,
  what: string,
): DocumentStore<T> {
  const map = db.table<DocumentRecord<T>>(table);
  const current = (key: string, expectedRevision: number): DocumentRecord<T> => {
    const rec = map.get(key);
    if (!rec) throw new StoreNotFoundError(`${what} ${key} not found`);
    if (rec.revision !== expectedRevision)
      throw new StoreConflictError(`${what} ${key} was changed concurrently`);
    return rec;
  };
  return {
    async list() {
      return [...map.values()]
        .sort((a, b) => (a.doc.key < b.doc.key ? -1 : a.doc.key > b.doc.key ? 1 : 0))
        .map(copy);
    },
    async get(key) {
      return copy(map.get(key));
    },
    async create(doc, audit) {
      db.checkOpen();
      if (map.has(doc.key)) throw new StoreConflictError(`${what} ${doc.key} exists`);
      const rec: DocumentRecord<T> = {
        doc: copy(doc),
        revision: 1,
        createdAt: audit.at,
        updatedAt: audit.at,
      };
      map.set(doc.key, rec);
      db.appendAudit(audit);
      return copy(rec);
    },
    async update(doc, options, audit) {
      db.checkOpen();
      const old = current(doc.key, options.expectedRevision);
      const rec: DocumentRecord<T> = {
        doc: copy(doc),
        revision: old.revision + 1,
        createdAt: old.createdAt,
        updatedAt: audit.at,
      };
      map.set(doc.key, rec);
      db.appendAudit(audit);
      return copy(rec);
    },
    async delete(key, options, audit) {
      db.checkOpen();
      current(key, options.expectedRevision);
      map.delete(key);
      db.appendAudit(audit);
    },
  };
}
