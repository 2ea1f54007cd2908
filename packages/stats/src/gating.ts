// The statistic a guardrail's sequential tests gate on, its information on the sample-size scale, and the
// minimum information before the rollback test may spend α.
//
// The displayed estimate (metrics.ts) is the natural-scale Wald comparison. Gating uses a statistic whose null
// distribution is close to normal where the Wald z is not:
// - proportions: Anscombe's arcsine difference a(x, n) = asin√((x + 3/8)/(n + 3/4)), Var = 1/(4(n + 1/2)) per
//   arm, so a rare event's variance does not depend on its own estimate (the Wald z with a smoothed variance
//   almost never crosses under H0 for a 0.1% rate, and a pooled score z over-rejects);
// - means and ratios: the studentised difference corrected for skewness with Hall's monotone transformation
//   of Johnson's t, from the third moments, so a small arm of a skewed metric does not spend α on a normal
//   approximation that does not hold yet.
// Information is N = Σ_c n_T,c·n_C,c/(n_T,c + n_C,c) (cohort-stratified effective units): it never falls,
// whatever the outcomes do; the variance estimate only standardises z.

import type { Direction } from './guardrail.ts';
import {
  type CohortStats,
  type CombinedEstimate,
  type MetricKind,
  MIN_UNITS_PER_ARM,
  type SufficientStats,
} from './metrics.ts';

/** Expected events at the control rate in the smaller arm before a proportion's rollback test spends α. */
export const MIN_EXPECTED_EVENTS = 10;
/** Units in the smaller arm before a mean or ratio's rollback test spends α (Cochran's floor). */
export const MIN_UNITS_FOR_MEANS = 100;
/** Cochran's rule: the smaller arm needs at least this many units per unit of squared per-unit skewness. */
export const COCHRAN_SKEWNESS_FACTOR = 25;
/** Anscombe's offsets: a = asin√((x + 3/8)/(n + 3/4)) has variance 1/(4(n + 1/2)) nearly independent of p. */
const ANSCOMBE_EVENTS = 3 / 8;
const ANSCOMBE_UNITS = 3 / 4;
const ANSCOMBE_VARIANCE_UNITS = 1 / 2;

/** How the gating statistic was formed. */
export type GatingMethod = 'arcsine' | 'skew-corrected' | 'wald';

/** Whether the metric has the minimum information for its rollback test to spend α, and on what basis. */
export interface MinimumInformation {
  met: boolean;
  /**
   * `expected_events`: n_small·p̂_C ≥ 10 (proportions); `cochran`: n_small ≥ max(100, 25·γ̂²) with γ̂ the
   * control arm's per-unit skewness; `skewness_unknown`: third moments were not supplied, so n_small ≥ 100;
   * `quantile_order_statistics`: a quantile metric's smaller arm has n·min(q, 1 − q) ≥ 10 observations beyond
   * the quantile (see quantile-compare.ts).
   */
  rule: 'expected_events' | 'cochran' | 'skewness_unknown' | 'quantile_order_statistics';
  /** The quantity compared (expected events, or units in the smaller arm) and the bound it must reach. */
  value: number;
  required: number;
}

/** The statistic both sequential tests use at one look. */
export interface GatingStatistic {
  method: GatingMethod;
  /** Deterioration z (positive = harm), on the gating scale. */
  zHarm: number;
  /** Non-inferiority z ((margin − harm)/SE on the gating scale); null without a margin. */
  zNonInferiority: number | null;
  /** N = Σ_c n_T,c·n_C,c/(n_T,c + n_C,c) over cohorts with at least 2 units per arm. */
  effectiveUnits: number;
  /** Skewness of the difference estimate (Σ w³κ₃ / SE³) used by the correction; null when not used. */
  skewness: number | null;
  /** Per-unit skewness γ̂ of the control arm (means and ratios; null when unknown or a proportion). */
  controlUnitSkewness: number | null;
  minimum: MinimumInformation;
}

