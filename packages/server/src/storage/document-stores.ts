/**
 * Metrics and surfaces are stored the same way on every adapter: a keyed JSON document with a revision.
 * Each adapter provides one generic document store per kind; this file turns the pair into the typed
 * MetricsStore and SurfacesStore ports.
 */
import type { MetricDefinition } from '../metrics/metric.model.ts';
import type { MetricsStore } from '../metrics/metrics.store.ts';
import type { Surface, SurfacesStore } from '../surfaces/surfaces.store.ts';
import type { AuditInput } from './stores.ts';

/** One stored document with its revision and times (epoch milliseconds). */
export interface DocumentRecord<T> {
  doc: T;
  revision: number;
  createdAt: number;
  updatedAt: number;
}

/** A keyed document store with optimistic concurrency; every write records its audit entry. */
export interface DocumentStore<T> {
  list(): Promise<DocumentRecord<T>[]>;
  get(key: string): Promise<DocumentRecord<T> | undefined>;
  create(doc: T, audit: AuditInput): Promise<DocumentRecord<T>>;
  update(doc: T, options: { expectedRevision: number }, audit: AuditInput): Promise<DocumentRecord<T>>;
  delete(key: string, options: { expectedRevision: number }, audit: AuditInput): Promise<void>;
}

/** Wraps a document store so its records carry the document under `name` (`metric`, `surface`). */
function typedStore<T, N extends string>(docs: DocumentStore<T>, name: N) {
  type Typed = { [K in N]: T } & Omit<DocumentRecord<T>, 'doc'>;
  const typed = ({ doc, ...rest }: DocumentRecord<T>) => ({ [name]: doc, ...rest }) as Typed;
  return {
    list: async () => (await docs.list()).map(typed),
    get: async (key: string) => {
      const record = await docs.get(key);
      return record ? typed(record) : undefined;
    },
    create: async (doc: T, audit: AuditInput) => typed(await docs.create(doc, audit)),
    update: async (doc: T, options: { expectedRevision: number }, audit: AuditInput) =>
      typed(await docs.update(doc, options, audit)),
    delete: (key: string, options: { expectedRevision: number }, audit: AuditInput) =>
      docs.delete(key, options, audit),
  };
}

/** The metrics and surfaces ports over an adapter's two document stores. */
export function metricAndSurfaceStores(
  metricDocs: DocumentStore<MetricDefinition>,
  surfaceDocs: DocumentStore<Surface>,
): { metrics: MetricsStore; surfaces: SurfacesStore } {
  return { metrics: typedStore(metricDocs, 'metric'), surfaces: typedStore(surfaceDocs, 'surface') };
}
