/**
 * The transaction helper every SQL adapter writes through: each write runs in one transaction with the audit
 * entry it records and, for config writes, the config version bump of every environment (announced to other
 * processes inside the same transaction).
 */
import { type AuditInput, type ConfigChange, StoreConflictError } from '../write.ts';
import type { SqlDriver, SqlExecutor } from './sql-driver.ts';
import { num, str, toJson } from './sql-rows.ts';

export interface SqlWrites {
  /** Records the audit entry inside the writing transaction. */
  appendAudit(tx: SqlExecutor, input: AuditInput): Promise<void>;
  /** Moves every environment to its next config version and announces the new versions. */
  bumpAll(tx: SqlExecutor, at: number): Promise<ConfigChange[]>;
  /** Runs `fn` in one transaction, turning a unique violation into StoreConflictError (`<what> exists`). */
  write<T>(what: string, fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs `fn`, turning a unique violation into StoreConflictError with `message`. */
  conflictOnUnique<T>(message: string, fn: () => Promise<T>): Promise<T>;
}

/** The write helpers over a migrated driver. */
export function createSqlWrites(driver: SqlDriver): SqlWrites {
  const conflictOnUnique = async <T>(message: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (driver.isUniqueViolation(error)) throw new StoreConflictError(message);
      throw error;
    }
  };
  return {
    async appendAudit(tx, input) {
      await tx.run(
        'INSERT INTO audit_log (at, actor, action, resource_type, resource_key, environment, before_doc, after_doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [
          input.at,
          input.actor,
          input.action,
          input.resourceType,
          input.resourceKey,
          input.environment ?? null,
          toJson(input.before),
          toJson(input.after),
        ],
      );
    },
    async bumpAll(tx, at) {
      const rows = await tx.all(
        'UPDATE environments SET config_version = config_version + 1, committed_at = ? RETURNING key, config_version',
        [at],
      );
      const changes = rows
        .map((r) => ({ environment: str(r.key), version: num(r.config_version), committedAt: at }))
        .sort((a, b) => (a.environment < b.environment ? -1 : a.environment > b.environment ? 1 : 0));
      await driver.announce(tx, changes);
      return changes;
    },
    write(what, fn) {
      return conflictOnUnique(`${what} exists`, () => driver.transaction(fn));
    },
    conflictOnUnique,
  };
}
