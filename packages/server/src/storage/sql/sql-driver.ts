/**
 * The small surface the shared SQL stores need from a database driver. SQL is written once with `?`
 * placeholders; the PostgreSQL driver numbers them. The per-dialect differences live in the drivers
 * and their migrations.
 */
import type { ConfigChange, LeaseFence } from '../write.ts';

export type Row = Record<string, unknown>;

export interface SqlExecutor {
  /** Runs a statement and returns its rows (empty for statements without RETURNING). */
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a statement and returns the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one transaction: commit when it resolves, roll back when it throws. A read-only
   * transaction sees one consistent snapshot.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: { readOnly?: boolean }): Promise<T>;
  /** Announces committed config versions to other processes, inside the writing transaction. */
  announce(tx: SqlExecutor, changes: readonly ConfigChange[]): Promise<void>;
  /**
   * Serialises writers of the same keys across processes until the transaction ends (PostgreSQL advisory
   * locks, taken in sorted order); a no-op where one connection writes (SQLite).
   */
  lockKeys(tx: SqlExecutor, keys: readonly string[]): Promise<void>;
  /** Tells other processes, inside the writing transaction, that client keys changed (absent on one process). */
  announceKeys?(tx: SqlExecutor): Promise<void>;
  /**
   * Inside a writing transaction: throws StoreFencedError unless `fence` still holds its lease (the lease row is
   * share-locked until the transaction ends, so no takeover can commit in between). Absent on one process.
   */
  checkFence?(tx: SqlExecutor, fence: LeaseFence): Promise<void>;
  /** True when the error is a unique or primary key violation. */
  isUniqueViolation(error: unknown): boolean;
  close(): Promise<void>;
}
