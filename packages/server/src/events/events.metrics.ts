/** The ingestion pipeline's Prometheus metrics, read from its counters at scrape time. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PipelineStats, TransactionRecord } from './events.service.ts';

/**
 * Buckets of the transaction duration histogram, in seconds: fine around the few milliseconds a transaction on
 * the serving thread aims at, coarse beyond.
 */
const TRANSACTION_BUCKETS_S = [
  0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1,
];
const MS_PER_SECOND = 1000;

type CounterField = Exclude<keyof PipelineStats, 'longestTransactionMs'>;

/**
 * Registers the ingestion counters, the pending-events gauge, the transaction duration histogram
 * (`dimmer_ingest_transaction_seconds`) and the longest transaction (`dimmer_ingest_transaction_max_seconds`)
 * on `registry`.
 */
export function observeIngestion(
  registry: Registry,
  pipeline: {
    stats: PipelineStats;
    pending: { events: number };
    onTransaction(listener: (record: TransactionRecord) => void): void;
  },
): void {
  const counters: [CounterField, string, string][] = [
    ['committedBatches', 'dimmer_ingest_batches_total', 'Event batches committed'],
    ['committedEvents', 'dimmer_ingest_events_total', 'Events committed (exposures and tracks)'],
    [
      'duplicateBatches',
      'dimmer_ingest_duplicate_batches_total',
      'Batches answered from their earlier commit',
    ],
    ['refusedBatches', 'dimmer_ingest_refused_batches_total', 'Batches refused over capacity (429)'],
    ['transactions', 'dimmer_ingest_transactions_total', 'Group-commit transactions written'],
  ];
  for (const [field, name, help] of counters)
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(pipeline.stats[field]);
      },
    });
  new Gauge({
    name: 'dimmer_ingest_pending_events',
    help: 'Events accepted and not yet committed',
    registers: [registry],
    collect() {
      this.set(pipeline.pending.events);
    },
  });
  const durations = new Histogram({
    name: 'dimmer_ingest_transaction_seconds',
    help: 'Duration of each group-commit transaction in seconds (on SQLite the event loop waits for all of it)',
    buckets: TRANSACTION_BUCKETS_S,
    registers: [registry],
  });
  pipeline.onTransaction((record) => durations.observe(record.ms / MS_PER_SECOND));
  new Gauge({
    name: 'dimmer_ingest_transaction_max_seconds',
    help: 'Longest group-commit transaction since the server started, in seconds',
    registers: [registry],
    collect() {
      this.set(pipeline.stats.longestTransactionMs / MS_PER_SECOND);
    },
  });
}
