/**
 * The storage ports of every feature gathered into one object the composition root passes around, and the
 * three ways to build it: in memory (tests), SQLite (the embedded default) and PostgreSQL (multi-node). Each
 * feature supplies its own adapters (`*.memory.ts`, `*.sql.ts`); this file only puts them together.
 */

import { createMemoryAuditStore } from './audit/audit.memory.ts';
import { createSqlAuditStore } from './audit/audit.sql.ts';
import type { AuditStore } from './audit/audit.store.ts';
import { createMemoryConfigStore } from './config/config.memory.ts';
import { createSqlConfigStore } from './config/config.sql.ts';
import type { ConfigStore } from './config/config.store.ts';
import { createMemoryEnvironmentsStore } from './environments/environments.memory.ts';
import { createSqlEnvironmentsStore } from './environments/environments.sql.ts';
import type { EnvironmentsStore } from './environments/environments.store.ts';
import { createMemoryEventsStorage } from './events/events.memory.ts';
import { createSqlEventsStorage } from './events/events.sql.ts';
import type { EventsStore } from './events/events.store.ts';
import { createThreadedEventsStore } from './events/events-writer.ts';
import { createEventsStore } from './events/ingest-plan.ts';
import { createMemoryExperimentsStore } from './experiments/experiments.memory.ts';
import { createSqlExperimentsStore } from './experiments/experiments.sql.ts';
import type { ExperimentsStore } from './experiments/experiments.store.ts';
import { createMemoryFlagsStore } from './flags/flags.memory.ts';
import { createSqlFlagsStore } from './flags/flags.sql.ts';
import type { FlagsStore } from './flags/flags.store.ts';
import { createMemoryKeysStore } from './keys/keys.memory.ts';
import { createSqlKeysStore } from './keys/keys.sql.ts';
import type { KeysStore } from './keys/keys.store.ts';
import { createMemoryMetricsStore } from './metrics/metrics.memory.ts';
import { createSqlMetricsStore } from './metrics/metrics.sql.ts';
import type { MetricsStore } from './metrics/metrics.store.ts';
import { createMemoryPeopleStore } from './people/people.memory.ts';
import { createSqlPeopleStore } from './people/people.sql.ts';
import type { PeopleStore } from './people/people.store.ts';
import { createMemoryRolloutsStore } from './rollouts/rollouts.memory.ts';
import { createSqlRolloutsStore } from './rollouts/rollouts.sql.ts';
import type { RolloutsStore } from './rollouts/rollouts.store.ts';
import { createMemoryWebhookOutbox } from './rollouts/webhooks.memory.ts';
import { createSqlWebhookOutbox } from './rollouts/webhooks.sql.ts';
import type { WebhookOutboxStore } from './rollouts/webhooks.store.ts';
import { createMemorySegmentsStore } from './segments/segments.memory.ts';
import { createSqlSegmentsStore } from './segments/segments.sql.ts';
import type { SegmentsStore } from './segments/segments.store.ts';
import { createMemoryDatabase } from './storage/memory/memory-database.ts';
import { openPostgres, type PostgresConnection } from './storage/postgres/database.ts';
import type { ListenerLogger } from './storage/postgres/listener.ts';
import type { SqlDriver } from './storage/sql/sql-driver.ts';
import { createSqlWrites } from './storage/sql/sql-writes.ts';
import { openSqlite, type SqliteSynchronous } from './storage/sqlite/database.ts';
import type { ConfigWatchHandlers, LeaseStore } from './storage/write.ts';
import { createMemorySurfacesStore } from './surfaces/surfaces.memory.ts';
import { createSqlSurfacesStore } from './surfaces/surfaces.sql.ts';
import type { SurfacesStore } from './surfaces/surfaces.store.ts';

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
  /** Webhook deliveries waiting for their receivers (written with the changes they report). */
  webhooks: WebhookOutboxStore;
  experiments: ExperimentsStore;
  events: EventsStore;
  /** Sign-in sessions, role grants and approvals. */
  people: PeopleStore;
  /** Resolves when the storage answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Leases with fencing epochs shared by every node (PostgreSQL); absent where only one process runs (memory,
   * SQLite: the lease is trivially held).
   */
  leases?: LeaseStore;
  /** Starts listening for changes committed by other processes; absent where only one process writes. */
  watchConfig?(handlers: ConfigWatchHandlers): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Creates empty in-memory stores. */
