/**
 * What `dimmer demo` sets up and how its simulated users behave: the guardrail metrics, the `checkout` surface
 * that requires them, two flags, two automatic rollouts, and the traffic and pacing of the full and fast runs.
 */
import type { FlagInput, MetricInput, RolloutInput, SurfaceInput } from '@dimmer/sdk';
import { BASELINE, type Behaviour, scaleBehaviour } from './population.ts';

/** The environment the demo works in (one of the server's defaults). */
export const DEMO_ENVIRONMENT = 'production';
/** The surface both flags belong to. */
export const DEMO_SURFACE = 'checkout';
/** First simulated instant: 2030-01-01T09:00:00Z, so simulated times never look like real ones. */
export const DEMO_START_MS = Date.UTC(2030, 0, 1, 9);
/** Default seed of the simulated traffic (the same seed sends the same users and events). */
export const DEFAULT_DEMO_SEED = 7;

/** The guardrails the surface requires: reliability, experience and business. */
const SURFACE_METRICS: readonly MetricInput[] = [
  {
    key: 'crash_rate',
    description: 'Share of users whose visit crashed',
    kind: 'proportion',
    event: 'app_crash',
    direction: 'higher_is_worse',
    margin: 0.5,
    category: 'reliability',
    window: '1d',
  },
  {
    key: 'error_rate',
    description: 'Failed requests per request',
    kind: 'ratio',
    numerator: { event: 'request_error', aggregate: 'count' },
    denominator: { event: 'request', aggregate: 'count' },
    direction: 'higher_is_worse',
    margin: 0.5,
    category: 'reliability',
    window: '1d',
  },
  {
    key: 'request_latency',
    description: 'Mean request latency in ms (latency sum over requests)',
    kind: 'ratio',
    numerator: { event: 'request', aggregate: 'sum' },
    denominator: { event: 'request', aggregate: 'count' },
    direction: 'higher_is_worse',
    margin: 0.1,
    category: 'reliability',
    window: '1d',
  },
  {
    key: 'sessions_per_user',
    description: 'Sessions per user',
    kind: 'mean',
    event: 'session_start',
    aggregate: 'count',
    direction: 'lower_is_worse',
    margin: 0.1,
    category: 'experience',
    window: '1d',
  },
  {
    key: 'checkout_conversion',
    description: 'Share of users who completed a checkout',
    kind: 'proportion',
    event: 'checkout_complete',
    direction: 'lower_is_worse',
    margin: 0.15,
    category: 'business',
    window: '1d',
  },
];

/** The latency guardrail that watches the tail: p99 of every request's latency (several per user). */
export const LATENCY_P99_METRIC: MetricInput = {
  key: 'request_latency_p99',
  description: 'p99 of request latency in ms, over every request',
  kind: 'quantile',
  event: 'request',
  q: 0.99,
  scope: 'event',
  valueUnit: 'ms',
  direction: 'higher_is_worse',
  margin: 0.1,
  category: 'reliability',
  window: '1d',
};

/** Every metric the demo creates: the surface's five and the p99 latency guardrail. */
export const DEMO_METRICS: readonly MetricInput[] = [...SURFACE_METRICS, LATENCY_P99_METRIC];

/** The surface: every rollout on a checkout flag is guarded by all five metrics. */
export const DEMO_SURFACE_INPUT: SurfaceInput = {
  key: DEMO_SURFACE,
  name: 'Checkout',
  description: 'Cart, payment and confirmation pages (created by dimmer demo)',
  guardrails: SURFACE_METRICS.map((m) => ({ metric: m.key })),
};

/** One change the demo rolls out: its flag, and what it does to the users who get it. */
export interface DemoChange {
  flag: FlagInput;
  /** Rollout id (also names the flag's rollout rule). */
  rolloutId: string;
  /** What people should expect, shown at the start. */
  story: string;
  /** The behaviour of treated users, from the behaviour they would have otherwise. */
  effect: (b: Behaviour) => Behaviour;
  /** Guardrails the rollout names itself (a flag outside the checkout surface); none: the surface's. */
  guardrails?: string[];
}

function booleanFlag(key: string, description: string, salt: string, surface = true): FlagInput {
  return {
    key,
    kind: 'boolean',
    ...(surface ? { surface: DEMO_SURFACE } : {}),
    description,
    variants: { off: false, on: true },
    defaultVariant: 'off',
    // A fixed salt keeps the assignment, and so the whole run, the same for the same seed.
    salt,
    environments: { [DEMO_ENVIRONMENT]: { enabled: true, rules: [] } },
  };
}

/** Relative latency of the healthy change's treatment (5% faster). */
const HEALTHY_LATENCY_FACTOR = 0.95;
/** Crash rate of the bad change's treatment relative to the baseline: 2% → 6%. */
const BAD_CRASH_FACTOR = 3;

