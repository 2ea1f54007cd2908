// Treatment-versus-control comparison of a quantile metric (p50/p95/p99) across assignment cohorts, and its
// mapping onto the estimate the guardrail tests take.
//
// Scale: the comparison is the log ratio Δ = ln(Q_T/Q_C). Margins of quantile metrics are relative ("p99 may not
// rise by more than 5%"), a ratio is what a person reads, the log ratio's bootstrap distribution is close to normal
// for right-skewed latency (the value's is not), its variance is the sum of the arms' without a plug-in of the
// control quantile, and it is invariant to the metric's unit, so cohorts whose baselines drift (a slower
// afternoon) combine on one scale. Per cohort: Δ̂_c = ln Q̂_T,c − ln Q̂_C,c with Var_c = Var_T + Var_C, each arm's
// variance moderated towards the cohort's pooled per-unit variance with VARIANCE_PRIOR_UNITS pseudo-units;
// cohorts combine with weights from the pooled per-unit variance and the unpooled sandwich variance, exactly the
// rules of metrics.ts for means.

import type { QuantileSketch } from './histogram.ts';
import type { CombinedEstimate } from './metrics.ts';
import { MIN_UNITS_PER_ARM_FOR_WEIGHTING, VARIANCE_PRIOR_UNITS } from './metrics.ts';
import { bootstrapQuantile, rankedFromSketch } from './quantile-bootstrap.ts';
import { type EventQuantileStats, estimateEventQuantile } from './quantile-event.ts';

/** Whose values the quantile is taken over: one value per unit, or every event of every unit. */
export type QuantileScope = 'unit' | 'event';

/** Values beyond the quantile (n·min(q, 1 − q)) the smaller arm needs before a quantile's rollback test spends α. */
export const QUANTILE_MIN_TAIL_COUNT = 10;
/** Units with events the smaller arm needs in event scope before the clustered variance is used to spend α. */
export const QUANTILE_MIN_EVENT_UNITS = 100;

/** Per-cohort sufficient statistics of a quantile metric. */
export type QuantileMetricInput =
  | {
      scope: 'unit';
      quantile: number;
      cohorts: readonly { treatment: QuantileSketch; control: QuantileSketch }[];
    }
  | {
      scope: 'event';
      quantile: number;
      cohorts: readonly { treatment: EventQuantileStats; control: EventQuantileStats }[];
    };

/** One arm's quantile in one cohort. */
export interface QuantileArm {
  /** Units (unit scope: values; event scope: units with at least one event) and values the quantile is over. */
  units: number;
  values: number;
  quantile: number;
  logQuantile: number;
  /** Variance of ln Q̂ (moderated towards the cohort's pooled per-unit variance). */
  variance: number;
}

/** One cohort's log ratio. */
export interface QuantileCohortEstimate {
  treatment: QuantileArm;
  control: QuantileArm;
  /** ln(Q̂_T/Q̂_C) and Var_T + Var_C. */
  logRatio: number;
  variance: number;
  /** Per-unit variance of ln Q̂ pooled within arms; the cohort's weight uses it. */
  pooledUnitVariance: number;
}

/** A quantile metric's comparison pooled over cohorts. */
export interface QuantileComparison {
  scope: QuantileScope;
  quantile: number;
  /** Δ̂ = ln(Q_T/Q_C) combined over cohorts, its sandwich variance and SE. */
  logRatio: number;
  variance: number;
  se: number;
  /** Relative difference Q_T/Q_C − 1 = e^Δ̂ − 1 and its delta-method SE e^Δ̂·SE. */
  relativeDifference: number;
  relativeDifferenceSe: number;
  /** Cohort-weighted geometric means of the arms' quantiles (metric units). */
  quantileControl: number;
  quantileTreatment: number;
  /** Variances of the combined arms' log quantiles (their sum is `variance`). */
  varianceControl: number;
  varianceTreatment: number;
  nTreatment: number;
  nControl: number;
  valuesTreatment: number;
  valuesControl: number;
  /** Information on the sample-size scale: N = Σ_c n_T,c·n_C,c/(n_T,c + n_C,c) over cohorts (units). */
  effectiveUnits: number;
  /** Per-unit variance of Δ̂ at this look, variance·N: the planning variance for I_max = N_max/unitVariance. */
  unitVariance: number;
  /** Whether the smaller arm has the tail (and, in event scope, the units) the normal approximation needs. */
  minimumInformationMet: boolean;
  cohortsUsed: number;
  cohortShares: number[];
  cohorts: (QuantileCohortEstimate | null)[];
}