/** N = Σ_c n_T,c·n_C,c/(n_T,c + n_C,c) over cohorts whose arms both have at least 2 units. */
export function effectiveUnits(cohorts: readonly CohortStats[]): number {
  let total = 0;
  for (const c of cohorts) {
    const nT = c.treatment.n;
    const nC = c.control.n;
    if (nT >= MIN_UNITS_PER_ARM && nC >= MIN_UNITS_PER_ARM) total += (nT * nC) / (nT + nC);
  }
  return total;
}

/** Anscombe's arcsine transform of x events in n units, asin√((x + 3/8)/(n + 3/4)), in radians. */
export function anscombeArcsine(events: number, units: number): number {
  const p = (events + ANSCOMBE_EVENTS) / (units + ANSCOMBE_UNITS);
  return Math.asin(Math.sqrt(Math.min(1, Math.max(0, p))));
}

/** Variance 1/(4(n + 1/2)) of Anscombe's arcsine transform for an arm of n units. */
export function anscombeVariance(units: number): number {
  return 1 / (4 * (units + ANSCOMBE_VARIANCE_UNITS));
}

/**
 * Hall's (1992) monotone transformation of a studentised statistic T whose estimate has skewness γ:
 * g(T) = T + aT² + a²T³/3 + b with a = γ/3, b = γ/6 (Johnson's 1978 correction plus the cubic term that makes
 * it monotone, g'(T) = (1 + aT)² ≥ 0). g(T) is N(0, 1) to second order when T is the t statistic.
 */
export function hallTransform(t: number, skewness: number): number {
  const a = skewness / 3;
  return t + a * t * t + (a * a * t * t * t) / 3 + skewness / 6;
}

/** Third central moment about the arm's own mean of the metric's per-unit (linearised) values, or null. */
function armThirdMoment(kind: MetricKind, s: SufficientStats): number | null {
  const { n, sumY, sumY2 } = s;
  if (s.sumY3 === undefined || !(n >= 3)) return null;
  if (kind === 'mean') {
    const m = sumY / n;
    return (s.sumY3 - 3 * m * sumY2 + 3 * m * m * sumY - n * m ** 3) / n;
  }
  if (s.sumD === undefined || s.sumY2D === undefined || s.sumYD2 === undefined || s.sumD3 === undefined)
    return null;
  // Linearised ratio: L = (y − R·d)/μ_d with R = Σy/Σd; Σ(y − Rd) = 0, so its third moment is
  // Σ(y − Rd)³/(n μ_d³) = (Σy³ − 3RΣy²d + 3R²Σyd² − R³Σd³)/(n μ_d³).
  if (!(s.sumD !== 0)) return null;
  const r = sumY / s.sumD;
  const md = s.sumD / n;
  const cubed = s.sumY3 - 3 * r * s.sumY2D + 3 * r * r * s.sumYD2 - r ** 3 * s.sumD3;
  return cubed / (n * md ** 3);
}

/** Per-unit variance of an arm from its estimate (Var(mean)·n). */
function unitVarianceOf(kind: MetricKind, s: SufficientStats): number {
  const { n, sumY, sumY2 } = s;
  if (kind === 'mean') return Math.max(0, (sumY2 - (sumY * sumY) / n) / (n - 1));
  const sumD = s.sumD ?? Number.NaN;
  const sumD2 = s.sumD2 ?? Number.NaN;
  const sumYD = s.sumYD ?? Number.NaN;
  const r = sumY / sumD;
  const md = sumD / n;
  // Σ(y − Rd)² = Σy² − 2RΣyd + R²Σd² (mean zero), over μ_d².
  return Math.max(0, (sumY2 - 2 * r * sumYD + r * r * sumD2) / (n - 1) / (md * md));
}

function sumArms(list: readonly SufficientStats[]): SufficientStats {
  const keys = ['sumY3', 'sumD', 'sumD2', 'sumYD', 'sumY2D', 'sumYD2', 'sumD3'] as const;
  const out: SufficientStats = { n: 0, sumY: 0, sumY2: 0 };
  for (const s of list) {
    out.n += s.n;
    out.sumY += s.sumY;
    out.sumY2 += s.sumY2;
  }
  for (const k of keys) {
    if (list.length > 0 && list.every((s) => s[k] !== undefined))
      out[k] = list.reduce((a, s) => a + (s[k] ?? 0), 0);
  }
  return out;
}

