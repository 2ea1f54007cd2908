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
  /** Renames an environment; StoreNotFoundError when it does not exist. */
  rename(key: string, name: string, audit: AuditInput): Promise<EnvironmentRecord>;
  /**
   * Deletes an environment in one transaction with its revoked client keys and its state in every flag document
   * (each such flag's revision moves on); returns the keys of the flags changed. StoreNotFoundError when it does
   * not exist; StoreConflictError when something still refers to it (an active key, a rollout, an experiment).
   */
  remove(key: string, audit: AuditInput): Promise<string[]>;
}