export function createMemoryStores(): Stores {
  const db = createMemoryDatabase();
  return {
    kind: 'memory',
    environments: createMemoryEnvironmentsStore(db),
    flags: createMemoryFlagsStore(db),
    segments: createMemorySegmentsStore(db),
    keys: createMemoryKeysStore(db),
    audit: createMemoryAuditStore(db),
    config: createMemoryConfigStore(db),
    metrics: createMemoryMetricsStore(db),
    surfaces: createMemorySurfacesStore(db),
    rollouts: createMemoryRolloutsStore(db),
    webhooks: createMemoryWebhookOutbox(db),
    experiments: createMemoryExperimentsStore(db),
    events: createEventsStore(createMemoryEventsStorage(db)),
    people: createMemoryPeopleStore(db),
    async ping() {
      db.checkOpen();
    },
    async close() {
      db.close();
    },
  };
}

/** Every feature's SQL adapter over one migrated driver (SQLite and PostgreSQL share the SQL). */
function createSqlStores(
  driver: SqlDriver,
  close: () => Promise<void>,
): Omit<Stores, 'kind' | 'watchConfig' | 'leases'> {
  const writes = createSqlWrites(driver);
  return {
    environments: createSqlEnvironmentsStore(driver, writes),
    flags: createSqlFlagsStore(driver, writes),
    segments: createSqlSegmentsStore(driver, writes),
    keys: createSqlKeysStore(driver, writes),
    audit: createSqlAuditStore(driver),
    config: createSqlConfigStore(driver),
    metrics: createSqlMetricsStore(driver, writes),
    surfaces: createSqlSurfacesStore(driver, writes),
    rollouts: createSqlRolloutsStore(driver, writes),
    webhooks: createSqlWebhookOutbox(driver),
    experiments: createSqlExperimentsStore(driver, writes),
    events: createEventsStore(createSqlEventsStorage(driver)),
    people: createSqlPeopleStore(driver, writes),
    async ping() {
      await driver.all('SELECT 1 AS one');
      await driver.health?.();
    },
    close,
  };
}

/** Opens (creating if needed) `<dataDir>/dimmer.sqlite`, or an in-memory database for `':memory:'`, and migrates it. */
export function createSqliteStores(
  dataDir: string,
  options: { synchronous?: SqliteSynchronous } = {},
): Stores {
  const driver = openSqlite(dataDir, options);
  if (driver.file === null) return { kind: 'sqlite', ...createSqlStores(driver, () => driver.close()) };
  // Event ingestion writes on a worker thread of its own (events-writer.ts).
  let events: ReturnType<typeof createThreadedEventsStore> | undefined;
  const stores = createSqlStores(driver, async () => {
    await events?.close();
    await driver.close();
  });
  events = createThreadedEventsStore({
    driver,
    fallback: stores.events,
    onError: (error) =>
      process.emitWarning(`${error.message}; events are written on the serving thread`, 'DimmerEventsWriter'),
  });
  return { kind: 'sqlite', ...stores, events };
}

/** Connects, migrates the schema (creating it when a non-public schema is named) and returns the stores. */
export async function createPostgresStores(
  connection: PostgresConnection,
  logger?: ListenerLogger,
): Promise<Stores> {
  const database = await openPostgres(connection, logger);
  return {
    kind: 'postgres',
    ...createSqlStores(database.driver, () => database.close()),
    leases: database.leases,
    watchConfig: database.watchConfig,
  };
}
