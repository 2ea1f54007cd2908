/**
 * Prometheus metrics of one app instance (its own registry, so several apps can live in one process): the
 * HTTP request counters and latencies; the features register their own metrics on the same registry.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds. */
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const MS_PER_SECOND = 1000;

type RequestLabels = Readonly<Record<'method' | 'route' | 'status', string>>;

/** The registry of one app; features add their own metrics to it. */
export interface AppMetrics {
  registry: Registry;
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
  return { registry };
}
