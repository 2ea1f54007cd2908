// The A/B test (experiment) plan: one flag in one environment, two or more variants (one of them control) with
// fixed weights inside a coverage percentage of the bucket space, success metrics with the smallest lift worth
// detecting, guardrails merged with the surface's required metrics exactly as rollouts do, and the policies.
// `validateExperimentPlan` turns what a person sends into the stored plan; validating a stored plan again gives
// the same plan. Once an experiment has started, a revised plan may not change how units are assigned.

import { bucketsToReach, type FlagConfig, MAX_KEY_LENGTH, type ValidationResult } from '@dimmer/core';
import type { Direction } from '@dimmer/stats';
import { DAY_MS, parseDuration } from './duration.ts';
import {
  checkPositive,
  child,
  describe,
  expectObject,
  expectOneOf,
  type Fields,
  Issues,
  rejectUnknownFields,
  requireField,
} from './issues.ts';
import type { MetricCategory, MetricDefinition, MetricKind } from './metric.ts';
import {
  checkCount,
  checkKeyString,
  DEFAULT_MIN_UNITS_PER_ARM,
  type RolloutGuardrail,
  type RolloutPlanContext,
  reachBuckets,
  validateGuardrails,
} from './plan.ts';

/** `manual` (default): decisions are recommendations a person applies; `automatic`: the controller applies them. */
export type ExperimentMode = 'manual' | 'automatic';
/** What a sample-ratio mismatch does: keep running and alert (default), or abort the experiment. */
export type ExperimentSrmAction = 'continue' | 'abort';

/** One arm as stored: the flag variant and its share of the covered units in percent. */
export interface ExperimentVariant {
  variant: string;
  /** Whole percent of the covered units (1–99); the weights of a plan sum to 100. */
  weight: number;
}

/** One success metric as stored: the metric, the smallest relative lift worth detecting, and copied fields. */
export interface ExperimentSuccessMetric {
  metric: string;
  /** Minimum detectable effect, relative to the control mean: 0.02 plans for a 2% improvement. */
  mde: number;
  kind: MetricKind;
  /** Harm direction copied from the metric; the improvement the test looks for is the opposite one. */
  direction: Direction;
  category: MetricCategory;
}

/** A validated experiment plan (plain JSON). */
export interface ExperimentPlan {
  id: string;
  flag: string;
  environment: string;
  /** The variant every other variant is compared against. */
  control: string;
  /** Every arm, control included, in the order the assignment lays them out (see `experimentLayout`). */
  variants: ExperimentVariant[];
  /** Percent of the bucket space in the experiment when it starts, (0, 100] with at most four decimals. */
  coverage: number;
  successMetrics: ExperimentSuccessMetric[];
  /** Non-inferiority and deterioration guardrails, the surface's required metrics merged in. */
  guardrails: RolloutGuardrail[];
  /** Time the experiment must run before shipping is recommended, in milliseconds. */
  minDuration: number;
  /** Units every arm must hold before the sample size is planned and shipping can be recommended. */
  minUnitsPerArm: number;
  mode: ExperimentMode;
  srmAction: ExperimentSrmAction;
}

/** A running (or ended) experiment whose plan is being revised. */
export interface StartedExperiment {
  plan: ExperimentPlan;
  /** The coverage currently served, in percent (`ExperimentState.coverage`). */
  coverage: number;
}

/** What validation needs to know beyond the plan itself: the flag, metrics and surface as for rollouts, and more. */
export interface ExperimentPlanContext
  extends Pick<RolloutPlanContext, 'flag' | 'metrics' | 'surfaceRequired'> {
  /** True when another rollout or experiment owns the flag in this environment. */
  activeOnFlagEnv: boolean;
  /** For a revision of an experiment that has started: assignment, metrics and starting coverage are fixed. */
  started?: StartedExperiment;
}

