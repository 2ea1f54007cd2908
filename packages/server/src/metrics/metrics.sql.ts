/** The metrics port over SQL: the generic document store on table `metrics`. */
import { typedStore } from '../storage/document-stores.ts';
import { createSqlDocumentStore } from '../storage/sql/sql-documents.ts';
import type { SqlDriver } from '../storage/sql/sql-driver.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import type { MetricDefinition } from './metric.model.ts';
import type { MetricsStore } from './metrics.store.ts';

/** The metrics store over a migrated driver. */
export function createSqlMetricsStore(driver: SqlDriver, writes: SqlWrites): MetricsStore {
  return typedStore(createSqlDocumentStore<MetricDefinition>(driver, writes, 'metrics', 'metric'), 'metric');
}
