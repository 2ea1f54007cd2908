// Metric estimates from per-arm sufficient statistics, the delta method for ratios and relative lift, and the
// inverse-variance combination of assignment cohorts (which keeps the comparison unbiased while the split moves).
//
// Small arms and rare events: an arm's own variance estimate is noisy when the arm is small and is exactly zero
// when a proportion arm has no (or only) events, or a mean arm has identical values. Plugged into the SE it gives
// a huge z; plugged into the cohort weights it lets that cohort dominate, and because a low event count means
// both a low arm estimate and a low variance, the domination is biased. Three rules keep both out:
// 1. proportions use the Agresti–Caffo smoothed rate p̃ = (x + 1)/(n + 2) for the variance (Δ̂ stays raw);
// 2. mean and ratio arms add VARIANCE_PRIOR_UNITS pseudo-units at the cohort's pooled variance to their own
//    (a moderated variance: no change for large arms, never zero for small ones);
// 3. cohort weights come from the cohort's pooled within-arm variance, not from the arms' separate ones, so a
//    small arm's noise cannot move its cohort's weight; the SE stays unpooled (Welch) through the sandwich
//    Var(Δ̂) = Σ w_c² Var_c / (Σ w_c)², which equals 1/Σ w_c when the arms' variances agree.

/** How a metric aggregates per-unit values. */
export type MetricKind = 'proportion' | 'mean' | 'ratio';

/**
 * Sufficient statistics of one arm (of one cohort): n units, Σy, Σy² and Σy³; ratio metrics also Σd, Σd², Σyd
 * and the third-order sums Σy²d, Σyd², Σd³, where y is the per-unit numerator and d the per-unit denominator.
 * The third-order sums are optional: without them the skew correction is off and the minimum information of a
 * mean or ratio metric falls back to 100 units in the smaller arm (skewness unknown).
 */
export interface SufficientStats {
  n: number;
  sumY: number;
  sumY2: number;
  sumY3?: number;
  sumD?: number;
  sumD2?: number;
  sumYD?: number;
  sumY2D?: number;
  sumYD2?: number;
  sumD3?: number;
}

/** Estimate of one arm: `mean` is the metric value, `variance` the variance of that estimate (SE²). */
export interface ArmEstimate {
  n: number;
  mean: number;
  variance: number;
}

/** An arm needs at least this many units to estimate a variance; a cohort with a smaller arm contributes nothing. */
export const MIN_UNITS_PER_ARM = 2;
/**
 * Pseudo-events added to each proportion arm for its variance (Agresti–Caffo: one event and one non-event, so
 * p̃ = (x + 1)/(n + 2) and Var = p̃(1 − p̃)/(n + 2)); never zero, negligible once the arm has a few events.
 */
export const PROPORTION_PSEUDO_EVENTS = 1;
/**
 * Pseudo-units at the cohort's pooled within-arm variance added to a mean or ratio arm's own variance: an arm of
 * n units uses ((n − 1)s² + ν·s²_pooled)/(n − 1 + ν). Unbiased when the arms share a variance, at least
 * ν/(n − 1 + ν) of the pooled variance when the arm's own is zero, and vanishing as n grows (Welch for large arms).
 */
export const VARIANCE_PRIOR_UNITS = 2;
/**
 * A cohort whose smaller arm has fewer units than this takes the per-unit variance of its weight from all usable
 * cohorts pooled, not from its own few units, so a tiny new cohort cannot dominate by a lucky low variance.
 */
export const MIN_UNITS_PER_ARM_FOR_WEIGHTING = 30;

function sampleVariance(n: number, sum: number, sumSq: number): number {
  return Math.max(0, (sumSq - (sum * sum) / n) / (n - 1));
}

function sampleCovariance(n: number, sumA: number, sumB: number, sumAB: number): number {
  return (sumAB - (sumA * sumB) / n) / (n - 1);
}

/** Var(Ȳ/D̄) ≈ (σ_y²/μ_d² − 2σ_yd μ_y/μ_d³ + σ_d² μ_y²/μ_d⁴)/n for a ratio of per-unit sums. */
export function ratioDeltaVariance(input: {
  meanNum: number;
  meanDen: number;
  varNum: number;
  varDen: number;
  covNumDen: number;
  n: number;
}): number {
  const { meanNum: my, meanDen: md, varNum, varDen, covNumDen, n } = input;
  return (varNum / md ** 2 - (2 * covNumDen * my) / md ** 3 + (varDen * my * my) / md ** 4) / n;
}

