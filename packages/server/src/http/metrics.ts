/**
 * Prometheus metrics of one app instance (its own registry, so several apps can live in one process): the
 * HTTP request counters and latencies; the features register their own metrics on the same registry.
 *
 * The request counter and latency histogram are counted in plain numbers per (route, method, status) and read
 * into the Prometheus format only when /metrics is scraped: every answered request records one, and a label
 * lookup in a prom-client metric per request costs more than the rest of a cached answer.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Latency buckets in seconds. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

const MS_PER_SECOND = 1000;

const REQUESTS_NAME = 'dimmer_http_requests_total';
const REQUESTS_HELP = 'HTTP requests by method, route and status';
const LATENCY_NAME = 'dimmer_http_request_duration_seconds';
const LATENCY_HELP = 'HTTP request latency in seconds by method, route and status';

type RequestLabels = Readonly<Record<'method' | 'route' | 'status', string>>;

/** One (route, method, status): requests answered, their summed latency and the count per latency bucket. */
interface RequestSeries {
  labels: RequestLabels;
  count: number;
  sumSeconds: number;
  /** Requests per bucket of LATENCY_BUCKETS_S (not cumulative); slower ones only count in `count`. */
  buckets: number[];
}

/** A value of a metric as prom-client's registry reads it. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  /** Always null: no exemplars (prom-client's Histogram lists the field on its buckets all the same). */
  exemplar?: null;
}

/** The request counter and latency histogram, recorded in numbers and exported in prom-client's metric shape. */
export class RequestMetrics {
  readonly #series = new Map<string, Map<string, Map<number, RequestSeries>>>();

  /** The series of (route, method, status), created on first use (its labels are built once). */
  series(route: string, method: string, status: number): RequestSeries {
    let byMethod = this.#series.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#series.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let series = byStatus.get(status);
    if (series === undefined) {
      series = {
        labels: Object.freeze({ method, route, status: String(status) }),
        count: 0,
        sumSeconds: 0,
        buckets: LATENCY_BUCKETS_S.map(() => 0),
      };
      byStatus.set(status, series);
    }
    return series;
  }

  /** Counts one request to `route` answered with `status` after `seconds`. */
  record(route: string, method: string, status: number, seconds: number): void {
    recordIn(this.series(route, method, status), seconds);
  }

  /** Registers the counter and the histogram on `registry` (read at each scrape). */
  register(registry: Registry): void {
    registry.registerMetric(
      exportedMetric(REQUESTS_NAME, REQUESTS_HELP, 'counter', () => this.#counterValues()) as never,
    );
    registry.registerMetric(
      exportedMetric(LATENCY_NAME, LATENCY_HELP, 'histogram', () => this.#histogramValues()) as never,
    );
  }

  #all(): RequestSeries[] {
    const all: RequestSeries[] = [];
    for (const byMethod of this.#series.values())
      for (const byStatus of byMethod.values()) for (const series of byStatus.values()) all.push(series);
    return all;
  }

  #counterValues(): MetricValue[] {
    return this.#all().map((series) => ({ value: series.count, labels: { ...series.labels } }));
  }

  /** Cumulative buckets, +Inf, sum and count per series, as prom-client's Histogram exports them. */
  #histogramValues(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const series of this.#all()) {
      let cumulative = 0;
      LATENCY_BUCKETS_S.forEach((bound, i) => {
        cumulative += series.buckets[i] ?? 0;
        values.push({
          value: cumulative,
          labels: { le: bound, ...series.labels },
          metricName: `${LATENCY_NAME}_bucket`,
          exemplar: null,
        });
      });
      values.push(
        {
          value: series.count,
          labels: { le: '+Inf', ...series.labels },
          metricName: `${LATENCY_NAME}_bucket`,
          exemplar: null,
        },
        { value: series.sumSeconds, labels: { ...series.labels }, metricName: `${LATENCY_NAME}_sum` },
        { value: series.count, labels: { ...series.labels }, metricName: `${LATENCY_NAME}_count` },
      );
    }
    return values;
  }
}

/** Counts one request of `series` that took `seconds`. */
export function recordIn(series: RequestSeries, seconds: number): void {
  series.count++;
  series.sumSeconds += seconds;
  for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
    if (seconds <= (LATENCY_BUCKETS_S[i] as number)) {
      (series.buckets[i] as number)++;
      return;
    }
  }
}

/** A metric in the shape prom-client's Registry reads (name, help, type, `get()`), summed across workers. */
function exportedMetric(
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  values: () => MetricValue[],
) {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }),
    // The counts are cumulative for the life of the process, as Prometheus expects of counters.
    reset: () => undefined,
  };
}

/** The registry of one app and its request metrics; features add their own metrics to the registry. */
export interface AppMetrics {
  registry: Registry;
  requests: RequestMetrics;
}

/** Creates the registry and counts every response Fastify sends by method, route and status. */
export function installMetrics(app: FastifyInstance): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new RequestMetrics();
  requests.register(registry);
  // A callback hook: it runs on every response, so it costs no promise.
  app.addHook('onResponse', (request, reply, done) => {
    requests.record(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      reply.statusCode,
      reply.elapsedTime / MS_PER_SECOND,
    );
    done();
  });
  return { registry, requests };
}
