import type { AuditInput } from '../storage/write.ts';
import type { MetricDefinition } from './metric.model.ts';

/** A stored metric definition with its lifecycle fields. */
export interface MetricRecord {
  metric: MetricDefinition;
  /** Increases by one with every write; used for optimistic concurrency. */
  revision: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** Metric writes record their audit entry in the same transaction; they do not change any SDK config. */
export interface MetricsStore {
  /** Metrics ordered by key. */
  list(): Promise<MetricRecord[]>;
  get(key: string): Promise<MetricRecord | undefined>;
  /** Throws StoreConflictError when the key exists. */
  create(metric: MetricDefinition, audit: AuditInput): Promise<MetricRecord>;
  /** Throws StoreConflictError when the revision moved on, StoreNotFoundError when the metric is gone. */
  update(
    metric: MetricDefinition,
    options: { expectedRevision: number },
    audit: AuditInput,
  ): Promise<MetricRecord>;
  /** Throws StoreConflictError when the revision moved on, StoreNotFoundError when the metric is gone. */
  delete(key: string, options: { expectedRevision: number }, audit: AuditInput): Promise<void>;
}
