import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_S, RequestMetrics } from './metrics.ts';

/** Requests as (route, method, status, seconds), with latencies on, between and past the bucket bounds. */
const OBSERVED: [string, string, number, number][] = [
  ['/ofrep/v1/evaluate/flags/:key', 'POST', 200, 0.0004],
  ['/ofrep/v1/evaluate/flags/:key', 'POST', 200, 0.001],
  ['/ofrep/v1/evaluate/flags/:key', 'POST', 404, 0.03],
  ['/api/v1/flags', 'GET', 200, 7],
  ['/ofrep/v1/evaluate/flags/:key', 'POST', 200, 0.26],
  ['/api/v1/flags', 'GET', 401, 0.0025],
];

describe('RequestMetrics', () => {
  it('exports the same text as prom-client counting each request in a Counter and a Histogram', async () => {
    const mine = new Registry();
    const metrics = new RequestMetrics();
    metrics.register(mine);
    const reference = new Registry();
    const labelNames = ['method', 'route', 'status'] as const;
    const counter = new Counter({
      name: 'dimmer_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames,
      registers: [reference],
    });
    const histogram = new Histogram({
      name: 'dimmer_http_request_duration_seconds',
      help: 'HTTP request latency in seconds by method, route and status',
      labelNames,
      buckets: [...LATENCY_BUCKETS_S],
      registers: [reference],
    });
    // Series in the order RequestMetrics lists them (by route, then method, then status).
    const ordered = [...OBSERVED].sort((a, b) => (a[0] === b[0] ? a[2] - b[2] : a[0] < b[0] ? 1 : -1));
    for (const [route, method, status] of ordered) {
      counter.inc({ method, route, status: String(status) }, 0);
      histogram.zero({ method, route, status: String(status) });
    }
    for (const [route, method, status, seconds] of OBSERVED) {
      metrics.record(route, method, status, seconds);
      counter.inc({ method, route, status: String(status) });
      histogram.observe({ method, route, status: String(status) }, seconds);
    }
    expect(await mine.metrics()).toBe(await reference.metrics());
    expect(await mine.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });
});
