/** The flags port in memory (unit tests). */
import { byKey, copy, type MemoryDatabase } from '../storage/memory/memory-database.ts';
import { StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import { environmentsTouched } from './flag-versions.ts';
import type { FlagRecord, FlagsStore } from './flags.store.ts';

/** The in-memory table of flag records, by key (rollouts move a flag's reach in the same write). */
export const FLAGS_TABLE = 'flags';

/** The flags store over the shared in-memory database. */
export function createMemoryFlagsStore(db: MemoryDatabase): FlagsStore {
  const flags = db.table<FlagRecord>(FLAGS_TABLE);
  return {
    async list(filter = {}) {
      const q = filter.q?.toLowerCase();
      return [...flags.values()]
        .filter((r) => filter.includeArchived === true || !r.archived)
        .filter(
          (r) =>
            q === undefined ||
            r.flag.key.toLowerCase().includes(q) ||
            (r.flag.description ?? '').toLowerCase().includes(q),
        )
        .sort((a, b) => byKey(a.flag, b.flag))
        .map(copy);
    },
    async get(key) {
      return copy(flags.get(key));
    },
    async create(flag, auditInput) {
      db.checkOpen();
      if (flags.has(flag.key)) throw new StoreConflictError(`flag ${flag.key} exists`);
      const record: FlagRecord = {
        flag: copy(flag),
        archived: false,
        revision: 1,
        createdAt: auditInput.at,
        updatedAt: auditInput.at,
      };
      flags.set(flag.key, record);
      db.appendAudit(auditInput);
      return { value: copy(record), changes: db.bumpAll(auditInput.at) };
    },
    async update(flag, options, auditInput) {
      db.checkOpen();
      const current = flags.get(flag.key);
      if (!current) throw new StoreNotFoundError(`flag ${flag.key} not found`);
      if (current.revision !== options.expectedRevision)
        throw new StoreConflictError(`flag ${flag.key} was changed concurrently`);
      const record: FlagRecord = {
        flag: copy(flag),
        archived: options.archived,
        revision: current.revision + 1,
        createdAt: current.createdAt,
        updatedAt: auditInput.at,
      };
      flags.set(flag.key, record);
      db.appendAudit(auditInput);
      const touched = environmentsTouched(current, record, db.environmentKeys());
      return { value: copy(record), changes: db.bump(auditInput.at, touched) };
    },
  };
}
