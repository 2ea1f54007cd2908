/** The metrics feature as other features see it: the metric model and its port's types. */
export type { MetricDefinition } from './metric.model.ts';
export type { MetricRecord, MetricsStore } from './metrics.store.ts';
