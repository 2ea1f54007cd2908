/** Prometheus metrics of one app instance (its own registry, so several apps can live in one process). */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { PipelineStats } from '../events/events.service.ts';
import { ROLLOUT_STATUSES } from '../rollouts/rollouts.store.ts';
import type { Stores } from '../stores.ts';

/** Latency buckets in seconds. */
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const MS_PER_SECOND = 1000;

type RequestLabels = Readonly<Record<'method' | 'route' | 'status', string>>;

export interface AppMetrics {
  registry: Registry;
  configVersion: Gauge<'environment'>;
  /** Decisions stored by the controller, by action, rule and whether they were applied. */
  rolloutDecisions: Counter<'action' | 'rule' | 'applied'>;
  /** Controller ticks, by whether this node ran them (false: another node holds the lock). */
  controllerTicks: Counter<'ran'>;
  /** Adds the gauges read at scrape time: rollouts per status, and the ingestion pipeline's counters. */
  observeRollouts(sources: {
    stores: Stores;
    pipeline: { stats: PipelineStats; pending: { events: number } };
  }): void;
}

/** Creates the registry and counts every response by method, route and status. */
export function installMetrics(app: FastifyInstance): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'dimmer_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'dimmer_http_request_duration_seconds',
    help: 'HTTP request latency in seconds by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
  const configVersion = new Gauge({
    name: 'dimmer_config_version',
    help: 'Config version held in memory, per environment',
    labelNames: ['environment'] as const,
    registers: [registry],
  });
  // One frozen label object per (route, method, status), built on first use: the hook runs on every
  // response, so it neither allocates labels nor awaits (a callback hook costs no promise).
  const series = new Map<string, Map<string, Map<number, RequestLabels>>>();
  const labelsOf = (route: string, method: string, status: number): RequestLabels => {
    let byMethod = series.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      series.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let labels = byStatus.get(status);
    if (labels === undefined) {
      labels = Object.freeze({ method, route, status: String(status) });
      byStatus.set(status, labels);
    }
    return labels;
  };
  app.addHook('onResponse', (request, reply, done) => {
    const labels = labelsOf(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode);
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / MS_PER_SECOND);
    done();
  });
  const rolloutDecisions = new Counter({
    name: 'dimmer_rollout_decisions_total',
    help: 'Rollout decisions stored by the controller, by action, rule and applied',
    labelNames: ['action', 'rule', 'applied'] as const,
    registers: [registry],
  });
  const controllerTicks = new Counter({
    name: 'dimmer_controller_ticks_total',
    help: 'Controller ticks; ran="false" when another node held the controller lock',
    labelNames: ['ran'] as const,
    registers: [registry],
  });
  const observeRollouts: AppMetrics['observeRollouts'] = ({ stores, pipeline }) => {
    new Gauge({
      name: 'dimmer_rollouts',
      help: 'Rollouts per status',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        const counts = new Map<string, number>(ROLLOUT_STATUSES.map((s) => [s, 0]));
        for (const r of await stores.rollouts.list()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
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
  };
  return { registry, configVersion, rolloutDecisions, controllerTicks, observeRollouts };
}
