/** The segments port in memory (unit tests). */
import { byKey, copy, type MemoryDatabase } from '../storage/memory/memory-database.ts';
import { StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { SegmentRecord, SegmentsStore } from './segments.store.ts';

/** The in-memory table of segment records, by key. */
export const SEGMENTS_TABLE = 'segments';

/** The segments store over the shared in-memory database. */
export function createMemorySegmentsStore(db: MemoryDatabase): SegmentsStore {
  const segments = db.table<SegmentRecord>(SEGMENTS_TABLE);
  const current = (key: string, expectedRevision: number): SegmentRecord => {
    const record = segments.get(key);
    if (!record) throw new StoreNotFoundError(`segment ${key} not found`);
    if (record.revision !== expectedRevision)
      throw new StoreConflictError(`segment ${key} was changed concurrently`);
    return record;
  };
  return {
    async list() {
      return [...segments.values()].sort((a, b) => byKey(a.segment, b.segment)).map(copy);
    },
    async get(key) {
      return copy(segments.get(key));
    },
    async create(segment, auditInput) {
      db.checkOpen();
      if (segments.has(segment.key)) throw new StoreConflictError(`segment ${segment.key} exists`);
      const record: SegmentRecord = {
        segment: copy(segment),
        revision: 1,
        createdAt: auditInput.at,
        updatedAt: auditInput.at,
      };
      segments.set(segment.key, record);
      db.appendAudit(auditInput);
      return { value: copy(record), changes: db.bumpAll(auditInput.at) };
    },
    async update(segment, options, auditInput) {
      db.checkOpen();
      const old = current(segment.key, options.expectedRevision);
      const record: SegmentRecord = {
        segment: copy(segment),
        revision: old.revision + 1,
        createdAt: old.createdAt,
        updatedAt: auditInput.at,
      };
      segments.set(segment.key, record);
      db.appendAudit(auditInput);
      return { value: copy(record), changes: db.bumpAll(auditInput.at) };
    },
    async delete(key, options, auditInput) {
      db.checkOpen();
      current(key, options.expectedRevision);
      segments.delete(key);
      db.appendAudit(auditInput);
      return { value: null, changes: db.bumpAll(auditInput.at) };
    },
  };
}
