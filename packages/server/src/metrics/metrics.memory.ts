/** The metrics port in memory (unit tests): the generic document store. */
import { typedStore } from '../storage/document-stores.ts';
import type { MemoryDatabase } from '../storage/memory/memory-database.ts';
import { createMemoryDocumentStore } from '../storage/memory/memory-documents.ts';
import type { MetricDefinition } from './metric.model.ts';
import type { MetricsStore } from './metrics.store.ts';

/** The metrics store over the shared in-memory database. */
export function createMemoryMetricsStore(db: MemoryDatabase): MetricsStore {
  return typedStore(createMemoryDocumentStore<MetricDefinition>(db, 'metrics', 'metric'), 'metric');
}
