// Fixtures shared by this package's tests (not exported from the package): a flag, metrics, a plan context,
// and evidence built from expected values or from a seeded simulation.

import type { FlagConfig } from '@dimmer/core';
import type { SufficientStats } from '@dimmer/stats';
import type { CohortEvidence, RolloutEvidence } from './evidence.ts';
import type { MetricDefinition } from './metric.ts';
import { type RolloutPlan, type RolloutPlanContext, validateRolloutPlan } from './plan.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const T0 = 1_700_000_000_000;

export const flag: FlagConfig = {
  key: 'new-checkout',
  kind: 'boolean',
  surface: 'checkout',
  variants: { off: false, on: true },
  defaultVariant: 'off',
  salt: 'b7f0c2e4a1d95e3f',
  hashVersion: 1,
  environments: { production: { enabled: true, rules: [] }, staging: { enabled: true, rules: [] } },
};

export const metrics: Record<string, MetricDefinition> = {
  crash_rate: {
    key: 'crash_rate',
    kind: 'proportion',
    event: 'app_crash',
    direction: 'higher_is_worse',
    margin: 0.1,
    window: DAY,
    category: 'reliability',
  },
  latency: {
    key: 'latency',
    kind: 'mean',
    event: 'request',
    aggregate: 'sum',
    direction: 'higher_is_worse',
    margin: 0.05,
    window: DAY,
    category: 'experience',
  },
  revenue: {
    key: 'revenue',
    kind: 'mean',
    event: 'purchase',
    aggregate: 'sum',
    direction: 'lower_is_worse',
    margin: 0.05,
    window: DAY,
    category: 'business',
  },
};

export function context(overrides: Partial<RolloutPlanContext> = {}): RolloutPlanContext {
  return { flag, metrics, surfaceRequired: [], activeRolloutOnFlagEnv: false, ...overrides };
}

export const basePlanInput = {
  id: 'ro_1',
  flag: 'new-checkout',
  environment: 'production',
  treatment: 'on',
  control: 'off',
  stages: [{ reach: 1, minDuration: '1d' }, { reach: 10 }, { reach: 50 }, { reach: 100 }],
  guardrails: [{ metric: 'crash_rate' }],
};

/** Validates a plan input and returns the plan, throwing with the issues when it is invalid. */
export function planOf(input: unknown, ctx: RolloutPlanContext = context()): RolloutPlan {
  const result = validateRolloutPlan(input, ctx);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

/** Sufficient statistics of a proportion arm with `n` units of which `events` had the event. */
export function proportionStats(n: number, events: number): SufficientStats {
  return { n, sumY: events, sumY2: events };
}

/** Sufficient statistics of a mean arm with exactly the given sample mean and standard deviation. */
export function meanStats(n: number, mean: number, sd: number): SufficientStats {
  return { n, sumY: n * mean, sumY2: (n - 1) * sd * sd + n * mean * mean };
}

/** One-cohort proportion evidence for `crash_rate` with the given units and rates per arm. */
export function proportionEvidence(input: {
  attempt?: number;
  stage?: number;
  treatment: number;
  control: number;
  pTreatment: number;
  pControl: number;
  metric?: string;
}): RolloutEvidence {
  const stage = input.stage ?? 0;
  const cohort: CohortEvidence = {
    stage,
    treatment: proportionStats(input.treatment, Math.round(input.treatment * input.pTreatment)),
    control: proportionStats(input.control, Math.round(input.control * input.pControl)),
  };
  return {
    attempt: input.attempt ?? 1,
    units: { treatment: input.treatment, control: input.control },
    assignments: [{ stage, treatment: input.treatment, control: input.control }],
    metrics: { [input.metric ?? 'crash_rate']: { hasData: true, cohorts: [cohort] } },
  };
}

/** Seeded PRNG (mulberry32): uniform numbers in [0, 1) from a 32-bit seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from a uniform generator (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
