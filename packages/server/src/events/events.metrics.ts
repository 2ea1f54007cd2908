/** The ingestion pipeline's Prometheus metrics, read from its counters at scrape time. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PipelineStats } from './events.service.ts';

/** Registers the ingestion counters and the pending-events gauge on `registry`. */
export function observeIngestion(
  registry: Registry,
  pipeline: { stats: PipelineStats; pending: { events: number } },
): void {
  const counters: [keyof PipelineStats, string, string][] = [
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
}
