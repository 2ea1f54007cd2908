/** The environments port in memory (unit tests). */
import { byKey, copy, ENVIRONMENTS_TABLE, type MemoryDatabase } from '../storage/memory/memory-database.ts';
import { StoreConflictError } from '../storage/write.ts';
import type { EnvironmentRecord, EnvironmentsStore } from './environments.store.ts';

/** The environments store over the shared in-memory database. */
export function createMemoryEnvironmentsStore(db: MemoryDatabase): EnvironmentsStore {
  const environments = db.table<EnvironmentRecord>(ENVIRONMENTS_TABLE);
  return {
    async list() {
      return [...environments.values()].sort(byKey).map(copy);
    },
    async get(key) {
      return copy(environments.get(key));
    },
    async create(input, auditInput) {
      db.checkOpen();
      if (environments.has(input.key)) throw new StoreConflictError(`environment ${input.key} exists`);
      const record: EnvironmentRecord = {
        key: input.key,
        name: input.name,
        createdAt: auditInput.at,
        configVersion: 1,
        committedAt: auditInput.at,
      };
      environments.set(input.key, record);
      db.appendAudit(auditInput);
      return {
        value: copy(record),
        changes: [{ environment: record.key, version: 1, committedAt: record.committedAt }],
      };
    },
  };
}
