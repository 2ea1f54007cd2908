import type { AuditInput, WriteResult } from '../storage/write.ts';

/** An environment and its current config version (bumped by every flag or segment write). */
export interface EnvironmentRecord {
  key: string;
  name: string;
  /** Epoch milliseconds. */
  createdAt: number;
  configVersion: number;
  /** Epoch milliseconds of the last config version. */
  committedAt: number;
}

export interface EnvironmentsStore {
  /** Every environment, ordered by key. */
  list(): Promise<EnvironmentRecord[]>;
  get(key: string): Promise<EnvironmentRecord | undefined>;
  /** Creates an environment at config version 1; throws StoreConflictError when the key exists. */
  create(input: { key: string; name: string }, audit: AuditInput): Promise<WriteResult<EnvironmentRecord>>;
}
