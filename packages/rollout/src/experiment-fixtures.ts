// Fixtures shared by the experiment tests (not exported from the package): a three-variant flag, metrics, a plan
// context, and a seeded day-by-day simulation of an experiment's evidence.

import type { FlagConfig } from '@dimmer/core';
import type { SufficientStats } from '@dimmer/stats';
import type { ExperimentEvidence } from './experiment-decide.ts';
import {
  type ExperimentPlan,
  type ExperimentPlanContext,
  validateExperimentPlan,
} from './experiment-plan.ts';
import type { MetricDefinition } from './metric.ts';
import { DAY, gaussian, metrics as rolloutMetrics, seeded } from './testing.ts';

export const abFlag: FlagConfig = {
  key: 'checkout-button',
  kind: 'string',
  surface: 'checkout',
  variants: { control: 'blue', green: 'green', orange: 'orange' },
  defaultVariant: 'control',
  salt: '5c1e9a0b7d3f2468',
  hashVersion: 1,
  environments: { production: { enabled: true, rules: [] }, staging: { enabled: true, rules: [] } },
};

export const abMetrics: Record<string, MetricDefinition> = {
  ...rolloutMetrics,
  conversion: {
    key: 'conversion',
    kind: 'proportion',
    event: 'purchase',
    direction: 'lower_is_worse',
    margin: 0.05,
    window: DAY,
    category: 'business',
  },
};

export function abContext(overrides: Partial<ExperimentPlanContext> = {}): ExperimentPlanContext {
  return { flag: abFlag, metrics: abMetrics, surfaceRequired: [], activeOnFlagEnv: false, ...overrides };
}

export const baseExperimentInput = {
  id: 'ex_1',
  flag: 'checkout-button',
  environment: 'production',
  control: 'control',
  variants: [
    { variant: 'control', weight: 50 },
    { variant: 'green', weight: 50 },
  ],
  coverage: 20,
  successMetrics: [{ metric: 'conversion', mde: 0.05 }],
  guardrails: [{ metric: 'crash_rate' }],
};

/** Validates an experiment plan input, throwing with the issues when it is invalid. */
export function experimentOf(input: unknown, ctx: ExperimentPlanContext = abContext()): ExperimentPlan {
  const result = validateExperimentPlan(input, ctx);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

/** True per-unit behaviour of one variant: conversion and crash probabilities. */
export interface ArmTruth {
  conversion: number;
  crash: number;
}

/** Cumulative simulated sums of one variant. */
interface ArmSums {
  units: number;
  conversion: SufficientStats;
  crash: SufficientStats;
}

/** Draws the number of units with an event among `n`, each with probability `p` (normal approximation). */
function events(n: number, p: number, random: () => number): number {
  const sd = Math.sqrt(n * p * (1 - p));
  return Math.min(n, Math.max(0, Math.round(n * p + sd * gaussian(random))));
}

/**
 * A seeded simulation: each day `unitsPerDay` new covered units arrive, split by the plan's weights, and their
 * conversion and crash outcomes are drawn from `truth`. `next()` returns the cumulative evidence after one more
 * day (one coverage epoch, index 0).
 */
export function simulateExperiment(input: {
  plan: ExperimentPlan;
  truth: Record<string, ArmTruth>;
  unitsPerDay: number;
  seed: number;
}): { next: () => ExperimentEvidence } {
  const random = seeded(input.seed);
  const sums: Record<string, ArmSums> = {};
  for (const v of input.plan.variants)
    sums[v.variant] = {
      units: 0,
      conversion: { n: 0, sumY: 0, sumY2: 0 },
      crash: { n: 0, sumY: 0, sumY2: 0 },
    };
  return {
    next: () => {
      for (const v of input.plan.variants) {
        const arm = sums[v.variant] as ArmSums;
        const truth = input.truth[v.variant] as ArmTruth;
        const n = Math.round((input.unitsPerDay * v.weight) / 100);
        const conv = events(n, truth.conversion, random);
        const crash = events(n, truth.crash, random);
        arm.units += n;
        arm.conversion = {
          n: arm.conversion.n + n,
          sumY: arm.conversion.sumY + conv,
          sumY2: arm.conversion.sumY2 + conv,
        };
        arm.crash = { n: arm.crash.n + n, sumY: arm.crash.sumY + crash, sumY2: arm.crash.sumY2 + crash };
      }
      const pick = (f: (a: ArmSums) => SufficientStats) =>
        Object.fromEntries(Object.entries(sums).map(([k, a]) => [k, f(a)]));
      return {
        units: Object.fromEntries(Object.entries(sums).map(([k, a]) => [k, a.units])),
        assignments: [
          { epoch: 0, counts: Object.fromEntries(Object.entries(sums).map(([k, a]) => [k, a.units])) },
        ],
        metrics: {
          conversion: { hasData: true, cohorts: [{ epoch: 0, arms: pick((a) => a.conversion) }] },
          crash_rate: { hasData: true, cohorts: [{ epoch: 0, arms: pick((a) => a.crash) }] },
        },
        unitsPerDay: input.unitsPerDay,
      };
    },
  };
}