/** Family-wise level of the ship decision, split over success metrics and treatment variants (Bonferroni). */
export const EXPERIMENT_ALPHA = 0.05;
/** Type II error planned for each success metric's minimum detectable effect (power 0.8). */
export const EXPERIMENT_BETA = 0.2;
/** Default time an experiment runs before shipping is recommended: a week, so every weekday is seen. */
export const DEFAULT_EXPERIMENT_MIN_DURATION_MS = 7 * DAY_MS;
/** Weights are whole percent of the covered units and sum to this. */
export const WEIGHT_TOTAL = 100;
/** Most variants (control included) in one experiment. */
export const MAX_EXPERIMENT_VARIANTS = 20;
/** Most success metrics in one experiment (each one divides α). */
export const MAX_SUCCESS_METRICS = 10;
/** Rule ids are `experiment-<id>`, so experiment ids are shorter than rule ids by this prefix. */
export const EXPERIMENT_RULE_ID_PREFIX = 'experiment-';
const MAX_EXPERIMENT_ID_LENGTH = MAX_KEY_LENGTH - EXPERIMENT_RULE_ID_PREFIX.length;

const PLAN_FIELDS = [
  'id',
  'flag',
  'environment',
  'control',
  'variants',
  'coverage',
  'successMetrics',
  'guardrails',
  'minDuration',
  'minUnitsPerArm',
  'mode',
  'srmAction',
];
const VARIANT_FIELDS = ['variant', 'weight'];
const SUCCESS_FIELDS = ['metric', 'mde', 'kind', 'direction', 'category'];
const MODES: readonly ExperimentMode[] = ['manual', 'automatic'];
const SRM_ACTIONS: readonly ExperimentSrmAction[] = ['continue', 'abort'];

/** Buckets (of 1,000,000) variant weight `weight` serves at `coverageBuckets`: ⌊weight · coverage / 100⌋. */
export function servedBuckets(weight: number, coverageBuckets: number): number {
  return Math.floor((weight * coverageBuckets) / WEIGHT_TOTAL);
}

/** Equal whole-percent weights for `count` variants, the remainder going to the first ones (3 → 34, 33, 33). */
function equalWeights(count: number): number[] {
  const base = Math.floor(WEIGHT_TOTAL / count);
  return Array.from({ length: count }, (_, i) => base + (i < WEIGHT_TOTAL - base * count ? 1 : 0));
}

function validateVariants(input: unknown, flag: FlagConfig, issues: Issues): ExperimentVariant[] {
  if (!Array.isArray(input) || input.length < 2 || input.length > MAX_EXPERIMENT_VARIANTS) {
    issues.add(
      'variants',
      `expected an array of 2 to ${MAX_EXPERIMENT_VARIANTS} variants {variant, weight} (control and at least one treatment), got ${describe(input)}${Array.isArray(input) ? ` of ${input.length}` : ''}`,
    );
    return [];
  }
  const names = Object.keys(flag.variants);
  const seen = new Map<string, number>();
  const weighted = input.filter((raw) => isWeighted(raw)).length;
  const defaults = weighted === 0 ? equalWeights(input.length) : null;
  const out: ExperimentVariant[] = [];
  input.forEach((raw, i) => {
    const p = child('variants', i);
    if (!expectObject(raw, p, issues, 'a variant {variant, weight}')) return;
    rejectUnknownFields(raw, VARIANT_FIELDS, p, issues);
    let variant = '';
    if (requireField(raw, 'variant', p, issues)) {
      if (typeof raw.variant !== 'string' || !Object.hasOwn(flag.variants, raw.variant))
        issues.add(
          child(p, 'variant'),
          `expected a variant of flag ${flag.key} (${names.join(', ')}), got ${describe(raw.variant)}`,
        );
      else if (seen.has(raw.variant))
        issues.add(
          child(p, 'variant'),
          `variant ${raw.variant} is already variants[${seen.get(raw.variant)}]`,
        );
      else {
        variant = raw.variant;
        seen.set(variant, i);
      }
    }
    let weight = defaults?.[i] ?? Number.NaN;
    if (defaults === null && requireField(raw, 'weight', p, issues)) {
      if (
        Number.isSafeInteger(raw.weight) &&
        (raw.weight as number) >= 1 &&
        (raw.weight as number) < WEIGHT_TOTAL
      )
        weight = raw.weight as number;
      else
        issues.add(
          child(p, 'weight'),
          `expected a whole percent of the covered units from 1 to ${WEIGHT_TOTAL - 1}, got ${describe(raw.weight)}`,
        );
    }
    out.push({ variant, weight });
  });
  const total = out.reduce((a, v) => a + v.weight, 0);
  if (Number.isFinite(total) && total !== WEIGHT_TOTAL)
    issues.add(
      'variants',
      `expected weights summing to ${WEIGHT_TOTAL} (percent of the covered units), got ${out.map((v) => v.weight).join(' + ')} = ${total}`,
    );
  return out;
}

