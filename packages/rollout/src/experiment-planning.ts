// Planning an experiment: the sample each arm needs so that every success metric's minimum detectable effect is
// found with power 1 − β (α split over success metrics and treatments, inflated for the group-sequential test at
// ρ = 2) and every guardrail can be shown non-inferior at its margin with power 1 − β/G, and how long that takes
// at a given traffic and coverage. `decideExperiment` freezes its planned sample with the same function.

import { BUCKET_COUNT, reachToBuckets } from '@dimmer/core';
import {
  DEFAULT_NON_INFERIORITY_ALPHA,
  DEFAULT_NON_INFERIORITY_RHO,
  fixedHorizonInformation,
  requiredInformation,
} from '@dimmer/stats';
import { DAY_MS, formatDuration } from './duration.ts';
import {
  EXPERIMENT_ALPHA,
  EXPERIMENT_BETA,
  type ExperimentPlan,
  servedBuckets,
  WEIGHT_TOTAL,
} from './experiment-plan.ts';
import type { MetricKind } from './metric.ts';

/** A metric's expected per-unit mean and variance in control; proportions may leave out the variance (p(1 − p)). */
export interface MetricBaseline {
  mean: number;
  variance?: number;
}

/** Expected traffic: new units a day evaluating the flag (before coverage), and per-metric baselines. */
export interface ExperimentTraffic {
  unitsPerDay: number;
  baselines: Readonly<Record<string, MetricBaseline>>;
  /** Coverage in percent to plan for; default the plan's. */
  coverage?: number;
}

/** The sample one metric needs. */
export interface MetricSampleSize {
  metric: string;
  role: 'success' | 'guardrail';
  /** Effect planned for in metric units: MDE × |mean| (success) or margin × |mean| (guardrail). */
  effect: number;
  /** The same, relative to the control mean. */
  relativeEffect: number;
  /** One-sided level of its test: α/(S·T) for success metrics, α for guardrails. */
  alpha: number;
  /** Power planned: 1 − β for success metrics, 1 − β/G for guardrails. */
  power: number;
  inflationFactor: number;
  /** Information (1/Var of the difference) the comparison needs. */
  requiredInformation: number;
  /** Covered units (all arms) needed for the least-weighted treatment's comparison. */
  coveredUnits: number;
}

/** The experiment's sample and duration plan. */
export interface ExperimentSamplePlan {
  metrics: MetricSampleSize[];
  /** Covered units (all arms together) the experiment needs: the largest metric requirement. */
  coveredUnits: number;
  /** The same per variant (by weight). */
  unitsPerArm: Record<string, number>;
  /** The metric that needs the most units; null when no metric has a baseline. */
  drivingMetric: string | null;
  /** New units a day entering the experiment at the planned coverage. */
  coveredUnitsPerDay: number;
  /** Time to gather the sample at that rate, in milliseconds (Infinity without traffic). */
  sampleDurationMs: number;
  /** Expected duration: the sample time, at least the plan's minimum duration. */
  durationMs: number;
  /** Looks the group-sequential inflation factor was computed for (one a day, at most MAX_PLANNED_LOOKS). */
  looks: number;
  warnings: string[];
}

/**
 * The inflation factor is computed for at most this many equally spaced looks (two weeks of daily looks): at
 * ρ = 2 it grows by about 1% more up to 60 looks (1.084 → 1.097 at α = 0.05, power 0.8), and each extra look
 * makes the root search of the power recursion slower.
 */
export const MAX_PLANNED_LOOKS = 14;
/** An experiment that needs longer than this (eight weeks) to reach its sample gets a warning. */
export const LONG_EXPERIMENT_MS = 56 * DAY_MS;
/** Fixed-point iterations between duration (number of daily looks) and the inflation factor. */
const PLANNING_ITERATIONS = 5;

/** Most inflation factors remembered (they depend only on α, power and the number of looks). */
const INFLATION_CACHE_SIZE = 256;
const inflationCache = new Map<string, number>();

/**
 * The group-sequential inflation factor at ρ = 2 for equally spaced looks. Solving it takes a root search over
 * the power recursion, so results are remembered: the same inputs always give the same number.
 */
function inflationFor(alpha: number, power: number, informationFractions: readonly number[]): number {
  if (informationFractions.length <= 1) return 1;
  const key = `${alpha}|${power}|${informationFractions.length}`;
  const known = inflationCache.get(key);
  if (known !== undefined) return known;
  const factor = requiredInformation({
    margin: 1,
    alpha,
    power,
    spending: { kind: 'power', rho: DEFAULT_NON_INFERIORITY_RHO },
    informationFractions,
  }).inflationFactor;
  if (inflationCache.size >= INFLATION_CACHE_SIZE) inflationCache.clear();
  inflationCache.set(key, factor);
  return factor;
}

/** Per-unit variance of a baseline: the given one, or p(1 − p) for a proportion. */
function baselineVariance(kind: MetricKind, base: MetricBaseline): number {
  if (base.variance !== undefined) return base.variance;
  return kind === 'proportion' ? base.mean * (1 - base.mean) : Number.NaN;
}

/** Equally spaced information fractions for `looks` looks. */
function fractions(looks: number): number[] {
  return Array.from({ length: looks }, (_, k) => (k + 1) / looks);
}

/** Number of treatment variants. */
export function treatmentCount(plan: ExperimentPlan): number {
  return plan.variants.filter((v) => v.variant !== plan.control).length;
}

/** One-sided level of each superiority test: α/(S·T), Bonferroni over success metrics and treatments. */
export function superiorityAlpha(plan: ExperimentPlan): number {
  return EXPERIMENT_ALPHA / (plan.successMetrics.length * Math.max(1, treatmentCount(plan)));
}

