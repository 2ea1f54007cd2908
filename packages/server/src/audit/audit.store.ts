import type { AuditEntry, ResourceType } from '../storage/write.ts';

export type { AuditEntry } from '../storage/write.ts';

export interface AuditFilter {
  resourceType?: ResourceType;
  resourceKey?: string;
  actor?: string;
  /** Entries at or after this epoch millisecond. */
  since?: number;
  /** Pagination cursor: only entries with a smaller id. */
  beforeId?: number;
  limit: number;
}

/** Reads the audit log. Entries are written by the other stores inside their transactions; there is no update or delete. */
export interface AuditStore {
  /** Newest first. */
  list(filter: AuditFilter): Promise<AuditEntry[]>;
}
