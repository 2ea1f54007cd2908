import type { FlagConfig } from '@dimmer/core';
import type { AuditInput, WriteResult } from '../storage/write.ts';

/** A stored flag document with its lifecycle fields. */
export interface FlagRecord {
  flag: FlagConfig;
  archived: boolean;
  /** Increases by one with every write; used for optimistic concurrency. */
  revision: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

export interface FlagFilter {
  /** Case-insensitive substring of the key or the description. */
  q?: string;
  includeArchived?: boolean;
}

/**
 * Flag writes bump the config version of every environment and record the audit entry, in one transaction.
 */
export interface FlagsStore {
  /** Flags ordered by key. */
  list(filter?: FlagFilter): Promise<FlagRecord[]>;
  get(key: string): Promise<FlagRecord | undefined>;
  /** Throws StoreConflictError when the key exists. */
  create(flag: FlagConfig, audit: AuditInput): Promise<WriteResult<FlagRecord>>;
  /**
   * Replaces the document (and archived state) if the stored revision is `expectedRevision`;
   * throws StoreConflictError when it moved on, StoreNotFoundError when the flag is gone.
   */
  update(
    flag: FlagConfig,
    options: { expectedRevision: number; archived: boolean },
    audit: AuditInput,
  ): Promise<WriteResult<FlagRecord>>;
}