/**
 * The arm's metric estimate and its variance from sufficient statistics, or null with fewer than 2 units
 * (proportion: smoothed p̃(1−p̃)/(n+2), p̃ = (x+1)/(n+2); mean: sample variance over n; ratio: delta method).
 */
export function estimateArm(kind: MetricKind, stats: SufficientStats): ArmEstimate | null {
  const { n, sumY, sumY2 } = stats;
  if (!(n >= MIN_UNITS_PER_ARM)) return null;
  if (kind === 'proportion') {
    const smoothedN = n + 2 * PROPORTION_PSEUDO_EVENTS;
    const p = (sumY + PROPORTION_PSEUDO_EVENTS) / smoothedN;
    return { n, mean: sumY / n, variance: Math.max(0, p * (1 - p)) / smoothedN };
  }
  if (kind === 'mean') return { n, mean: sumY / n, variance: sampleVariance(n, sumY, sumY2) / n };
  const sumD = stats.sumD ?? Number.NaN;
  if (!(sumD !== 0)) return null;
  const variance = ratioDeltaVariance({
    meanNum: sumY / n,
    meanDen: sumD / n,
    varNum: sampleVariance(n, sumY, sumY2),
    varDen: sampleVariance(n, sumD, stats.sumD2 ?? Number.NaN),
    covNumDen: sampleCovariance(n, sumY, sumD, stats.sumYD ?? Number.NaN),
    n,
  });
  return { n, mean: sumY / sumD, variance: Math.max(0, variance) };
}

/** Relative lift μ_T/μ_C − 1 and its delta-method variance Var_T/μ_C² + μ_T²·Var_C/μ_C⁴ (variances of the means). */
export function relativeLift(input: {
  meanTreatment: number;
  meanControl: number;
  varianceTreatment: number;
  varianceControl: number;
}): { lift: number; variance: number; se: number } {
  const { meanTreatment: mt, meanControl: mc, varianceTreatment: vt, varianceControl: vc } = input;
  const lift = mt / mc - 1;
  const variance = vt / (mc * mc) + (mt * mt * vc) / mc ** 4;
  return { lift, variance, se: Math.sqrt(variance) };
}

/** One assignment cohort: the units whose current epoch began in one stage, per arm. */
export interface CohortStats {
  treatment: SufficientStats;
  control: SufficientStats;
}

/** Treatment-versus-control estimate of one cohort. */
export interface CohortEstimate {
  /** Arm estimates; a mean or ratio arm's variance is moderated towards the cohort's pooled variance. */
  treatment: ArmEstimate;
  control: ArmEstimate;
  /** Δ̂_c = treatment − control (raw means). */
  delta: number;
  /** Var(Δ̂_c) = Var_T + Var_C (unpooled, Welch-type). */
  variance: number;
  /** Per-unit variance pooled within arms, ((n_T − 1)u_T + (n_C − 1)u_C)/(n_T + n_C − 2); the weights use it. */
  pooledUnitVariance: number;
}

/**
 * The cohort's Δ̂_c with its unpooled variance and its pooled per-unit variance, or null when an arm has fewer
 * than 2 units (or a ratio arm has no denominator). Arm variances follow "Small arms and rare events" above.
 */
export function estimateCohort(kind: MetricKind, cohort: CohortStats): CohortEstimate | null {
  const t = estimateArm(kind, cohort.treatment);
  const c = estimateArm(kind, cohort.control);
  if (t === null || c === null) return null;
  const uT = t.variance * t.n;
  const uC = c.variance * c.n;
  const pooledUnitVariance = ((t.n - 1) * uT + (c.n - 1) * uC) / (t.n + c.n - 2);
  // Proportions are already smoothed; mean and ratio arms borrow VARIANCE_PRIOR_UNITS pseudo-units.
  const moderate = (arm: ArmEstimate, own: number): ArmEstimate =>
    kind === 'proportion'
      ? arm
      : {
          ...arm,
          variance:
            ((arm.n - 1) * own + VARIANCE_PRIOR_UNITS * pooledUnitVariance) /
            (arm.n - 1 + VARIANCE_PRIOR_UNITS) /
            arm.n,
        };
  const treatment = moderate(t, uT);
  const control = moderate(c, uC);
  return {
    treatment,
    control,
    delta: t.mean - c.mean,
    variance: treatment.variance + control.variance,
    pooledUnitVariance,
  };
}