function isWeighted(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && Object.hasOwn(raw, 'weight');
}

function validateSuccessMetrics(
  input: unknown,
  metrics: Readonly<Record<string, MetricDefinition>>,
  issues: Issues,
): ExperimentSuccessMetric[] {
  if (!Array.isArray(input) || input.length < 1 || input.length > MAX_SUCCESS_METRICS) {
    issues.add(
      'successMetrics',
      `expected an array of 1 to ${MAX_SUCCESS_METRICS} success metrics {metric, mde}, got ${describe(input)}${Array.isArray(input) ? ` of ${input.length}` : ''}`,
    );
    return [];
  }
  const out: ExperimentSuccessMetric[] = [];
  const seen = new Map<string, number>();
  input.forEach((raw, i) => {
    const p = child('successMetrics', i);
    if (!expectObject(raw, p, issues, 'a success metric {metric, mde}')) return;
    rejectUnknownFields(raw, SUCCESS_FIELDS, p, issues);
    if (!requireField(raw, 'metric', p, issues)) return;
    const key = raw.metric;
    if (typeof key !== 'string' || !Object.hasOwn(metrics, key)) {
      const known = Object.keys(metrics).sort();
      issues.add(
        child(p, 'metric'),
        `expected a defined metric key, got ${describe(key)}${known.length > 0 ? `; known metrics: ${known.slice(0, 20).join(', ')}` : ''}`,
      );
      return;
    }
    if (seen.has(key)) {
      issues.add(
        child(p, 'metric'),
        `metric ${JSON.stringify(key)} is already successMetrics[${seen.get(key)}]`,
      );
      return;
    }
    seen.set(key, i);
    const metric = metrics[key] as MetricDefinition;
    if (requireField(raw, 'mde', p, issues))
      checkPositive(
        raw.mde,
        child(p, 'mde'),
        issues,
        'a relative minimum detectable effect such as 0.02 for 2%',
      );
    for (const field of ['kind', 'direction', 'category'] as const) {
      if (Object.hasOwn(raw, field) && raw[field] !== metric[field])
        issues.add(
          child(p, field),
          `is copied from metric ${key} (${JSON.stringify(metric[field])}); leave it out or match it, got ${describe(raw[field])}`,
        );
    }
    out.push({
      metric: key,
      mde: raw.mde as number,
      kind: metric.kind,
      direction: metric.direction,
      category: metric.category,
    });
  });
  return out;
}