function unitArm(sketch: QuantileSketch, q: number): QuantileArm | null {
  const b = bootstrapQuantile(rankedFromSketch(sketch), q);
  if (b === null) return null;
  return { units: b.n, values: b.n, quantile: b.quantile, logQuantile: b.logQuantile, variance: b.variance };
}

function eventArm(stats: EventQuantileStats, q: number): QuantileArm | null {
  const e = estimateEventQuantile(stats, q);
  if (e === null) return null;
  return {
    units: e.units,
    values: e.events,
    quantile: e.quantile,
    logQuantile: e.logQuantile,
    variance: e.variance,
  };
}

/** Moderates an arm's variance with VARIANCE_PRIOR_UNITS pseudo-units at the cohort's pooled per-unit variance. */
function moderate(arm: QuantileArm, pooled: number): QuantileArm {
  const own = arm.variance * arm.units;
  const unitVariance =
    ((arm.units - 1) * own + VARIANCE_PRIOR_UNITS * pooled) / (arm.units - 1 + VARIANCE_PRIOR_UNITS);
  return { ...arm, variance: unitVariance / arm.units };
}

/** One cohort's log ratio from its arms, or null when an arm has no estimate (see the arm functions). */
export function estimateQuantileCohort(
  t: QuantileArm | null,
  c: QuantileArm | null,
): QuantileCohortEstimate | null {
  if (t === null || c === null || t.units < 2 || c.units < 2) return null;
  const pooled =
    ((t.units - 1) * t.variance * t.units + (c.units - 1) * c.variance * c.units) / (t.units + c.units - 2);
  const treatment = moderate(t, pooled);
  const control = moderate(c, pooled);
  return {
    treatment,
    control,
    logRatio: t.logQuantile - c.logQuantile,
    variance: treatment.variance + control.variance,
    pooledUnitVariance: pooled,
  };
}

/** Units (unit scope: values; event scope: units with an event) and values of one arm's statistics. */
function armSize(s: QuantileSketch | EventQuantileStats): { units: number; values: number } {
  return 'events' in s ? { units: s.units, values: s.sumN } : { units: s.count, values: s.count };
}

function armTotals(
  input: QuantileMetricInput,
  arm: 'treatment' | 'control',
): { units: number; values: number } {
  let units = 0;
  let values = 0;
  for (const c of input.cohorts) {
    const size = armSize(c[arm]);
    units += size.units;
    values += size.values;
  }
  return { units, values };
}

/**
 * Compares a quantile metric's arms: per cohort the q-quantile of each arm (unit scope: resampling-free bootstrap
 * over the sketch; event scope: clustered delta method), their log ratio and variance, combined over cohorts.
 * Null when no cohort is usable (every cohort has an arm under 2 units, no variance, or a quantile ≤ 0).
 */