/**
 * Covered units per unit of information and per-unit variance for the least-weighted treatment against control:
 * 1/s_T + 1/s_C with s the arms' shares of the covered units.
 */
function unitsPerInformation(plan: ExperimentPlan): number {
  const control = plan.variants.find((v) => v.variant === plan.control)?.weight ?? Number.NaN;
  let worst = 0;
  for (const v of plan.variants) {
    if (v.variant === plan.control) continue;
    worst = Math.max(worst, WEIGHT_TOTAL / v.weight + WEIGHT_TOTAL / control);
  }
  return worst;
}

/**
 * The sample each metric needs for `looks` equally spaced looks, given baselines: success metrics at α/(S·T)
 * and power 1 − β for their MDE, guardrails at α and power 1 − β/G for their margin, both at ρ = 2.
 */
export function metricSampleSizes(
  plan: ExperimentPlan,
  baselines: Readonly<Record<string, MetricBaseline>>,
  looks: number,
): MetricSampleSize[] {
  const informationFractions = fractions(Math.max(1, Math.min(MAX_PLANNED_LOOKS, Math.round(looks))));
  const perInfo = unitsPerInformation(plan);
  const out: MetricSampleSize[] = [];
  const add = (role: MetricSampleSize['role'], metric: string, kind: MetricKind, relative: number) => {
    const base = baselines[metric];
    if (base === undefined) return;
    const variance = baselineVariance(kind, base);
    const effect = relative * Math.abs(base.mean);
    if (!(variance > 0) || !(effect > 0) || !Number.isFinite(effect)) return;
    const alpha = role === 'success' ? superiorityAlpha(plan) : DEFAULT_NON_INFERIORITY_ALPHA;
    const power = role === 'success' ? 1 - EXPERIMENT_BETA : 1 - EXPERIMENT_BETA / plan.guardrails.length;
    const factor = inflationFor(alpha, power, informationFractions);
    const needed = fixedHorizonInformation({ margin: effect, alpha, power }) * factor;
    out.push({
      metric,
      role,
      effect,
      relativeEffect: relative,
      alpha,
      power,
      inflationFactor: factor,
      requiredInformation: needed,
      coveredUnits: needed * variance * perInfo,
    });
  };
  for (const s of plan.successMetrics) add('success', s.metric, s.kind, s.mde);
  for (const g of plan.guardrails) add('guardrail', g.metric, g.kind, g.margin);
  return out;
}

/** Share of all new units the experiment covers at `coverage` percent (what the variants actually serve). */
export function coveredShare(plan: ExperimentPlan, coverage: number): number {
  const buckets = reachToBuckets(coverage);
  return plan.variants.reduce((a, v) => a + servedBuckets(v.weight, buckets), 0) / BUCKET_COUNT;
}

/**
 * Plans the experiment for `traffic`: per metric the sample it needs (see `metricSampleSizes`), the covered
 * units and units per arm the largest need sets, and the expected duration at `unitsPerDay` new units a day and
 * the coverage (one look a day; the inflation factor and the number of looks are solved together). Metrics
 * without a baseline are left out with a warning.
 */
export function planExperimentSample(plan: ExperimentPlan, traffic: ExperimentTraffic): ExperimentSamplePlan {
  const warnings: string[] = [];
  const coverage = traffic.coverage ?? plan.coverage;
  const perDay = traffic.unitsPerDay > 0 ? traffic.unitsPerDay * coveredShare(plan, coverage) : 0;
  if (!(perDay > 0))
    warnings.push(`expected traffic is ${traffic.unitsPerDay} units a day: the experiment never ends`);
  let looks = 1;
  let metrics: MetricSampleSize[] = [];
  for (let i = 0; i < PLANNING_ITERATIONS; i++) {
    metrics = metricSampleSizes(plan, traffic.baselines, looks);
    const units = Math.max(0, ...metrics.map((m) => m.coveredUnits));
    const days = perDay > 0 ? Math.max(1, Math.ceil(units / perDay)) : MAX_PLANNED_LOOKS;
    const next = Math.min(MAX_PLANNED_LOOKS, days);
    if (next === looks) break;
    looks = next;
  }
  for (const s of plan.successMetrics)
    if (!metrics.some((m) => m.metric === s.metric))
      warnings.push(`${s.metric}: no baseline mean and variance, so its sample size cannot be planned`);
  for (const g of plan.guardrails)
    if (!metrics.some((m) => m.metric === g.metric))
      warnings.push(
        `${g.metric}: no baseline mean and variance, so its non-inferiority power cannot be planned`,
      );
  let driving: MetricSampleSize | null = null;
  for (const m of metrics) if (driving === null || m.coveredUnits > driving.coveredUnits) driving = m;
  const coveredUnits = driving?.coveredUnits ?? 0;
  const unitsPerArm: Record<string, number> = {};
  for (const v of plan.variants) unitsPerArm[v.variant] = (coveredUnits * v.weight) / WEIGHT_TOTAL;
  const sampleDurationMs = perDay > 0 ? (coveredUnits / perDay) * DAY_MS : Number.POSITIVE_INFINITY;
  if (driving !== null && perDay > 0 && sampleDurationMs > LONG_EXPERIMENT_MS)
    warnings.push(
      `${driving.metric} needs ${Math.round(coveredUnits).toLocaleString('en-US')} covered units, about ${formatDuration(sampleDurationMs)} at this traffic and coverage; raise the coverage or accept a larger minimum detectable effect`,
    );
  return {
    metrics,
    coveredUnits,
    unitsPerArm,
    drivingMetric: driving?.metric ?? null,
    coveredUnitsPerDay: perDay,
    sampleDurationMs,
    durationMs: Math.max(plan.minDuration, sampleDurationMs),
    looks,
    warnings,
  };
}
