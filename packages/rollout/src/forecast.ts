// Forecasts of a plan: how many units each stage gathers, how much information each guardrail will have, the
// smallest regression each stage can catch, and whether the non-inferiority gate can be reached. `decide` uses
// the same schedule to freeze I_max.

import { BUCKET_COUNT } from '@dimmer/core';
import {
  DEFAULT_BETA,
  DEFAULT_DETERIORATION_RHO,
  DEFAULT_ROLLBACK_ALPHA,
  forecastInformation,
  groupSequentialBoundaries,
  MIN_EXPECTED_EVENTS,
  MIN_UNITS_FOR_MEANS,
  type NonInferiorityPlan,
  normalQuantile,
  planNonInferiority,
} from '@dimmer/stats';
import { DAY_MS, formatDuration } from './duration.ts';
import { METRIC_CATEGORIES } from './metric.ts';
import { finalStageIndex, type RolloutPlan, stageReach, stageReachBuckets } from './plan.ts';

/** Power the stage MDEs are computed at. */
export const MDE_POWER = 0.8;
/** A stage whose relative MDE is above this (100%) cannot see anything but a disaster: warn. */
export const MAX_USEFUL_RELATIVE_MDE = 1;

/** Expected traffic: new units per day entering the comparison, and each metric's per-unit mean and variance. */
export interface TrafficForecast {
  unitsPerDay: number;
  baselines: Readonly<Record<string, { mean: number; variance: number }>>;
}

/** One planned look: when, in which stage, and the expected cohort sizes at that time. */
export interface PlannedLook {
  /** Time since the start, in milliseconds. */
  atMs: number;
  stageIndex: number;
  /** True for the look at the end of its stage. */
  stageEnd: boolean;
  cohorts: { nTreatment: number; nControl: number }[];
}

/** What sets a stage's expected length: its minimum duration, its minimum units, or a metric's event minimum. */
export type StageLengthSetBy =
  | { kind: 'min_duration' }
  | { kind: 'min_units' }
  | { kind: 'min_events'; metric: string };

/** Expected length of one stage: the longest of its minimum duration and the time its minimums take. */
export interface StageLength {
  durationMs: number;
  setBy: StageLengthSetBy;
}

/**
 * How long each stage is expected to run at `unitsPerDay` new units a day: its minimum duration, or longer when
 * the smaller arm of the comparison needs more time to reach the stage's minimum units or, for each
 * proportion guardrail with a baseline rate, its minimum expected events at that rate. Stages without traffic
 * last their minimum duration.
 */
export function stageLengths(
  plan: RolloutPlan,
  traffic: { unitsPerDay: number; baselines?: Readonly<Record<string, { mean: number }>> },
): StageLength[] {
  const done = { treatment: 0, control: 0 };
  const last = finalStageIndex(plan);
  return plan.stages.map((stage, k) => {
    const share = stageReachBuckets(plan, k) / BUCKET_COUNT;
    const perDay = { treatment: traffic.unitsPerDay * share, control: traffic.unitsPerDay * (1 - share) };
    /** Days until the smaller arm holds `units` (Infinity when it never does). */
    const daysFor = (units: number): number => {
      const need = Math.max(
        (units - done.treatment) / perDay.treatment,
        (units - done.control) / perDay.control,
        0,
      );
      return Number.isFinite(need) ? need : Number.POSITIVE_INFINITY;
    };
    let best: StageLength = { durationMs: stage.minDuration, setBy: { kind: 'min_duration' } };
    if (k < last && traffic.unitsPerDay > 0) {
      const consider = (ms: number, setBy: StageLengthSetBy) => {
        if (Number.isFinite(ms) && ms > best.durationMs) best = { durationMs: Math.ceil(ms), setBy };
      };
      consider(daysFor(stage.minUnitsPerArm) * DAY_MS, { kind: 'min_units' });
      for (const g of plan.guardrails) {
        const rate = traffic.baselines?.[g.metric]?.mean;
        if (g.kind !== 'proportion' || rate === undefined || !(rate > 0)) continue;
        consider(daysFor(stage.minEventsPerArm / rate) * DAY_MS, { kind: 'min_events', metric: g.metric });
      }
    }
    const days = best.durationMs / DAY_MS;
    done.treatment += perDay.treatment * days;
    done.control += perDay.control * days;
    return best;
  });
}