/** The healthy change: a faster one-page checkout. */
export const HEALTHY_CHANGE: DemoChange = {
  flag: booleanFlag('one-page-checkout', 'One-page checkout (healthy: requests 5% faster)', 'demo-5e1a9c'),
  rolloutId: 'demo-one-page-checkout',
  story: 'healthy: requests 5% faster, nothing else changes',
  effect: (b) => scaleBehaviour(b, 'request', HEALTHY_LATENCY_FACTOR),
};

/** The bad change: a new payment sheet that triples the crash rate. */
export const BAD_CHANGE: DemoChange = {
  flag: booleanFlag('payment-sheet-v2', 'New payment sheet (bad: crash rate 2% → 6%)', 'demo-b07d21'),
  rolloutId: 'demo-payment-sheet-v2',
  story: `bad: crash rate ${BASELINE.crashRate * 100}% → ${BASELINE.crashRate * BAD_CRASH_FACTOR * 100}%`,
  effect: (b) => scaleBehaviour(b, 'app_crash', BAD_CRASH_FACTOR),
};

/** The tail change: requests above the latency's 98th percentile (z = 2.054) take 3× as long. */
const TAIL_Z = 2.054;
const TAIL_FACTOR = 3;
/**
 * Share of the mean latency that lies above the tail's threshold, Φ(σ − z) for the log-normal with σ = 0.35:
 * the other requests get 1 − (factor − 1)·share/(1 − share) of their time, so the mean stays where it was.
 */
const TAIL_MEAN_SHARE = 0.0442;

/** The tail regression: a new search cache whose misses are much slower; the mean latency does not move. */
export const TAIL_CHANGE: DemoChange = {
  flag: booleanFlag(
    'search-cache',
    'Search result cache (bad for the tail: p99 latency ×3, mean unchanged)',
    'demo-7a11a7',
    false,
  ),
  rolloutId: 'demo-search-cache',
  story: 'bad for the tail: slowest 2% of requests 3× slower, the rest 9% faster (mean unchanged)',
  effect: (b) => ({
    ...b,
    latencyTail: {
      z: TAIL_Z,
      factor: TAIL_FACTOR,
      bodyFactor: 1 - ((TAIL_FACTOR - 1) * TAIL_MEAN_SHARE) / (1 - TAIL_MEAN_SHARE),
    },
  }),
  guardrails: ['request_latency', LATENCY_P99_METRIC.key],
};

export const DEMO_CHANGES: readonly DemoChange[] = [HEALTHY_CHANGE, BAD_CHANGE, TAIL_CHANGE];

/** Percent of units kept on control after the last step. */
export const DEMO_HOLDBACK = 2;

/**
 * The rollout of a change: 5% → 20% → 50% → 100% with a 2% holdback, 20 simulated minutes per stage, small
 * minimum samples for the simulated traffic, automatic. The first stage is 5% rather than 1% so that each look
 * sees tens of treated users: with a handful, one unlucky user decides the comparison.
 */
export function rolloutInput(change: DemoChange): RolloutInput {
  const stage = { minDuration: '20m', minUnitsPerArm: 50, minEventsPerArm: 5 };
  return {
    id: change.rolloutId,
    flag: change.flag.key,
    environment: DEMO_ENVIRONMENT,
    treatment: 'on',
    control: 'off',
    stages: [
      { reach: 5, ...stage },
      { reach: 20, ...stage },
      { reach: 50, ...stage },
      // The last stage is the holdback: monitored for a day before the rollout completes.
      { reach: 100, minDuration: '1d', minUnitsPerArm: 50, minEventsPerArm: 5 },
    ],
    holdback: DEMO_HOLDBACK,
    guardrails: (change.guardrails ?? []).map((metric) => ({ metric })),
    mode: 'automatic',
  };
}

/** Traffic and pacing of one run. */
export interface DemoSettings {
  /** New users arriving between two controller looks. */
  usersPerInterval: number;
  /** Simulated time between two controller looks, in milliseconds. */
  intervalMs: number;
  /** Real time each interval takes at least, in milliseconds (0: as fast as the server ingests). */
  realMsPerInterval: number;
  /** Longest simulated visit: a user's events fall within this many ms after the first evaluation. */
  visitSpanMs: number;
  /** The run gives up after this many intervals. */
  maxIntervals: number;
}

const MINUTE_MS = 60_000;

/** The full run: 1,000 users every 10 simulated minutes, one interval per second of real time. */
export const FULL_SETTINGS: DemoSettings = {
  usersPerInterval: 1_000,
  intervalMs: 10 * MINUTE_MS,
  realMsPerInterval: 1_000,
  visitSpanMs: 4 * MINUTE_MS,
  maxIntervals: 120,
};

/**
 * The fast run (`--fast`, used by tests): the same traffic without pacing, so the same seed gives the same
 * decisions as the full run in about a second of traffic instead of ten or more.
 */
export const FAST_SETTINGS: DemoSettings = {
  ...FULL_SETTINGS,
  realMsPerInterval: 0,
};
