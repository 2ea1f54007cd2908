// The rollout plan: which flag, which variants, the stages of reach with their minimums, the guardrails and
// the policies. `validateRolloutPlan` turns what a person sends into the stored, resolved plan that `decide`
// and `rolloutRule` read; validating a stored plan again gives the same plan.

import {
  BUCKET_COUNT,
  bucketsToReach,
  type FlagConfig,
  KEY_PATTERN,
  MAX_KEY_LENGTH,
  REACH_DECIMALS,
  reachToBuckets,
  type ValidationResult,
} from '@dimmer/core';
import type { Direction } from '@dimmer/stats';
import { DEFAULT_CANARY_THRESHOLD } from '@dimmer/stats';
import { DAY_MS, parseDuration } from './duration.ts';
import {
  checkPositive,
  child,
  describe,
  expectObject,
  expectOneOf,
  Issues,
  rejectUnknownFields,
  requireField,
} from './issues.ts';
import type { MetricCategory, MetricDefinition, MetricKind } from './metric.ts';

/** `automatic`: the controller applies each decision; `manual`: it only recommends and a person acts. */
export type RolloutMode = 'automatic' | 'manual';
/** What a sample-ratio mismatch does: hold and alert (default), or roll back. */
export type SrmAction = 'hold' | 'rollback';
/**
 * What the last step (to 100% or to the final holdback) needs besides the stage minimums: every guardrail
 * shown non-inferior (default), or the planned information reached with no rollback.
 */
export type FinalGate = 'non_inferiority' | 'information';

/** One stage as stored: reach in percent, minimum duration in milliseconds, minimum sample per arm. */
export interface RolloutStage {
  /** Percent of units (0, 100], at most four decimals; the last stage is 100. */
  reach: number;
  /** Time the stage must run before the rollout may advance, in milliseconds. */
  minDuration: number;
  /** Units each arm of the comparison must hold before the rollout may advance from this stage. */
  minUnitsPerArm: number;
  /**
   * Events expected in the smaller arm at the control rate (n_small·p̂_C) before the rollout may advance from
   * this stage, for proportion guardrails.
   */
  minEventsPerArm: number;
}

/** One guardrail as stored: the metric, its relative margin, and what the plan copied from the metric. */
export interface RolloutGuardrail {
  metric: string;
  /** Relative non-inferiority margin, e.g. 0.02 for 2%. */
  margin: number;
  /** A required metric with no data blocks every advance; surface metrics are always required. */
  required: boolean;
  /** Copied from the metric definition when the plan is validated, so later edits do not change a rollout. */
  kind: MetricKind;
  direction: Direction;
  category: MetricCategory;
}

/** A validated rollout plan (plain JSON). */
export interface RolloutPlan {
  id: string;
  flag: string;
  environment: string;
  treatment: string;
  control: string;
  stages: RolloutStage[];
  /** Percent of units kept on control after the last step, in [0, 50); the final reach is 100 − holdback. */
  holdback: number;
  guardrails: RolloutGuardrail[];
  mode: RolloutMode;
  /** Catastrophic-harm guard of the first stage (≤ 1%): relative harm threshold, e.g. 0.5 = 50%. */
  canaryGuard: false | { threshold: number };
  srmAction: SrmAction;
  finalGate: FinalGate;
}

/** What validation needs to know beyond the plan itself. */
export interface RolloutPlanContext {
  flag: FlagConfig;
  /** Metric definitions by key. */
  metrics: Readonly<Record<string, MetricDefinition>>;
  /** Metrics the flag's surface requires, with their margins (the metric's own margin when absent). */
  surfaceRequired: readonly { metric: string; margin?: number }[];
  /** True when another rollout on the same flag and environment is active (see `isRolloutActive`). */
  activeRolloutOnFlagEnv: boolean;
}

/** Default minimum stage duration: 24 hours, in milliseconds. */
export const DEFAULT_MIN_DURATION_MS = DAY_MS;
/** Default minimum units per arm before a stage may advance. */
export const DEFAULT_MIN_UNITS_PER_ARM = 1_000;
/**
 * Default minimum events expected in the smaller arm at the control rate, for proportion metrics: the same 10
 * the rollback test needs before it spends α, so a 0.1% metric at 10,000 treatment units a day is ready in a day.
 */
