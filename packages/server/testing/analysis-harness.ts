/**
 * Test support for the analysis features: an app with a server key, a flag, metrics of every kind and a
 * running rollout, plus helpers to send event batches and read the evidence. Used by this package's tests
 * and the ingestion benchmark.
 */
import { BUCKET_COUNT, bucket } from '@dimmer/core';
import {
  addToSketch,
  addUnitToQuantileStats,
  createEventQuantileStats,
  createSketch,
  type EventQuantileStats,
  type QuantileSketch,
} from '@dimmer/stats';
import type { FastifyInstance } from 'fastify';
import type { MetricDefinition } from '../src/metrics/metric.model.ts';

/** Metric documents as sent to the admin API: every kind, windows, a cap. */
export const SAMPLE_METRICS: Record<string, unknown>[] = [
  {
    key: 'crash_rate',
    kind: 'proportion',
    event: 'app_crash',
    direction: 'higher_is_worse',
    margin: 0.02,
    window: '1h',
    category: 'reliability',
  },
  {
    key: 'revenue',
    kind: 'mean',
    event: 'purchase',
    aggregate: 'sum',
    direction: 'lower_is_worse',
    margin: 0.05,
    window: 'until_now',
    category: 'business',
    cap: 50,
  },
  {
    key: 'clicks',
    kind: 'mean',
    event: 'click',
    aggregate: 'count',
    direction: 'lower_is_worse',
    margin: 0.05,
    window: '2h',
    category: 'experience',
  },
  {
    key: 'latency',
    kind: 'ratio',
    numerator: { event: 'request_ms', aggregate: 'sum' },
    denominator: { event: 'request', aggregate: 'count' },
    direction: 'higher_is_worse',
    margin: 0.1,
    window: '30m',
    category: 'experience',
    cap: 400,
  },
];

/** Sends an admin request through `inject` and returns status and JSON. */
export async function adminInject(
  app: FastifyInstance,
  token: string,
  method: string,
  url: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON replies by value
): Promise<{ status: number; json: any }> {
  const response = await app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: response.statusCode, json: response.body ? response.json() : undefined };
}

/** Creates the sample metrics, a boolean flag `new-checkout` enabled in production, and a server key. */
export async function setUpAnalysis(
  app: FastifyInstance,
  token: string,
  metrics: Record<string, unknown>[] = SAMPLE_METRICS,
): Promise<{ clientKey: string }> {
  for (const metric of metrics) {
    const r = await adminInject(app, token, 'POST', '/api/v1/metrics', metric);
    if (r.status !== 201) throw new Error(`metric: ${JSON.stringify(r.json)}`);
  }
  const flag = await adminInject(app, token, 'POST', '/api/v1/flags', {
    key: 'new-checkout',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt: ANALYSIS_SALT,
    environments: { production: { enabled: true, rules: [] } },
  });
  if (flag.status !== 201) throw new Error(`flag: ${JSON.stringify(flag.json)}`);
  const key = await adminInject(app, token, 'POST', '/api/v1/keys', {
    name: 'sdk',
    environment: 'production',
    kind: 'server',
  });
  if (key.status !== 201) throw new Error(`key: ${JSON.stringify(key.json)}`);
  return { clientKey: key.json.secret as string };
}

/** The salt of the analysed flag `new-checkout`: fixed, so tests can pick units by bucket. */
export const ANALYSIS_SALT = 'a11a1e5a17000001';

/**
 * The first unit id `${name}`, `${name}-1`, `${name}-2`, … whose bucket under `new-checkout` lies in
 * [`fromPercent`, `toPercent`) of the buckets: a unit the rollout serves treatment below its reach and control
 * above it, so its exposures pass the server's assignment check.
 */
export function unitInReach(name: string, fromPercent: number, toPercent: number): string {
  const lo = (fromPercent / 100) * BUCKET_COUNT;
  const hi = (toPercent / 100) * BUCKET_COUNT;
  for (let i = 0; ; i++) {
    const unit = i === 0 ? name : `${name}-${i}`;
    const b = bucket(ANALYSIS_SALT, unit);
    if (b >= lo && b < hi) return unit;
  }
}

/**
 * Creates and starts a rollout of `new-checkout` in production (treatment `on`, control `off`) whose stages are
 * `reach` percent (one or several, then 100); it runs at the first stage.
 */
export async function startRollout(
  app: FastifyInstance,
  guardrails: string[],
  reach: number | number[] = 50,
  id = 'ro_test',
): Promise<string> {
  const service = app.dimmer.rollouts;
  const reaches = Array.isArray(reach) ? reach : [reach];
  await service.create(
    {
      id,
      flag: 'new-checkout',
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [...reaches, 100].map((r) => ({ reach: r, minDuration: '1h' })),
      guardrails: guardrails.map((metric) => ({ metric })),
    },
    'admin:test',
  );
  await service.act(id, 'start', 'admin:test');
  return id;
}

/** Posts one batch to `/v1/events` with the client key. */
export async function sendBatch(
  app: FastifyInstance,
  clientKey: string,
  body: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON replies by value
): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.statusCode,
    json: response.body ? response.json() : undefined,
    headers: response.headers,
  };
}

/** n, Σy, Σy², Σd, Σd², Σyd and the third-order Σy³, Σy²d, Σyd², Σd³ of one arm and metric. */
export interface SufficientSums {
  n: number;
  sumY: number;
  sumY2: number;
  sumD: number;
  sumD2: number;
  sumYD: number;
  sumY3: number;
  sumY2D: number;
  sumYD2: number;
  sumD3: number;
}