export function compareQuantiles(input: QuantileMetricInput): QuantileComparison | null {
  const q = input.quantile;
  if (!(q > 0 && q < 1)) throw new RangeError(`quantile must be in (0, 1), got ${q}`);
  const cohorts: (QuantileCohortEstimate | null)[] = [];
  let effectiveUnits = 0;
  for (const cohort of input.cohorts) {
    const e =
      input.scope === 'unit'
        ? estimateQuantileCohort(
            unitArm(cohort.treatment as QuantileSketch, q),
            unitArm(cohort.control as QuantileSketch, q),
          )
        : estimateQuantileCohort(
            eventArm(cohort.treatment as EventQuantileStats, q),
            eventArm(cohort.control as EventQuantileStats, q),
          );
    const usable = e !== null && e.pooledUnitVariance > 0 && e.variance > 0 && Number.isFinite(e.variance);
    cohorts.push(usable ? e : null);
  }
  for (const cohort of input.cohorts) {
    const t = armSize(cohort.treatment).units;
    const c = armSize(cohort.control).units;
    if (t > 0 && c > 0) effectiveUnits += (t * c) / (t + c);
  }
  let pooledSum = 0;
  let pooledDf = 0;
  for (const e of cohorts) {
    if (e === null) continue;
    const df = e.treatment.units + e.control.units - 2;
    pooledSum += df * e.pooledUnitVariance;
    pooledDf += df;
  }
  if (pooledDf === 0) return null;
  const overall = pooledSum / pooledDf;
  const weights = cohorts.map((e) => {
    if (e === null) return 0;
    const small = Math.min(e.treatment.units, e.control.units) < MIN_UNITS_PER_ARM_FOR_WEIGHTING;
    return 1 / ((small ? overall : e.pooledUnitVariance) * (1 / e.treatment.units + 1 / e.control.units));
  });
  let sw = 0;
  let swDelta = 0;
  let swControl = 0;
  let sw2Var = 0;
  let sw2VarT = 0;
  let sw2VarC = 0;
  let used = 0;
  cohorts.forEach((e, i) => {
    const w = weights[i] ?? 0;
    if (e === null || !(w > 0)) return;
    sw += w;
    swDelta += w * e.logRatio;
    swControl += w * e.control.logQuantile;
    sw2Var += w * w * e.variance;
    sw2VarT += w * w * e.treatment.variance;
    sw2VarC += w * w * e.control.variance;
    used++;
  });
  if (used === 0) return null;
  const logRatio = swDelta / sw;
  const variance = sw2Var / (sw * sw);
  const se = Math.sqrt(variance);
  const ratio = Math.exp(logRatio);
  const logControl = swControl / sw;
  const totalsT = armTotals(input, 'treatment');
  const totalsC = armTotals(input, 'control');
  const tail = Math.min(q, 1 - q);
  const smallerValues = Math.min(totalsT.values, totalsC.values);
  const minimumInformationMet =
    smallerValues * tail >= QUANTILE_MIN_TAIL_COUNT &&
    (input.scope === 'unit' || Math.min(totalsT.units, totalsC.units) >= QUANTILE_MIN_EVENT_UNITS);
  return {
    scope: input.scope,
    quantile: q,
    logRatio,
    variance,
    se,
    relativeDifference: ratio - 1,
    relativeDifferenceSe: ratio * se,
    quantileControl: Math.exp(logControl),
    quantileTreatment: Math.exp(logControl + logRatio),
    varianceControl: sw2VarC / (sw * sw),
    varianceTreatment: sw2VarT / (sw * sw),
    nTreatment: totalsT.units,
    nControl: totalsC.units,
    valuesTreatment: totalsT.values,
    valuesControl: totalsC.values,
    effectiveUnits,
    unitVariance: variance * effectiveUnits,
    minimumInformationMet,
    cohortsUsed: used,
    cohortShares: weights.map((w) => (w > 0 ? w / sw : 0)),
    cohorts,
  };
}

/**
 * The comparison as the estimate the guardrail tests take (assessGuardrail, canaryGuard), on the relative scale
 * normalised to control: meanControl = 1, meanTreatment = Q_T/Q_C, delta = Q_T/Q_C − 1 with SE e^Δ̂·SE(Δ̂). A
 * relative margin m then is the absolute margin m·1 on this scale, and the relative lift is the relative difference
 * with the same SE. Information is 1/variance on this scale; the sample-size scale is `effectiveUnits`.
 */
export function quantileGuardrailEstimate(c: QuantileComparison): CombinedEstimate {
  const ratio = Math.exp(c.logRatio);
  const variance = c.relativeDifferenceSe ** 2;
  return {
    delta: c.relativeDifference,
    variance,
    se: c.relativeDifferenceSe,
    information: 1 / variance,
    meanControl: 1,
    meanTreatment: ratio,
    varianceControl: c.varianceControl,
    varianceTreatment: ratio * ratio * c.varianceTreatment,
    nTreatment: c.nTreatment,
    nControl: c.nControl,
    cohortsUsed: c.cohortsUsed,
    cohortShares: c.cohortShares,
  };
}
