/**
 * The storage ports of every feature, gathered into one object the composition root passes around,
 * plus the types every write shares (audit input, config version changes, store errors).
 */
import type { AuditStore } from '../audit/audit.store.ts';
import type { ConfigStore } from '../config/config.store.ts';
import type { EnvironmentsStore } from '../environments/environments.store.ts';
import type { EventsStore } from '../events/events.store.ts';
import type { FlagsStore } from '../flags/flags.store.ts';
import type { KeysStore } from '../keys/keys.store.ts';
import type { MetricsStore } from '../metrics/metrics.store.ts';
import type { RolloutsStore } from '../rollouts/rollouts.store.ts';
import type { SegmentsStore } from '../segments/segments.store.ts';
import type { SurfacesStore } from '../surfaces/surfaces.store.ts';

/** A new config version of one environment, committed by a write. */
export interface ConfigChange {
  environment: string;
  version: number;
  /** Epoch milliseconds of the commit. */
  committedAt: number;
}

export type ResourceType =
  | 'environment'
  | 'flag'
  | 'segment'
  | 'client_key'
  | 'admin_token'
  | 'metric'
  | 'surface'
  | 'rollout';

/** Every resource type, in the order the audit API lists them. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  'environment',
  'flag',
  'segment',
  'client_key',
  'admin_token',
  'metric',
  'surface',
  'rollout',
];

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
}

export interface Stores {
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  environments: EnvironmentsStore;
  flags: FlagsStore;
  segments: SegmentsStore;
  keys: KeysStore;
  audit: AuditStore;
  config: ConfigStore;
  metrics: MetricsStore;
  surfaces: SurfacesStore;
  rollouts: RolloutsStore;
  events: EventsStore;
  /** Resolves when the storage answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Runs `fn` only if no other process holds the lock `name` (PostgreSQL: a session advisory lock on a
   * dedicated connection, held while `fn` runs); returns `{ ran: false }` at once when another process has it.
   * Absent where only one process runs (memory, SQLite).
   */
  runExclusive?<T>(name: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /** Starts listening for changes committed by other processes; absent where only one process writes. */
  watchConfig?(handlers: ConfigWatchHandlers): Promise<() => Promise<void>>;
  close(): Promise<void>;
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