/** The sums of an arm without units. */
export function zeroSums(): SufficientSums {
  return { n: 0, sumY: 0, sumY2: 0, sumD: 0, sumD2: 0, sumYD: 0, sumY3: 0, sumY2D: 0, sumYD2: 0, sumD3: 0 };
}

/** One unit's raw history for the reference computation. */
export interface RawEvent {
  type: 'exposure' | 'track';
  unit: string;
  ts: number;
  variant?: string;
  name?: string;
  value?: number;
}

/** A unit's assignment epochs [arm, start, end) from its raw events (the aggregation's epoch semantics). */
function epochsOf(
  mine: readonly RawEvent[],
  variants: { treatment: string; control: string },
): ['treatment' | 'control', number, number][] {
  const tStarts = mine
    .filter((e) => e.type === 'exposure' && e.variant === variants.treatment)
    .map((e) => e.ts);
  const cStarts = mine
    .filter((e) => e.type === 'exposure' && e.variant === variants.control)
    .map((e) => e.ts);
  const t = tStarts.length ? Math.min(...tStarts) : undefined;
  const c = cStarts.length ? Math.min(...cStarts) : undefined;
  const epochs: ['treatment' | 'control', number, number][] = [];
  if (t !== undefined) epochs.push(['treatment', t, Number.POSITIVE_INFINITY]);
  if (c !== undefined && (t === undefined || c < t))
    epochs.push(['control', c, t ?? Number.POSITIVE_INFINITY]);
  return epochs;
}

/**
 * A quantile metric's statistics per arm computed in one shot from raw events (the definition the incremental
 * aggregation must equal): unit scope, a sketch of each epoch's mean clamped value; event scope, every clamped
 * value with the clustered sums of `addUnitToQuantileStats`, one unit per epoch.
 */
export function referenceQuantiles(
  events: readonly RawEvent[],
  metric: Extract<MetricDefinition, { kind: 'quantile' }>,
  variants: { treatment: string; control: string },
): Record<'treatment' | 'control', QuantileSketch | EventQuantileStats> {
  const fresh = () => (metric.scope === 'unit' ? createSketch() : createEventQuantileStats());
  const out = { treatment: fresh(), control: fresh() };
  const window = metric.window === 'until_now' ? Number.POSITIVE_INFINITY : metric.window;
  for (const unit of new Set(events.map((e) => e.unit))) {
    const mine = events.filter((e) => e.unit === unit);
    for (const [arm, start, end] of epochsOf(mine, variants)) {
      const values = mine
        .filter(
          (e) =>
            e.type === 'track' &&
            e.name === metric.event &&
            e.value !== undefined &&
            e.ts >= start &&
            e.ts < end &&
            e.ts - start < window,
        )
        .map((e) => Math.min(metric.cap ?? Infinity, Math.max(metric.floor ?? -Infinity, e.value as number)));
      if (values.length === 0) continue;
      if (metric.scope === 'unit')
        addToSketch(out[arm] as QuantileSketch, values.reduce((a, b) => a + b, 0) / values.length);
      else addUnitToQuantileStats(out[arm] as EventQuantileStats, values);
    }
  }
  return out;
}

/**
 * The sufficient statistics computed directly from raw events (the definition the incremental aggregation
 * must equal): per arm and metric, the power sums of `SufficientSums` over epochs, all in cohort `cohort`.
 */
export function referenceStats(
  events: readonly RawEvent[],
  metrics: readonly MetricDefinition[],
  variants: { treatment: string; control: string },
): Record<string, Record<string, SufficientSums>> {
  const out: Record<string, Record<string, SufficientSums>> = {
    treatment: {},
    control: {},
  };
  const units = new Set(events.map((e) => e.unit));
  for (const unit of units) {
    const mine = events.filter((e) => e.unit === unit);
    for (const [arm, start, end] of epochsOf(mine, variants)) {
      for (const m of metrics) {
        const window = m.window === 'until_now' ? Number.POSITIVE_INFINITY : m.window;
        const inside = mine.filter(
          (e) => e.type === 'track' && e.ts >= start && e.ts < end && e.ts - start < window,
        );
        const total = (event: string, sum: boolean) =>
          inside.filter((e) => e.name === event).reduce((acc, e) => acc + (sum ? (e.value ?? 0) : 1), 0);
        let y: number;
        let d = 0;
        if (m.kind === 'proportion') y = total(m.event, false) > 0 ? 1 : 0;
        else if (m.kind === 'mean') y = total(m.event, m.aggregate === 'sum');
        else if (m.kind === 'quantile') {
          const values = inside.filter((e) => e.name === m.event && e.value !== null);
          y = values.reduce(
            (acc, e) => acc + Math.min(m.cap ?? Infinity, Math.max(m.floor ?? -Infinity, e.value ?? 0)),
            0,
          );
          d = values.length;
        } else {
          y = total(m.numerator.event, m.numerator.aggregate === 'sum');
          d = total(m.denominator.event, m.denominator.aggregate === 'sum');
        }
        if ((m.kind === 'mean' || m.kind === 'ratio') && m.cap !== undefined) y = Math.min(y, m.cap);
        const armStats = out[arm] as Record<string, SufficientSums>;
        armStats[m.key] ??= zeroSums();
        const row = armStats[m.key] as SufficientSums;
        row.n += 1;
        row.sumY += y;
        row.sumY2 += y * y;
        row.sumD += d;
        row.sumD2 += d * d;
        row.sumYD += y * d;
        row.sumY3 += y ** 3;
        row.sumY2D += y ** 2 * d;
        row.sumYD2 += y * d ** 2;
        row.sumD3 += d ** 3;
      }
    }
  }
  return out;
}
