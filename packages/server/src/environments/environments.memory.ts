/** The environments port in memory (unit tests). */

import { FLAGS_TABLE, type FlagRecord } from '../flags/index.ts';
import { byKey, copy, ENVIRONMENTS_TABLE, type MemoryDatabase } from '../storage/memory/memory-database.ts';
import { StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { EnvironmentRecord, EnvironmentsStore } from './environments.store.ts';

/** The environments store over the shared in-memory database. */
export function createMemoryEnvironmentsStore(db: MemoryDatabase): EnvironmentsStore {
  const environments = db.table<EnvironmentRecord>(ENVIRONMENTS_TABLE);
  const flags = db.table<FlagRecord>(FLAGS_TABLE);
  // Tables of the features that refer to an environment (read by name: this store knows only their shape).
  const referrers = ['rollouts', 'experiments'] as const;
  const clientKeys = db.table<{ environment: string; revokedAt: number | null }>('client_keys');
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
    async rename(key, name, auditInput) {
      db.checkOpen();
      const record = environments.get(key);
      if (!record) throw new StoreNotFoundError(`environment ${key} not found`);
      const next = { ...record, name };
      environments.set(key, next);
      db.appendAudit(auditInput);
      return copy(next);
    },
    async remove(key, auditInput) {
      db.checkOpen();
      if (!environments.has(key)) throw new StoreNotFoundError(`environment ${key} not found`);
      const inUse =
        [...clientKeys.values()].some((k) => k.environment === key && k.revokedAt === null) ||
        referrers.some((t) =>
          [...db.table<{ environment: string }>(t).values()].some((r) => r.environment === key),
        );
      if (inUse) throw new StoreConflictError(`environment ${key} is in use`);
      for (const [id, k] of [...clientKeys.entries()]) if (k.environment === key) clientKeys.delete(id);
      const changed: string[] = [];
      for (const flag of [...flags.values()].sort((a, b) => (a.flag.key < b.flag.key ? -1 : 1))) {
        if (flag.flag.environments[key] === undefined) continue;
        const { [key]: _gone, ...rest } = flag.flag.environments;
        flags.set(flag.flag.key, {
          ...flag,
          flag: { ...flag.flag, environments: rest },
          revision: flag.revision + 1,
          updatedAt: auditInput.at,
        });
        changed.push(flag.flag.key);
      }
      environments.delete(key);
      db.appendAudit(auditInput);
      return changed;
    },
  };
}
