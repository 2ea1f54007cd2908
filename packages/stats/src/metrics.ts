// Metric estimates from per-arm sufficient statistics, the delta method for ratios and relative lift, and the
// inverse-variance combination of assignment cohorts (which keeps the comparison unbiased while the split moves).

/** How a metric aggregates per-unit values. */
export type MetricKind = 'proportion' | 'mean' | 'ratio';

/**
 * Sufficient statistics of one arm (of one cohort): n units, Σy, Σy²; ratio metrics also Σd, Σd², Σyd
 * where y is the per-unit numerator and d the per-unit denominator.
 */
export interface SufficientStats {
  n: number;
  sumY: number;
  sumY2: number;
  sumD?: number;
  sumD2?: number;
  sumYD?: number;
}

/** Estimate of one arm: `mean` is the metric value, `variance` the variance of that estimate (SE²). */
export interface ArmEstimate {
  n: number;
  mean: number;
  variance: number;
}

/** An arm needs at least this many units to estimate a variance. */
export const MIN_UNITS_PER_ARM = 2;

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
 * (proportion: p̂(1−p̂)·n/(n−1) per unit; mean: sample variance; ratio: delta method).
 */
export function estimateArm(kind: MetricKind, stats: SufficientStats): ArmEstimate | null {
  const { n, sumY, sumY2 } = stats;
  if (!(n >= MIN_UNITS_PER_ARM)) return null;
  if (kind === 'proportion') {
    const p = sumY / n;
    return { n, mean: p, variance: (p * (1 - p)) / (n - 1) };
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

/** Treatment-minus-control comparison pooled over cohorts. */
export interface CombinedEstimate {
  /** Δ̂ = Σ w_c Δ̂_c / Σ w_c (treatment − control, absolute scale). */
  delta: number;
  /** Var(Δ̂) = 1 / Σ w_c. */
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
}

/**
 * Combines cohorts with inverse-variance weights w_c = 1/(Var_T,c + Var_C,c) (unpooled, Welch-type). A cohort
 * with an arm under 2 units, or with zero estimated variance, contributes nothing; null if no cohort is usable.
 */
export function combineCohorts(kind: MetricKind, cohorts: readonly CohortStats[]): CombinedEstimate | null {
  let sw = 0;
  let swDelta = 0;
  let swControl = 0;
  let sw2VarT = 0;
  let sw2VarC = 0;
  let nTreatment = 0;
  let nControl = 0;
  let used = 0;
  for (const c of cohorts) {
    nTreatment += c.treatment.n;
    nControl += c.control.n;
    const t = estimateArm(kind, c.treatment);
    const k = estimateArm(kind, c.control);
    if (t === null || k === null) continue;
    const v = t.variance + k.variance;
    if (!(v > 0) || !Number.isFinite(v)) continue;
    const w = 1 / v;
    sw += w;
    swDelta += w * (t.mean - k.mean);
    swControl += w * k.mean;
    sw2VarT += w * w * t.variance;
    sw2VarC += w * w * k.variance;
    used++;
  }
  if (used === 0) return null;
  const delta = swDelta / sw;
  const meanControl = swControl / sw;
  return {
    delta,
    variance: 1 / sw,
    se: Math.sqrt(1 / sw),
    information: sw,
    meanControl,
    meanTreatment: meanControl + delta,
    varianceControl: sw2VarC / (sw * sw),
    varianceTreatment: sw2VarT / (sw * sw),
    nTreatment,
    nControl,
    cohortsUsed: used,
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