function smallerArm(cohorts: readonly CohortStats[]): number {
  let t = 0;
  let c = 0;
  for (const x of cohorts) {
    t += x.treatment.n;
    c += x.control.n;
  }
  return Math.min(t, c);
}

/**
 * The minimum-information rule of statistics.md: proportions need n_small·p̂_C ≥ 10 expected events, means and
 * ratios n_small ≥ max(100, 25·γ̂²) (γ̂ the control arm's per-unit skewness; 100 when third moments are absent).
 */
export function minimumInformation(
  kind: MetricKind,
  cohorts: readonly CohortStats[],
): { minimum: MinimumInformation; controlUnitSkewness: number | null } {
  const nSmall = smallerArm(cohorts);
  const control = sumArms(cohorts.map((c) => c.control));
  if (kind === 'proportion') {
    const rate = control.n > 0 ? control.sumY / control.n : 0;
    const value = nSmall * rate;
    return {
      minimum: {
        met: value >= MIN_EXPECTED_EVENTS,
        rule: 'expected_events',
        value,
        required: MIN_EXPECTED_EVENTS,
      },
      controlUnitSkewness: null,
    };
  }
  const m3 = control.n >= 3 ? armThirdMoment(kind, control) : null;
  const v = control.n >= 2 ? unitVarianceOf(kind, control) : Number.NaN;
  const gamma = m3 !== null && v > 0 ? m3 / v ** 1.5 : null;
  const required =
    gamma === null
      ? MIN_UNITS_FOR_MEANS
      : Math.max(MIN_UNITS_FOR_MEANS, COCHRAN_SKEWNESS_FACTOR * gamma * gamma);
  return {
    minimum: {
      met: nSmall >= required,
      rule: gamma === null ? 'skewness_unknown' : 'cochran',
      value: nSmall,
      required,
    },
    controlUnitSkewness: gamma,
  };
}

/** The margin in the harm direction mapped to the arcsine scale at control rate p: |a(p + hθ) − a(p)|. */
function arcsineMargin(rate: number, harm: number, theta: number): number {
  const moved = Math.min(1, Math.max(0, rate + harm * theta));
  return Math.abs(Math.asin(Math.sqrt(moved)) - Math.asin(Math.sqrt(Math.min(1, Math.max(0, rate)))));
}

/** Inputs of `gatingStatistic`: the metric, its cohorts, the displayed estimate, and the test's direction. */
export interface GatingInput {
  kind: MetricKind;
  cohorts: readonly CohortStats[];
  /** The natural-scale estimate of the same cohorts (its weights and SE standardise means and ratios). */
  estimate: CombinedEstimate;
  direction: Direction;
  /** Non-inferiority margin, absolute in metric units (θ > 0); omitted when there is no gate. */
  absoluteMargin?: number;
}

/**
 * The gating statistic of a quantile metric's look: the Wald z of the log-ratio comparison (already near-normal
 * for skewed latency, so no skew correction), with the comparison's own effective units and minimum rule.
 */
export function quantileGatingStatistic(input: {
  estimate: CombinedEstimate;
  direction: Direction;
  effectiveUnits: number;
  minimumMet: boolean;
  absoluteMargin?: number;
}): GatingStatistic {
  const { estimate } = input;
  const h = input.direction === 'higher_is_worse' ? 1 : -1;
  const theta = input.absoluteMargin;
  return {
    method: 'wald',
    zHarm: (h * estimate.delta) / estimate.se,
    zNonInferiority: theta === undefined ? null : (theta - h * estimate.delta) / estimate.se,
    effectiveUnits: input.effectiveUnits,
    skewness: null,
    controlUnitSkewness: null,
    minimum: {
      met: input.minimumMet,
      rule: 'quantile_order_statistics',
      value: input.effectiveUnits,
      required: Number.NaN,
    },
  };
}

