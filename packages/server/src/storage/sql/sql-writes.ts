/**
 * The transaction helper every SQL adapter writes through: each write runs in one transaction with the audit
 * entry it records and, for config writes, the config version bump of every environment (announced to other
 * processes inside the same transaction).
 */
import { type AuditInput, type ConfigChange, StoreConflictError } from '../write.ts';
import type { SqlDriver, SqlExecutor } from './sql-driver.ts';
import { marks, num, str, toJson } from './sql-rows.ts';

export interface SqlWrites {
  /** Records the audit entry inside the writing transaction. */
  appendAudit(tx: SqlExecutor, input: AuditInput): Promise<void>;
  /** Moves every environment to its next config version and announces the new versions. */
  bumpAll(tx: SqlExecutor, at: number): Promise<ConfigChange[]>;
  /** Moves the named environments (none when empty) to their next config version and announces them. */
  bump(tx: SqlExecutor, at: number, environments: readonly string[]): Promise<ConfigChange[]>;
  /** Every environment's key, in the writing transaction. */
  environmentKeys(tx: SqlExecutor): Promise<string[]>;
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
    bumpAll(tx, at) {
      return bump(tx, at, undefined);
    },
    bump(tx, at, environments) {
      return environments.length === 0 ? Promise.resolve([]) : bump(tx, at, environments);
    },
    async environmentKeys(tx) {
      return (await tx.all('SELECT key FROM environments ORDER BY key')).map((r) => str(r.key));
    },
    write(what, fn) {
      return conflictOnUnique(`${what} exists`, () => driver.transaction(fn));
    },
    conflictOnUnique,
  };

  async function bump(
    tx: SqlExecutor,
    at: number,
    only: readonly string[] | undefined,
  ): Promise<ConfigChange[]> {
    const rows = await tx.all(
      `UPDATE environments SET config_version = config_version + 1, committed_at = ?${only === undefined ? '' : ` WHERE key IN (${marks(only.length)})`} RETURNING key, config_version`,
      only === undefined ? [at] : [at, ...only],
    );
    const changes = rows
      .map((r) => ({ environment: str(r.key), version: num(r.config_version), committedAt: at }))
      .sort((a, b) => (a.environment < b.environment ? -1 : a.environment > b.environment ? 1 : 0));
    await driver.announce(tx, changes);
    return changes;
  }
}