/** Treatment-minus-control comparison pooled over cohorts. */
export interface CombinedEstimate {
  /** Δ̂ = Σ w_c Δ̂_c / Σ w_c (treatment − control, absolute scale). */
  delta: number;
  /** Var(Δ̂) = Σ w_c² Var_c / (Σ w_c)² with the unpooled Var_c (= 1/Σ w_c when the arms' variances agree). */
  variance: number;
  se: number;
  /** Information I = 1 / Var(Δ̂). */
  information: number;
  /** Control and treatment means with the same weights (treatment = control + Δ̂), and their variances. */
  meanControl: number;
  meanTreatment: number;
  varianceControl: number;
  varianceTreatment: number;
  nTreatment: number;
  nControl: number;
  cohortsUsed: number;
  /** Each input cohort's share w_c / Σ w of the combination (0 for a cohort that contributes nothing). */
  cohortShares: number[];
}

/**
 * Combines cohorts with weights w_c = 1/(s²_c·(1/n_T,c + 1/n_C,c)), s²_c the cohort's pooled within-arm
 * per-unit variance (all cohorts' pooled for a cohort with an arm under MIN_UNITS_PER_ARM_FOR_WEIGHTING units),
 * and the unpooled sandwich variance. A cohort with an arm under 2 units, or with no variance, contributes
 * nothing; null if no cohort is usable.
 */
export function combineCohorts(kind: MetricKind, cohorts: readonly CohortStats[]): CombinedEstimate | null {
  let nTreatment = 0;
  let nControl = 0;
  let pooledSum = 0;
  let pooledDf = 0;
  const estimates = cohorts.map((c) => {
    nTreatment += c.treatment.n;
    nControl += c.control.n;
    const e = estimateCohort(kind, c);
    if (e === null || !(e.pooledUnitVariance > 0) || !(e.variance > 0) || !Number.isFinite(e.variance))
      return null;
    const df = e.treatment.n + e.control.n - 2;
    pooledSum += df * e.pooledUnitVariance;
    pooledDf += df;
    return e;
  });
  if (pooledDf === 0) return null;
  const overallUnitVariance = pooledSum / pooledDf;
  const weights = estimates.map((e) => {
    if (e === null) return 0;
    const small = Math.min(e.treatment.n, e.control.n) < MIN_UNITS_PER_ARM_FOR_WEIGHTING;
    const unitVariance = small ? overallUnitVariance : e.pooledUnitVariance;
    return 1 / (unitVariance * (1 / e.treatment.n + 1 / e.control.n));
  });
  let sw = 0;
  let swDelta = 0;
  let swControl = 0;
  let sw2Var = 0;
  let sw2VarT = 0;
  let sw2VarC = 0;
  let used = 0;
  estimates.forEach((e, i) => {
    const w = weights[i] ?? 0;
    if (e === null || !(w > 0)) return;
    sw += w;
    swDelta += w * e.delta;
    swControl += w * e.control.mean;
    sw2Var += w * w * e.variance;
    sw2VarT += w * w * e.treatment.variance;
    sw2VarC += w * w * e.control.variance;
    used++;
  });
  if (used === 0) return null;
  const delta = swDelta / sw;
  const meanControl = swControl / sw;
  const variance = sw2Var / (sw * sw);
  return {
    delta,
    variance,
    se: Math.sqrt(variance),
    information: 1 / variance,
    meanControl,
    meanTreatment: meanControl + delta,
    varianceControl: sw2VarC / (sw * sw),
    varianceTreatment: sw2VarT / (sw * sw),
    nTreatment,
    nControl,
    cohortsUsed: used,
    cohortShares: weights.map((w) => (w > 0 ? w / sw : 0)),
  };
}
/** Planned information Σ_c 1/(σ_T²/n_T,c + σ_C²/n_C,c) of cohorts with the given per-unit variances. */
export function forecastInformation(
  cohorts: readonly { nTreatment: number; nControl: number }[],
  unitVariance: { treatment: number; control: number },
): number {
  let info = 0;
  for (const c of cohorts) {
    if (c.nTreatment < MIN_UNITS_PER_ARM || c.nControl < MIN_UNITS_PER_ARM) continue;
    info += 1 / (unitVariance.treatment / c.nTreatment + unitVariance.control / c.nControl);
  }
  return info;
}