/**
 * The gating statistic of one look: Anscombe's arcsine difference for proportions (inverse-variance over
 * cohorts, margins mapped per cohort at its control rate), Hall's skew-corrected studentised difference for
 * means and ratios when every used cohort has third moments (the plain Wald z otherwise), with the look's
 * effective units and the minimum-information check.
 */
export function gatingStatistic(input: GatingInput): GatingStatistic {
  const { kind, cohorts, estimate, direction } = input;
  const h = direction === 'higher_is_worse' ? 1 : -1;
  const N = effectiveUnits(cohorts);
  const { minimum, controlUnitSkewness } = minimumInformation(kind, cohorts);
  const theta = input.absoluteMargin;
  if (kind === 'proportion') {
    let sw = 0;
    let swd = 0;
    let swm = 0;
    for (const c of cohorts) {
      const { treatment: t, control: k } = c;
      if (!(t.n >= MIN_UNITS_PER_ARM && k.n >= MIN_UNITS_PER_ARM)) continue;
      const w = 1 / (anscombeVariance(t.n) + anscombeVariance(k.n));
      sw += w;
      swd += w * (anscombeArcsine(t.sumY, t.n) - anscombeArcsine(k.sumY, k.n));
      if (theta !== undefined)
        swm += w * arcsineMargin((k.sumY + ANSCOMBE_EVENTS) / (k.n + ANSCOMBE_UNITS), h, theta);
    }
    const root = Math.sqrt(sw);
    return {
      method: 'arcsine',
      zHarm: (h * swd) / root,
      zNonInferiority: theta === undefined ? null : (swm - h * swd) / root,
      effectiveUnits: N,
      skewness: null,
      controlUnitSkewness: null,
      minimum,
    };
  }
  const skewness = differenceSkewness(kind, cohorts, estimate);
  const se = estimate.se;
  const correct = (t: number) => (skewness === null ? t : hallTransform(t, skewness));
  // T is studentised treatment − control at the null value; Z = h·g(T) is large when harm is shown.
  const zHarm = h * correct(estimate.delta / se);
  const zNonInferiority = theta === undefined ? null : -h * correct((estimate.delta - h * theta) / se);
  return {
    method: skewness === null ? 'wald' : 'skew-corrected',
    zHarm,
    zNonInferiority,
    effectiveUnits: N,
    skewness,
    controlUnitSkewness,
    minimum,
  };
}

/**
 * Skewness of the combined difference: Σ_c s_c³ κ₃,c / SE³ with s_c the cohort's share of the combination and
 * κ₃,c = μ₃,c·(1/n_T² − 1/n_C²), the third cumulant of the cohort's Δ̂ (also the covariance of Δ̂ with its variance
 * estimate). μ₃,c is the cohort's third central moment pooled over its arms, as the cohort weights pool the
 * variance: under H0 the arms share it, and a small arm's own third moment of a heavy-tailed metric is noisy
 * and biased towards zero (its largest values are rarely seen), which would leave the tail uncorrected exactly
 * where it matters. Null when a used cohort lacks third moments.
 */
function differenceSkewness(
  kind: MetricKind,
  cohorts: readonly CohortStats[],
  estimate: CombinedEstimate,
): number | null {
  let k3 = 0;
  for (const [i, c] of cohorts.entries()) {
    const share = estimate.cohortShares[i] ?? 0;
    if (!(share > 0)) continue;
    const mT = armThirdMoment(kind, c.treatment);
    const mC = armThirdMoment(kind, c.control);
    if (mT === null || mC === null) return null;
    const nT = c.treatment.n;
    const nC = c.control.n;
    const pooled = (nT * mT + nC * mC) / (nT + nC);
    k3 += share ** 3 * pooled * (1 / nT ** 2 - 1 / nC ** 2);
  }
  const g = k3 / estimate.se ** 3;
  return Number.isFinite(g) ? g : null;
}
