/** The audit log port in memory (unit tests). */
import { copy, type MemoryDatabase } from '../storage/memory/memory-database.ts';
import type { AuditEntry, AuditStore } from './audit.store.ts';

/** The audit store over the shared in-memory database's log. */
export function createMemoryAuditStore(db: MemoryDatabase): AuditStore {
  return {
    async list(filter) {
      const out: AuditEntry[] = [];
      for (let i = db.auditLog.length - 1; i >= 0 && out.length < filter.limit; i--) {
        const e = db.auditLog[i] as AuditEntry;
        if (filter.beforeId !== undefined && e.id >= filter.beforeId) continue;
        if (filter.resourceType !== undefined && e.resourceType !== filter.resourceType) continue;
        if (filter.resourceKey !== undefined && e.resourceKey !== filter.resourceKey) continue;
        if (filter.actor !== undefined && e.actor !== filter.actor) continue;
        if (filter.since !== undefined && e.at < filter.since) continue;
        out.push(copy(e));
      }
      return out;
    },
  };
}