/** At most this many planned looks inside one stage, besides its end (one a day up to this many days). */
export const MAX_PLANNED_LOOKS_PER_STAGE = 10;

/**
 * The look schedule the forecasts assume: one look a day within each stage plus one at each stage's end,
 * stages lasting `durations` (default: their minimum duration); cohort k gets `unitsPerDay` new units a day
 * split at stage k's reach. A stage longer than MAX_PLANNED_LOOKS_PER_STAGE days is looked at evenly less often.
 */
export function plannedLooks(
  plan: RolloutPlan,
  unitsPerDay: number,
  durations?: readonly number[],
): PlannedLook[] {
  const looks: PlannedLook[] = [];
  const cohorts: { nTreatment: number; nControl: number }[] = [];
  let start = 0;
  plan.stages.forEach((stage, k) => {
    const share = stageReachBuckets(plan, k) / BUCKET_COUNT;
    const duration = durations?.[k] ?? stage.minDuration;
    const at = (elapsed: number) => {
      const n = (unitsPerDay * elapsed) / DAY_MS;
      return [...cohorts, { nTreatment: n * share, nControl: n * (1 - share) }];
    };
    // Daily looks, spaced wider in a long stage (low traffic stretches a stage to its unit minimums): the cost
    // of the boundaries grows with the number of looks, and a forecast needs their shape, not every day.
    const step = DAY_MS * Math.max(1, Math.ceil(duration / DAY_MS / MAX_PLANNED_LOOKS_PER_STAGE));
    for (let elapsed = step; elapsed < duration; elapsed += step)
      looks.push({ atMs: start + elapsed, stageIndex: k, stageEnd: false, cohorts: at(elapsed) });
    const end = at(duration);
    looks.push({ atMs: start + duration, stageIndex: k, stageEnd: true, cohorts: end });
    cohorts.push(end[end.length - 1] as { nTreatment: number; nControl: number });
    start += duration;
  });
  return looks;
}

/** Expected information of a look for a per-unit variance σ² in both arms (1/Var of the combined Δ̂). */
export function lookInformation(look: PlannedLook, unitVariance: number): number {
  return forecastInformation(look.cohorts, { treatment: unitVariance, control: unitVariance });
}

/** Effective units N = Σ_c n_T,c·n_C,c/(n_T,c + n_C,c) of a look: the sample-size information scale. */
export function lookEffectiveUnits(look: PlannedLook): number {
  return forecastInformation(look.cohorts, { treatment: 1, control: 1 });
}

/**
 * The looks the sequential tests plan for: those up to the end of the last gated stage (the one before the
 * final step). Information past it (the holdback stage, or a stage that runs long) is an overrun.
 */
export function gatedLooks(
  plan: RolloutPlan,
  unitsPerDay: number,
  durations?: readonly number[],
): PlannedLook[] {
  const lastGated = finalStageIndex(plan) - 1;
  return plannedLooks(plan, unitsPerDay, durations).filter((l) => l.stageIndex <= lastGated);
}

/**
 * N_max: forecast effective units Σ_c n_T,c·n_C,c/(n_T,c + n_C,c) at the end of the last gated stage for
 * `unitsPerDay` new units a day, stages lasting `durations` (default: their minimum duration). Frozen at the
 * first look, re-estimated at most once. It does not depend on the metric's variance, so it cannot move when a
 * regression raises the variance.
 */
export function plannedMaxInformation(
  plan: RolloutPlan,
  unitsPerDay: number,
  durations?: readonly number[],
): number {
  const looks = gatedLooks(plan, unitsPerDay, durations);
  const last = looks[looks.length - 1];
  return last === undefined ? 0 : lookEffectiveUnits(last);
}