export const DEFAULT_MIN_EVENTS_PER_ARM = 10;
/** Holdback must stay below this percentage (a larger one is an A/B test, not a rollout). */
export const MAX_HOLDBACK = 50;
/** The canary guard runs only on a first stage at or below this reach, in percent. */
export const CANARY_MAX_REACH = 1;
/** Most stages in a plan. */
export const MAX_STAGES = 20;
/** Most guardrails in a plan. */
export const MAX_GUARDRAILS = 50;
/** Final reach in percent. */
export const FULL_REACH = 100;
/** Rule ids are `rollout-<id>`, so rollout ids are shorter than rule ids by this prefix. */
export const ROLLOUT_RULE_ID_PREFIX = 'rollout-';
const MAX_ROLLOUT_ID_LENGTH = MAX_KEY_LENGTH - ROLLOUT_RULE_ID_PREFIX.length;

const PLAN_FIELDS = [
  'id',
  'flag',
  'environment',
  'treatment',
  'control',
  'stages',
  'holdback',
  'guardrails',
  'mode',
  'canaryGuard',
  'srmAction',
  'finalGate',
];
const STAGE_FIELDS = ['reach', 'minDuration', 'minUnitsPerArm', 'minEventsPerArm'];
const GUARDRAIL_FIELDS = ['metric', 'margin', 'required', 'kind', 'direction', 'category'];
const MODES: readonly RolloutMode[] = ['automatic', 'manual'];
const SRM_ACTIONS: readonly SrmAction[] = ['hold', 'rollback'];
const FINAL_GATES: readonly FinalGate[] = ['non_inferiority', 'information'];

/** Bucket count for a percentage, or null (with an issue) when it is not a valid reach. */
export function reachBuckets(value: unknown, path: string, issues: Issues, what: string): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    issues.add(path, `expected ${what} in percent (a number), got ${describe(value)}`);
    return null;
  }
  try {
    return reachToBuckets(value);
  } catch {
    issues.add(
      path,
      `expected ${what} between 0 and 100 with at most ${REACH_DECIMALS} decimals, got ${value}`,
    );
    return null;
  }
}

/** Adds an issue unless `value` is a key string (letters, digits, `_`, `.`, `-`) of at most `max` characters. */
export function checkKeyString(
  value: unknown,
  path: string,
  issues: Issues,
  what: string,
  max = MAX_KEY_LENGTH,
): boolean {
  if (typeof value === 'string' && value.length <= max && KEY_PATTERN.test(value)) return true;
  issues.add(
    path,
    `expected ${what}: 1 to ${max} letters, digits, "_", "." or "-" starting with a letter or digit, got ${describe(value)}`,
  );
  return false;
}

/** Adds an issue unless `value` is a whole number ≥ 1. */
export function checkCount(value: unknown, path: string, issues: Issues, what: string): value is number {
  if (Number.isSafeInteger(value) && (value as number) >= 1) return true;
  issues.add(path, `expected ${what} (a whole number ≥ 1), got ${describe(value)}`);
  return false;
}