/** Issues for every change a started experiment may not take: assignment, metrics and the starting coverage. */
function checkRevision(plan: ExperimentPlan, started: StartedExperiment, issues: Issues): void {
  const before = started.plan;
  for (const field of ['id', 'flag', 'environment', 'control'] as const) {
    if (plan[field] !== before[field])
      issues.add(field, `is fixed once the experiment has started (${JSON.stringify(before[field])})`);
  }
  if (plan.variants.length !== before.variants.length)
    issues.add(
      'variants',
      `the variants are fixed once the experiment has started (${before.variants.length})`,
    );
  plan.variants.forEach((v, i) => {
    const was = before.variants[i];
    if (was === undefined) return;
    if (v.variant !== was.variant)
      issues.add(
        child(child('variants', i), 'variant'),
        `the variants are fixed once the experiment has started (${JSON.stringify(was.variant)})`,
      );
    if (v.weight !== was.weight)
      issues.add(
        child(child('variants', i), 'weight'),
        `weights are fixed once the experiment has started: changing them would move units between arms (was ${was.weight}, got ${v.weight})`,
      );
  });
  if (plan.coverage !== before.coverage)
    issues.add(
      'coverage',
      `the experiment has started and serves ${started.coverage}%; coverage only grows, through the set_coverage action (got ${plan.coverage})`,
    );
  const metricsOf = (p: ExperimentPlan) =>
    JSON.stringify([p.successMetrics, p.guardrails.map((g) => [g.metric, g.margin, g.required])]);
  if (metricsOf(plan) !== metricsOf(before))
    issues.add(
      'successMetrics',
      'success metrics and guardrails are fixed once the experiment has started: their sequential tests are under way',
    );
}

/**
 * Validates an experiment plan against its flag, the defined metrics and the surface's required metrics. Rejects
 * unknown fields, never coerces, fills the defaults (equal weights when none is given, minDuration 7 days,
 * 1,000 units per arm, mode `manual`, srmAction `continue`), merges in the surface's required guardrails, and
 * names every problem with its JSON path. With `context.started` it also refuses changes a running experiment
 * cannot take (weights: `variants[i].weight`; coverage: `coverage`, which only grows through `set_coverage`).
 */
export function validateExperimentPlan(
  input: unknown,
  context: ExperimentPlanContext,
): ValidationResult<ExperimentPlan> {
  const issues = new Issues();
  if (!expectObject(input, '', issues, 'an experiment plan object'))
    return issues.result(input as ExperimentPlan);
  rejectUnknownFields(input, PLAN_FIELDS, '', issues);
  const flag = context.flag;
  if (requireField(input, 'id', '', issues))
    checkKeyString(input.id, 'id', issues, 'an experiment id', MAX_EXPERIMENT_ID_LENGTH);
  if (requireField(input, 'flag', '', issues) && input.flag !== flag.key)
    issues.add(
      'flag',
      `expected the key of the flag under test, ${JSON.stringify(flag.key)}, got ${describe(input.flag)}`,
    );
  if (requireField(input, 'environment', '', issues)) {
    if (typeof input.environment !== 'string' || !Object.hasOwn(flag.environments, input.environment))
      issues.add(
        'environment',
        `expected an environment of flag ${flag.key} (${Object.keys(flag.environments).join(', ')}), got ${describe(input.environment)}`,
      );
  }
  const variants = requireField(input, 'variants', '', issues)
    ? validateVariants(input.variants, flag, issues)
    : [];
  if (requireField(input, 'control', '', issues) && variants.length > 0) {
    if (typeof input.control !== 'string' || !variants.some((v) => v.variant === input.control))
      issues.add(
        'control',
        `expected one of the experiment's variants (${variants.map((v) => v.variant).join(', ')}), got ${describe(input.control)}`,
      );
  }
  const coverage = requireField(input, 'coverage', '', issues)
    ? checkCoverage(input.coverage, variants, issues)
    : Number.NaN;
  const successMetrics = requireField(input, 'successMetrics', '', issues)
    ? validateSuccessMetrics(input.successMetrics, context.metrics, issues)
    : [];
  const rawGuardrails = Object.hasOwn(input, 'guardrails') ? input.guardrails : [];
  // An experiment may have no guardrail of its own (its success metrics are watched for deterioration too).
  const guardrails =
    Array.isArray(rawGuardrails) && rawGuardrails.length === 0 && context.surfaceRequired.length === 0
      ? []
      : validateGuardrails(rawGuardrails, context, issues);
  checkOverlap(successMetrics, guardrails, Array.isArray(rawGuardrails) ? rawGuardrails : [], issues);

  let minDuration = DEFAULT_EXPERIMENT_MIN_DURATION_MS;
  if (Object.hasOwn(input, 'minDuration')) {
    const parsed = parseDuration(input.minDuration, 'minDuration');
    if (parsed.ok) minDuration = parsed.value;
    else issues.list.push(...parsed.issues);
  }
  const minUnitsPerArm = Object.hasOwn(input, 'minUnitsPerArm')
    ? input.minUnitsPerArm
    : DEFAULT_MIN_UNITS_PER_ARM;
  checkCount(minUnitsPerArm, 'minUnitsPerArm', issues, 'a number of units per arm');
  const mode = Object.hasOwn(input, 'mode') ? input.mode : 'manual';
  expectOneOf(mode, MODES, 'mode', issues);
  const srmAction = Object.hasOwn(input, 'srmAction') ? input.srmAction : 'continue';
  expectOneOf(srmAction, SRM_ACTIONS, 'srmAction', issues);
  if (context.activeOnFlagEnv && context.started === undefined)
    issues.add(
      'flag',
      `flag ${flag.key} already has an active rollout or experiment in ${String(input.environment)}; end it first`,
    );

  const plan: ExperimentPlan = {
    id: input.id as string,
    flag: input.flag as string,
    environment: input.environment as string,
    control: input.control as string,
    variants,
    coverage,
    successMetrics,
    guardrails,
    minDuration,
    minUnitsPerArm: minUnitsPerArm as number,
    mode: mode as ExperimentMode,
    srmAction: srmAction as ExperimentSrmAction,
  };
  if (issues.list.length === 0 && context.started !== undefined) checkRevision(plan, context.started, issues);
  return issues.result(plan);
}

