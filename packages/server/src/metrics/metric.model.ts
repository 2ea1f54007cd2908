/**
 * The metric definition the server stores and aggregates: the one type of packages/rollout (metric.ts), so the
 * rollout logic and the ingestion read the same document. Windows are stored in milliseconds or `until_now`.
 */
export {
  type EventAggregate,
  type EventMeasure,
  METRIC_CATEGORIES,
  type MetricCategory,
  type MetricDefinition,
  validateMetricDefinition,
  WINDOW_UNTIL_NOW,
} from '@dimmer/rollout';