/** Forecast of one stage. */
export interface StageForecast {
  index: number;
  /** Treatment reach in percent (the final stage: 100 − holdback). */
  reach: number;
  /** The stage's minimum duration, in milliseconds. */
  durationMs: number;
  /** Expected length: the minimum duration, or longer when the stage's minimums take longer to reach. */
  expectedDurationMs: number;
  /** What sets that length (`min_events` names the metric whose event minimum takes longest). */
  lengthSetBy: StageLengthSetBy;
  /** Expected units in each arm of the comparison at the end of the stage (cumulative). */
  expectedUnitsPerArm: { treatment: number; control: number };
  /**
   * Regression the rollback test catches with 80% probability at the stage's last look (absolute, and
   * relative to the baseline mean); null for the final stage (monitored by a confidence sequence) or without a
   * baseline.
   */
  mdePerMetric: Record<string, { absolute: number; relative: number | null } | null>;
}

/** Forecast of a whole plan. */
export interface PlanForecast {
  stages: StageForecast[];
  /** N_max per metric: effective units at the end of the last gated stage (the sample-size information scale). */
  maxInformation: Record<string, number>;
  /** Power of each guardrail's non-inferiority gate when the true effect is zero, at its margin. */
  powerPerMetric: Record<string, number>;
  nonInferiority: Record<string, NonInferiorityPlan>;
  /** Probability that every guardrail passes the final gate with no true harm (powers multiplied). */
  allGuardrailsPass: number;
  warnings: string[];
}

function percent(x: number): string {
  return `${Number((x * 100).toPrecision(3))}%`;
}