/**
 * Checks a coverage in percent: (0, 100], at most four decimals, and large enough that every variant serves at
 * least one bucket. Returns the coverage, or NaN with an issue at `path`.
 */
export function checkCoverage(
  value: unknown,
  variants: readonly ExperimentVariant[],
  issues: Issues,
): number {
  const path = 'coverage';
  const buckets = reachBuckets(value, path, issues, 'a coverage');
  if (buckets === null) return Number.NaN;
  if (buckets === 0) {
    issues.add(path, `expected a coverage above 0 and at most 100, got ${value}`);
    return Number.NaN;
  }
  const smallest = Math.min(...variants.map((v) => v.weight).filter((w) => w > 0));
  if (Number.isFinite(smallest) && servedBuckets(smallest, buckets) < 1) {
    const needed = bucketsToReach(Math.ceil(WEIGHT_TOTAL / smallest));
    issues.add(
      path,
      `expected a coverage of at least ${needed} so the ${smallest}% variant gets a bucket, got ${value}`,
    );
    return Number.NaN;
  }
  return value as number;
}

function checkOverlap(
  success: readonly ExperimentSuccessMetric[],
  guardrails: readonly RolloutGuardrail[],
  rawGuardrails: readonly unknown[],
  issues: Issues,
): void {
  success.forEach((s, i) => {
    const g = guardrails.find((x) => x.metric === s.metric);
    if (g === undefined) return;
    const listed = rawGuardrails.findIndex((r) => (r as Fields | null)?.metric === s.metric);
    issues.add(
      child(child('successMetrics', i), 'metric'),
      listed >= 0
        ? `metric ${s.metric} is also guardrails[${listed}]; a metric is either a success metric (superiority) or a guardrail (non-inferiority)`
        : `metric ${s.metric} is a guardrail the flag's surface requires, so it cannot also be a success metric`,
    );
  });
}
