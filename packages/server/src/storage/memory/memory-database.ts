/**
 * The in-memory database the memory adapters share (unit tests): named tables of records by key, the audit
 * log and the environments' config versions. Every write runs without an await between its steps, so it is
 * atomic with respect to other requests, like a transaction. Values are deep-copied in and out.
 */
import type { AuditEntry, AuditInput, ConfigChange } from '../write.ts';

/** The table of environments, whose config versions every config write moves on. */
export const ENVIRONMENTS_TABLE = 'environments';

/** The part of an environment record the version bump reads and writes. */
export interface VersionedEnvironment {
  key: string;
  configVersion: number;
  /** Epoch milliseconds of the last config version. */
  committedAt: number;
}

export interface MemoryDatabase {
  /** The records of table `name` by key (one shared map per name, created empty on first use). */
  table<T>(name: string): Map<string, T>;
  /** The audit log, oldest first. */
  readonly auditLog: readonly AuditEntry[];
  appendAudit(input: AuditInput): void;
  /** Moves every environment to its next config version at `at`; returns the changes ordered by key. */
  bumpAll(at: number): ConfigChange[];
  /** Moves the named environments to their next config version at `at`; returns the changes ordered by key. */
  bump(at: number, environments: readonly string[]): ConfigChange[];
  /** Every environment's key, ordered. */
  environmentKeys(): string[];
  /** Throws once the database is closed. */
  checkOpen(): void;
  close(): void;
}

/** A deep copy through JSON (the stored form of every value). */
export function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Orders records by their `key`. */
export function byKey<T extends { key: string }>(a: T, b: T): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Oldest first, then by id: the listing order of records with a creation time (as the SQL stores order them). */
export function byCreation<T extends { createdAt: number; id: string }>(a: T, b: T): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Creates an empty database. */
export function createMemoryDatabase(): MemoryDatabase {
  const tables = new Map<string, Map<string, unknown>>();
  const auditLog: AuditEntry[] = [];
  let closed = false;
  const table = <T>(name: string): Map<string, T> => {
    let rows = tables.get(name);
    if (rows === undefined) {
      rows = new Map();
      tables.set(name, rows);
    }
    return rows as Map<string, T>;
  };
  return {
    table,
    auditLog,
    appendAudit(input) {
      auditLog.push({
        id: auditLog.length + 1,
        at: input.at,
        actor: input.actor,
        action: input.action,
        resourceType: input.resourceType,
        resourceKey: input.resourceKey,
        environment: input.environment ?? null,
        before: copy(input.before ?? null),
        after: copy(input.after ?? null),
      });
    },
    bumpAll(at) {
      return this.bump(at, this.environmentKeys());
    },
    environmentKeys() {
      return [...table<VersionedEnvironment>(ENVIRONMENTS_TABLE).values()].sort(byKey).map((e) => e.key);
    },
    bump(at, environments) {
      const only = new Set(environments);
      const changes: ConfigChange[] = [];
      for (const env of [...table<VersionedEnvironment>(ENVIRONMENTS_TABLE).values()].sort(byKey)) {
        if (!only.has(env.key)) continue;
        env.configVersion += 1;
        env.committedAt = at;
        changes.push({ environment: env.key, version: env.configVersion, committedAt: at });
      }
      return changes;
    },
    checkOpen() {
      if (closed) throw new Error('memory stores are closed');
    },
    close() {
      closed = true;
    },
  };
}