function validateStages(input: unknown, holdbackBuckets: number, issues: Issues): RolloutStage[] {
  const stages: RolloutStage[] = [];
  if (!Array.isArray(input) || input.length < 2 || input.length > MAX_STAGES) {
    issues.add(
      'stages',
      `expected an array of 2 to ${MAX_STAGES} stages ending at 100, got ${describe(input)}${Array.isArray(input) ? ` of ${input.length}` : ''}`,
    );
    return stages;
  }
  let previous = 0;
  input.forEach((raw, i) => {
    const p = child('stages', i);
    if (!expectObject(raw, p, issues, 'a stage {reach, minDuration?, minUnitsPerArm?, minEventsPerArm?}'))
      return;
    rejectUnknownFields(raw, STAGE_FIELDS, p, issues);
    const last = i === input.length - 1;
    let reach = Number.NaN;
    if (requireField(raw, 'reach', p, issues)) {
      const buckets = reachBuckets(raw.reach, child(p, 'reach'), issues, 'a reach');
      if (buckets !== null) {
        reach = raw.reach as number;
        if (buckets === 0) issues.add(child(p, 'reach'), 'expected a reach above 0');
        else if (buckets <= previous)
          issues.add(
            child(p, 'reach'),
            `expected a reach above the previous stage's ${bucketsToReach(previous)}: reach only rises`,
          );
        else if (last && buckets !== BUCKET_COUNT)
          issues.add(
            child(p, 'reach'),
            `expected the last stage at 100 (use holdback to keep some units on control), got ${reach}`,
          );
        else if (!last && buckets >= BUCKET_COUNT - holdbackBuckets)
          issues.add(
            child(p, 'reach'),
            `expected a reach below the final ${bucketsToReach(BUCKET_COUNT - holdbackBuckets)} (100 minus the holdback), got ${reach}`,
          );
        if (buckets > previous) previous = buckets;
      }
    }
    let minDuration = DEFAULT_MIN_DURATION_MS;
    if (Object.hasOwn(raw, 'minDuration')) {
      const parsed = parseDuration(raw.minDuration, child(p, 'minDuration'));
      if (parsed.ok) minDuration = parsed.value;
      else issues.list.push(...parsed.issues);
    }
    const minUnitsPerArm = Object.hasOwn(raw, 'minUnitsPerArm')
      ? raw.minUnitsPerArm
      : DEFAULT_MIN_UNITS_PER_ARM;
    checkCount(minUnitsPerArm, child(p, 'minUnitsPerArm'), issues, 'a number of units per arm');
    const minEventsPerArm = Object.hasOwn(raw, 'minEventsPerArm')
      ? raw.minEventsPerArm
      : DEFAULT_MIN_EVENTS_PER_ARM;
    checkCount(
      minEventsPerArm,
      child(p, 'minEventsPerArm'),
      issues,
      'a number of units with an event per arm',
    );
    stages.push({
      reach,
      minDuration,
      minUnitsPerArm: minUnitsPerArm as number,
      minEventsPerArm: minEventsPerArm as number,
    });
  });
  return stages;
}

/**
 * Validates guardrails against the defined metrics and merges in the surface's required metrics (not removable,
 * margins only stricter); used by rollout and experiment plans.
 */
