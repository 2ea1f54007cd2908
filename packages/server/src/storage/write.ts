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

/** Handlers for config changes committed by other processes (PostgreSQL LISTEN/NOTIFY). */
export interface ConfigWatchHandlers {
  onChange(change: { environment: string; version: number }): void;
  /** Called after the listener reconnected: notifications may have been missed, re-read everything. */
  onResync(): void;
  /** Called when another process created or revoked a client key. */
  onKeysChange?(): void;
  /**
   * Called with true whenever the listening connection listens (at start and after each reconnection, before
   * `onResync`) and with false when it drops: while it is down, changes made through other nodes arrive only
   * through the version poll.
   */
  onListenerState?(listening: boolean): void;
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

/**
 * The storage cannot be reached or cannot answer now (connection refused or lost, the database shutting down,
 * a lock or statement timeout): the request may succeed if retried later.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Proof of holding a lease: a decision is applied only while the lease row still names this holder and epoch. */
export interface LeaseFence {
  name: string;
  holder: string;
  /** Increases every time the lease changes hands (or is taken again after expiring). */
  epoch: number;
}

/** A lease with a fencing token, shared by every node of a cluster (a row with holder, epoch and expiry). */
export interface LeaseStore {
  /**
   * Takes the lease `name` for `holder` when it is free or expired, or renews it when `holder` has it; the expiry
   * moves to now + `ttlMs` (the database's clock). Resolves to the epoch, or null when another holder has it.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<number | null>;
  /** Gives the lease up if `holder` has it (another node may take it at once). */
  release(name: string, holder: string): Promise<void>;
}

/** A write carried a fence whose lease has since expired or moved to another holder; nothing was written. */
export class StoreFencedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreFencedError';
  }
}
