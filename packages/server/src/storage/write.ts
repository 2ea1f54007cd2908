/**
 * The types every write shares, whatever the feature and the adapter: the audit entry it records, the
 * config versions it bumps, and the errors a store throws. A leaf: it imports nothing of the server.
 */

import { AUDIT_RESOURCE_TYPES, type AuditResourceType } from '@dimmer/api';

/** A new config version of one environment, committed by a write. */
export interface ConfigChange {
  environment: string;
  version: number;
  /** Epoch milliseconds of the commit. */
  committedAt: number;
}

/** Every resource type the audit log records (the contract's set). */
export type ResourceType = AuditResourceType;

/** Every resource type, in the order the audit API lists them. */
export const RESOURCE_TYPES: readonly ResourceType[] = AUDIT_RESOURCE_TYPES;

/** The audit entry a write records in the same transaction as the change. */
export interface AuditInput {
  /** Epoch milliseconds. */
  at: number;
  actor: string;
  action: string;
  resourceType: ResourceType;
  resourceKey: string;
  environment?: string | null;
  before: unknown;
  after: unknown;
}

/** One append-only audit entry as stored and listed. */
export interface AuditEntry {
  id: number;
  /** Epoch milliseconds. */
  at: number;
  actor: string;
  action: string;
  resourceType: ResourceType;
  resourceKey: string;
  environment: string | null;
  before: unknown;
  after: unknown;
}

/** A write's result: the stored value and the config versions it bumped. */
export interface WriteResult<T> {
  value: T;
  changes: ConfigChange[];
}

/**
 * Runs `fn` only if no other process holds the lock `name`; answers `{ ran: false }` at once when another
 * process has it.
 */
export type RunExclusive = <T>(
  name: string,
  fn: () => Promise<T>,
) => Promise<{ ran: true; value: T } | { ran: false }>;

/** Handlers for config changes committed by other processes (PostgreSQL LISTEN/NOTIFY). */
export interface ConfigWatchHandlers {
  onChange(change: { environment: string; version: number }): void;
  /** Called after the listener reconnected: notifications may have been missed, re-read everything. */
  onResync(): void;
}

/** A write conflicted with the stored state: a duplicate key, or a revision that moved on. */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/** A write addressed a record that does not exist. */
export class StoreNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreNotFoundError';
  }
}
