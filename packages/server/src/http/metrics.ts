/** Prometheus metrics of one app instance (its own registry, so several apps can live in one process). */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds. */
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface AppMetrics {
  registry: Registry;
  configVersion: Gauge<'environment'>;
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
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });
  return { registry, configVersion };
}