export function validateGuardrails(
  input: unknown,
  context: Pick<RolloutPlanContext, 'metrics' | 'surfaceRequired'>,
  issues: Issues,
): RolloutGuardrail[] {
  const out: RolloutGuardrail[] = [];
  const seen = new Map<string, number>();
  const required = new Map<string, number>();
  for (const r of context.surfaceRequired) {
    const metric = context.metrics[r.metric];
    const margin = r.margin ?? metric?.margin;
    if (metric === undefined || margin === undefined)
      issues.add(
        'guardrails',
        `the flag's surface requires metric ${JSON.stringify(r.metric)}, which is not defined`,
      );
    else required.set(r.metric, Math.min(required.get(r.metric) ?? margin, margin));
  }
  if (!Array.isArray(input)) {
    issues.add(
      'guardrails',
      `expected an array of guardrails {metric, margin?, required?}, got ${describe(input)}`,
    );
    return out;
  }
  input.forEach((raw, i) => {
    const p = child('guardrails', i);
    if (!expectObject(raw, p, issues, 'a guardrail {metric, margin?, required?}')) return;
    rejectUnknownFields(raw, GUARDRAIL_FIELDS, p, issues);
    if (!requireField(raw, 'metric', p, issues)) return;
    const key = raw.metric;
    if (typeof key !== 'string' || !Object.hasOwn(context.metrics, key)) {
      const known = Object.keys(context.metrics).sort();
      issues.add(
        child(p, 'metric'),
        `expected a defined metric key, got ${describe(key)}${known.length > 0 ? `; known metrics: ${known.slice(0, 20).join(', ')}` : ''}`,
      );
      return;
    }
    const metric = context.metrics[key] as MetricDefinition;
    if (seen.has(key)) {
      issues.add(child(p, 'metric'), `metric ${JSON.stringify(key)} is already guardrails[${seen.get(key)}]`);
      return;
    }
    seen.set(key, i);
    let margin = metric.margin;
    if (
      Object.hasOwn(raw, 'margin') &&
      checkPositive(raw.margin, child(p, 'margin'), issues, 'a relative margin')
    )
      margin = raw.margin as number;
    const surfaceMargin = required.get(key);
    if (surfaceMargin !== undefined) {
      if (Object.hasOwn(raw, 'margin') && margin > surfaceMargin)
        issues.add(
          child(p, 'margin'),
          `the surface requires ${key} with a margin of at most ${surfaceMargin}; a rollout may only make it stricter, got ${margin}`,
        );
      if (!Object.hasOwn(raw, 'margin')) margin = surfaceMargin;
      if (raw.required === false)
        issues.add(
          child(p, 'required'),
          `${key} is required by the flag's surface and cannot be made optional`,
        );
    }
    if (Object.hasOwn(raw, 'required') && typeof raw.required !== 'boolean')
      issues.add(child(p, 'required'), `expected true or false, got ${describe(raw.required)}`);
    for (const field of ['kind', 'direction', 'category'] as const) {
      if (Object.hasOwn(raw, field) && raw[field] !== metric[field])
        issues.add(
          child(p, field),
          `is copied from metric ${key} (${JSON.stringify(metric[field])}); leave it out or match it, got ${describe(raw[field])}`,
        );
    }
    out.push({
      metric: key,
      margin,
      required: surfaceMargin !== undefined || raw.required === true,
      kind: metric.kind,
      direction: metric.direction,
      category: metric.category,
    });
  });
  for (const [key, margin] of required) {
    if (seen.has(key)) continue;
    const metric = context.metrics[key] as MetricDefinition;
    out.push({
      metric: key,
      margin,
      required: true,
      kind: metric.kind,
      direction: metric.direction,
      category: metric.category,
    });
  }
  if (out.length === 0 && issues.list.length === 0)
    issues.add('guardrails', 'expected at least one guardrail metric: a guarded rollout compares something');
  if (out.length > MAX_GUARDRAILS)
    issues.add('guardrails', `expected at most ${MAX_GUARDRAILS} guardrails, got ${out.length}`);
  return out;
}

/**
 * Validates a rollout plan against its flag, the defined metrics and the surface's required metrics. Rejects
 * unknown fields, never coerces, fills the defaults of statistics.md (24 h, 1,000 units and 30 events per
 * arm, srmAction `hold`, finalGate `non_inferiority`, mode `automatic`, the canary guard on a first stage at
 * ≤ 1%), merges in the surface's required metrics, and names every problem with its JSON path.
 */