function round(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/**
 * Forecasts a plan for the given traffic: per stage the expected units per arm and the regression the
 * rollback test can catch, per guardrail the power of the non-inferiority gate at its margin (target 1 − β/G),
 * and warnings for margins out of reach, guardrail categories left out and stages too short to see anything.
 */
export function forecastPlan(plan: RolloutPlan, traffic: TrafficForecast): PlanForecast {
  const warnings: string[] = [];
  const G = plan.guardrails.length;
  const rollbackAlpha = DEFAULT_ROLLBACK_ALPHA / Math.max(1, G);
  const lengths = stageLengths(plan, traffic);
  const durations = lengths.map((l) => l.durationMs);
  const looks = plannedLooks(plan, traffic.unitsPerDay, durations);
  const lastGated = finalStageIndex(plan) - 1;
  const gated = looks.filter((l) => l.stageIndex <= lastGated);
  const zPower = normalQuantile(MDE_POWER);
  const maxInformation: Record<string, number> = {};
  const powerPerMetric: Record<string, number> = {};
  const nonInferiority: Record<string, NonInferiorityPlan> = {};
  /** Per metric, the information and rollback boundary at each gated look (null: nothing measurable). */
  const byLook: Record<string, ({ info: number; boundary: number } | null)[]> = {};
  let allPass = 1;

  if (!(traffic.unitsPerDay > 0))
    warnings.push(`expected traffic is ${traffic.unitsPerDay} units a day: nothing can be measured`);

  for (const g of plan.guardrails) {
    const base = traffic.baselines[g.metric];
    if (base === undefined || !(base.variance > 0) || !Number.isFinite(base.mean)) {
      warnings.push(`${g.metric}: no baseline mean and variance, so its power cannot be forecast`);
      continue;
    }
    if (!(traffic.unitsPerDay > 0)) continue;
    const info = gated.map((l) => lookInformation(l, base.variance));
    const units = gated.map(lookEffectiveUnits);
    const nMax = units[units.length - 1] ?? 0;
    const iMax = info[info.length - 1] ?? 0;
    maxInformation[g.metric] = nMax;
    if (!(nMax > 0 && iMax > 0)) continue;
    // The rollback test spends from the first look with its minimum information (the skewness of a mean is
    // not known in advance, so its floor of 100 units is assumed).
    const qualifies = gated.map((l) => {
      const small = Math.min(
        l.cohorts.reduce((a, c) => a + c.nTreatment, 0),
        l.cohorts.reduce((a, c) => a + c.nControl, 0),
      );
      return g.kind === 'proportion'
        ? small * base.mean >= MIN_EXPECTED_EVENTS
        : small >= MIN_UNITS_FOR_MEANS;
    });
    const spending = gated.map((_, k) => (units[k] as number) > 0 && (qualifies[k] as boolean));
    const fractions = units.filter((_, k) => spending[k]).map((n) => n / nMax);
    const boundary = groupSequentialBoundaries({
      alpha: rollbackAlpha,
      spending: { kind: 'power', rho: DEFAULT_DETERIORATION_RHO },
      informationFractions: fractions,
    });
    let j = 0;
    byLook[g.metric] = info.map((i, k) =>
      spending[k] ? { info: i, boundary: boundary[j++] as number } : null,
    );
    const margin = g.margin * Math.abs(base.mean);
    const ni = planNonInferiority({
      margin,
      guardrails: G,
      plannedInformation: iMax,
      informationFractions: units.filter((n) => n > 0).map((n) => n / nMax),
    });
    nonInferiority[g.metric] = ni;
    powerPerMetric[g.metric] = ni.reachablePower;
    allPass *= ni.reachablePower;
    if (ni.reachablePower < ni.targetPower)
      warnings.push(
        `${g.metric}: the plan reaches ${percent(ni.reachablePower)} power to show non-inferiority at its ${percent(g.margin)} margin (target ${percent(ni.targetPower)}); it needs about ${Number((ni.requiredInformation / iMax).toPrecision(2))}× the planned information — lengthen the stages or widen the margin`,
      );
  }

  const stages: StageForecast[] = plan.stages.map((stage, k) => {
    const length = lengths[k] as StageLength;
    const end = looks.find((l) => l.stageIndex === k && l.stageEnd) as PlannedLook;
    const treatment = end.cohorts.reduce((a, c) => a + c.nTreatment, 0);
    const control = end.cohorts.reduce((a, c) => a + c.nControl, 0);
    const mdePerMetric: StageForecast['mdePerMetric'] = {};
    const lookIndex = gated.indexOf(end);
    for (const g of plan.guardrails) {
      const at = lookIndex < 0 ? null : byLook[g.metric]?.[lookIndex];
      const base = traffic.baselines[g.metric];
      if (at === undefined || at === null || base === undefined) {
        mdePerMetric[g.metric] = null;
        continue;
      }
      const absolute = (at.boundary + zPower) / Math.sqrt(at.info);
      const relative = base.mean !== 0 ? absolute / Math.abs(base.mean) : null;
      mdePerMetric[g.metric] = Number.isFinite(absolute) ? { absolute, relative } : null;
      if (relative !== null && relative > MAX_USEFUL_RELATIVE_MDE)
        warnings.push(
          `stage ${k + 1} (${stageReach(plan, k)}%): in ${formatDuration(stage.minDuration)} the rollback test can only catch ${g.metric} regressions above ${percent(relative)}`,
        );
    }
    if (k <= lastGated && traffic.unitsPerDay > 0 && length.durationMs > stage.minDuration) {
      const why =
        length.setBy.kind === 'min_events'
          ? `${length.setBy.metric} needs that long to reach ${stage.minEventsPerArm} expected events in the smaller arm`
          : `the smaller arm needs that long to reach ${round(stage.minUnitsPerArm)} units`;
      warnings.push(
        `stage ${k + 1} (${stageReach(plan, k)}%): expected to last ${formatDuration(length.durationMs)}, longer than its minimum of ${formatDuration(stage.minDuration)}: ${why}; later stages start later`,
      );
    }
    return {
      index: k,
      reach: stageReach(plan, k),
      durationMs: stage.minDuration,
      expectedDurationMs: length.durationMs,
      lengthSetBy: length.setBy,
      expectedUnitsPerArm: { treatment, control },
      mdePerMetric,
    };
  });

  for (const category of METRIC_CATEGORIES) {
    if (!plan.guardrails.some((g) => g.category === category))
      warnings.push(`no ${category} guardrail: a regression in ${category} would go unnoticed`);
  }
  const planned = Object.keys(powerPerMetric).length;
  if (planned > 1 && allPass < 1 - DEFAULT_BETA)
    warnings.push(
      `with no true harm, every guardrail passes the final gate with probability ${percent(allPass)} (target ${percent(1 - DEFAULT_BETA)})`,
    );
  return { stages, maxInformation, powerPerMetric, nonInferiority, allGuardrailsPass: allPass, warnings };
}