export function validateRolloutPlan(
  input: unknown,
  context: RolloutPlanContext,
): ValidationResult<RolloutPlan> {
  const issues = new Issues();
  if (!expectObject(input, '', issues, 'a rollout plan object')) return issues.result(input as RolloutPlan);
  rejectUnknownFields(input, PLAN_FIELDS, '', issues);
  const flag = context.flag;
  if (requireField(input, 'id', '', issues))
    checkKeyString(input.id, 'id', issues, 'a rollout id', MAX_ROLLOUT_ID_LENGTH);
  if (requireField(input, 'flag', '', issues) && input.flag !== flag.key)
    issues.add(
      'flag',
      `expected the key of the flag being rolled out, ${JSON.stringify(flag.key)}, got ${describe(input.flag)}`,
    );
  if (requireField(input, 'environment', '', issues)) {
    if (typeof input.environment !== 'string' || !Object.hasOwn(flag.environments, input.environment))
      issues.add(
        'environment',
        `expected an environment of flag ${flag.key} (${Object.keys(flag.environments).join(', ')}), got ${describe(input.environment)}`,
      );
  }
  const variants = Object.keys(flag.variants);
  for (const arm of ['treatment', 'control'] as const) {
    if (!requireField(input, arm, '', issues)) continue;
    const v = input[arm];
    if (typeof v !== 'string' || !Object.hasOwn(flag.variants, v))
      issues.add(arm, `expected a variant of flag ${flag.key} (${variants.join(', ')}), got ${describe(v)}`);
  }
  if (typeof input.treatment === 'string' && input.treatment === input.control)
    issues.add('control', `expected a variant other than the treatment ${JSON.stringify(input.treatment)}`);

  let holdbackBuckets = 0;
  let holdback = 0;
  if (Object.hasOwn(input, 'holdback')) {
    const buckets = reachBuckets(input.holdback, 'holdback', issues, 'a holdback');
    if (buckets !== null) {
      if (buckets >= reachToBuckets(MAX_HOLDBACK))
        issues.add('holdback', `expected a holdback below ${MAX_HOLDBACK} percent, got ${input.holdback}`);
      else {
        holdbackBuckets = buckets;
        holdback = input.holdback as number;
      }
    }
  }
  const stages = requireField(input, 'stages', '', issues)
    ? validateStages(input.stages, holdbackBuckets, issues)
    : [];
  const guardrails = validateGuardrails(
    Object.hasOwn(input, 'guardrails') ? input.guardrails : [],
    context,
    issues,
  );

  const mode = Object.hasOwn(input, 'mode') ? input.mode : 'automatic';
  expectOneOf(mode, MODES, 'mode', issues);
  const srmAction = Object.hasOwn(input, 'srmAction') ? input.srmAction : 'hold';
  expectOneOf(srmAction, SRM_ACTIONS, 'srmAction', issues);
  const finalGate = Object.hasOwn(input, 'finalGate') ? input.finalGate : 'non_inferiority';
  expectOneOf(finalGate, FINAL_GATES, 'finalGate', issues);

  const firstReach = stages[0]?.reach ?? Number.NaN;
  const canaryEligible = firstReach <= CANARY_MAX_REACH;
  let canaryGuard: RolloutPlan['canaryGuard'] = canaryEligible
    ? { threshold: DEFAULT_CANARY_THRESHOLD }
    : false;
  if (Object.hasOwn(input, 'canaryGuard')) {
    const raw = input.canaryGuard;
    if (raw === false) canaryGuard = false;
    else if (raw === true || expectObject(raw, 'canaryGuard', issues, 'true, false or {threshold}')) {
      if (raw !== true) {
        rejectUnknownFields(raw, ['threshold'], 'canaryGuard', issues);
        if (
          requireField(raw, 'threshold', 'canaryGuard', issues) &&
          checkPositive(
            raw.threshold,
            'canaryGuard.threshold',
            issues,
            'a relative harm threshold such as 0.5 for 50%',
          )
        )
          canaryGuard = { threshold: raw.threshold as number };
      }
      if (!canaryEligible && Number.isFinite(firstReach))
        issues.add(
          'canaryGuard',
          `the canary guard needs a first stage at ${CANARY_MAX_REACH}% or less, got ${firstReach}%`,
        );
    }
  }
  if (context.activeRolloutOnFlagEnv)
    issues.add(
      'flag',
      `flag ${flag.key} already has an active rollout in ${String(input.environment)}; complete or delete it first`,
    );

  return issues.result({
    id: input.id as string,
    flag: input.flag as string,
    environment: input.environment as string,
    treatment: input.treatment as string,
    control: input.control as string,
    stages,
    holdback,
    guardrails,
    mode: mode as RolloutMode,
    canaryGuard,
    srmAction: srmAction as SrmAction,
    finalGate: finalGate as FinalGate,
  });
}

/** Index of the plan's final stage (100% or 100% minus the holdback). */
export function finalStageIndex(plan: RolloutPlan): number {
  return plan.stages.length - 1;
}

/**
 * Treatment buckets (of 1,000,000) served at stage `index`: the stage's reach, except the final stage, which
 * serves 100% minus the holdback.
 */
export function stageReachBuckets(plan: RolloutPlan, index: number): number {
  if (index >= finalStageIndex(plan)) return BUCKET_COUNT - reachToBuckets(plan.holdback);
  const stage = plan.stages[Math.max(0, index)];
  return stage === undefined ? 0 : reachToBuckets(stage.reach);
}

/** Treatment reach in percent served at stage `index` (the final stage serves 100 − holdback). */
export function stageReach(plan: RolloutPlan, index: number): number {
  return bucketsToReach(stageReachBuckets(plan, index));
}
