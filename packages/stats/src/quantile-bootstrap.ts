// The bootstrap distribution of a sample quantile without resampling (after Schultzberg & Ankargren 2022).
//
// Resampling n values and taking the order statistic of rank k gives x*_(k) ≤ x_(j) exactly when at least k of the
// n draws are ≤ x_(j); their number is Binomial(n, j/n), so P(J ≤ j) = P(Binomial(n, j/n) ≥ k) = I_{j/n}(k, n−k+1),
// the distribution function of the k-th of n uniform order statistics, Beta(k, n + 1 − k). The Poisson bootstrap
// (each value drawn Poisson(1) times) has a random total N*, and its quantile's rank ⌈q·N*⌉ averages to
// q·(n + ½) over N*; with that (fractional) rank the same formula,
//   P(J ≤ j) = I_{j/n}(k*, n + 1 − k*),  k* = q·(n + ½),
// matches the Poisson bootstrap's exact law (a double sum over N*) to 0.002 in distribution function for n ≥ 1,000
// (0.016 for p99 of 200 values, where only two values lie beyond the quantile). So the bootstrap quantile's whole
// distribution, its standard error and its percentile interval follow from Beta/Binomial tails over the order
// statistics, with no resample drawn; over a histogram only the counts below each rank matter, so it runs on a
// sketch. spec/quantile-vectors.json checks it against an independent quadrature of the same formula and against
// a 100,000-replicate Poisson bootstrap.
//
// Everything is on the log scale: quantile metrics are compared by their ratio (see quantile-compare.ts), and the
// log of a right-skewed latency has a far more symmetric bootstrap distribution than the value itself.

import { type QuantileSketch, quantileRank, SKETCH_LOG_GAMMA } from './histogram.ts';
import { logBeta, regularizedBeta } from './special.ts';

/**
 * Log values by rank of n ordered values: `atPosition(r)` for a continuous rank position 0 < r ≤ n (the value
 * of rank k is atPosition(k − ½)); NaN where the value is not positive.
 */
export interface RankedLogValues {
  n: number;
  atPosition(r: number): number;
}

/** Rank positions of n sorted positive values: the value of rank ⌈r⌉ (exact order statistics, no interpolation). */
export function rankedFromSorted(sorted: readonly number[]): RankedLogValues {
  const logs = sorted.map((x) => (x > 0 ? Math.log(x) : Number.NaN));
  return {
    n: sorted.length,
    atPosition: (r) => logs[Math.min(sorted.length, Math.max(1, Math.ceil(r))) - 1] ?? Number.NaN,
  };
}

/**
 * Rank positions of a sketch's values, interpolated log-linearly inside each bucket: position r in a bucket
 * (γ^(i−1), γ^i] holding ranks (before, before + c] maps to ln γ·(i − 1 + (r − before)/c). Smooth in r, so the
 * bootstrap distribution does not collapse onto one bucket when the standard error is below the bucket width
 * (ln γ = 1.98%); each value lies in the bucket of the exact order statistic of the same rank, so within
 * γ − 1 = 2% of it. Positions among zeros or negative values give NaN.
 */
export function rankedFromSketch(sketch: QuantileSketch): RankedLogValues {
  const nonPositive = sketch.count - sketch.positive.counts.reduce((a, b) => a + b, 0);
  const before: number[] = [];
  const counts: number[] = [];
  const index: number[] = [];
  let seen = nonPositive;
  sketch.positive.counts.forEach((c, j) => {
    if (c <= 0) return;
    before.push(seen);
    counts.push(c);
    index.push(sketch.positive.offset + j);
    seen += c;
  });
  return {
    n: sketch.count,
    atPosition(r) {
      if (!(r > nonPositive) || counts.length === 0) return Number.NaN;
      let lo = 0;
      let hi = counts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((before[mid] as number) < r) lo = mid;
        else hi = mid - 1;
      }
      const c = counts[lo] as number;
      const frac = Math.min(1, (r - (before[lo] as number)) / c);
      return SKETCH_LOG_GAMMA * ((index[lo] as number) - 1 + frac);
    },
  };
}

/** A discrete distribution on the log scale: ascending support and probabilities summing to 1. */
export interface LogDistribution {
  values: number[];
  probabilities: number[];
}

/** The Poisson bootstrap's mean quantile rank q·(n + ½) (fractional), the k* of the order-statistic formula. */
export function bootstrapRank(q: number, n: number): number {
  return q * (n + 0.5);
}

/** Gauss–Legendre nodes on [−1, 1] and weights (8 points: exact for polynomials of degree 15). */
const GAUSS_NODES = [
  -0.9602898564975363, -0.7966664774136267, -0.525532409916329, -0.1834346424956498, 0.1834346424956498,
  0.525532409916329, 0.7966664774136267, 0.9602898564975363,
];
const GAUSS_WEIGHTS = [
  0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.362683783378362, 0.362683783378362,
  0.3137066458778873, 0.2223810344533745, 0.1012285362903763,
];
/** Windows up to this many ranks evaluate the incomplete beta function at every rank. */
const DIRECT_WINDOW = 64;

/**
 * P(J ≤ j) = I_{j/n}(k*, n + 1 − k*) for j = lo … hi − 1. Small windows evaluate the incomplete beta function at each
 * rank; larger ones (where one rank is at most a standard deviation of J wide) evaluate it once, at lo, and add
 * the Beta density integrated over each rank by Gauss–Legendre, which is exact to rounding for such a smooth
 * density and about fifty times faster.
 */
function betaCdfOnRanks(k: number, n: number, lo: number, hi: number): number[] {
  const a = k;
  const b = n + 1 - k;
  const at = (j: number) => (j >= n ? 1 : j <= 0 ? 0 : regularizedBeta(j / n, a, b, (n - j) / n));
  const out: number[] = [];
  if (hi - lo <= DIRECT_WINDOW) {
    for (let j = lo; j < hi; j++) out.push(at(j));
    return out;
  }
  const logNorm = logBeta(a, b);
  const density = (x: number) => Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logNorm);
  let c = at(lo);
  out.push(c);
  const half = 1 / (2 * n);
  for (let j = lo + 1; j < hi; j++) {
    const mid = (j - 0.5) / n;
    let s = 0;
    for (let g = 0; g < GAUSS_NODES.length; g++)
      s += (GAUSS_WEIGHTS[g] as number) * density(mid + half * (GAUSS_NODES[g] as number));
    c = Math.min(1, c + s * half);
    out.push(c);
  }
  return out;
}

/** Standard deviations of J (plus a margin) covered on each side; the mass outside is below 1e-15. */
const WINDOW_SDS = 8;
const WINDOW_MARGIN = 3;

/**
 * The Poisson-bootstrap distribution of the log q-quantile of `ranked` (resampling-free: P(J ≤ j) =
 * I_{j/n}(k*, n + 1 − k*) over the order statistics, see above), or null when fewer than 2 values or a rank it reaches holds a value ≤ 0.
 */
export function bootstrapQuantileDistribution(ranked: RankedLogValues, q: number): LogDistribution | null {
  const { n } = ranked;
  if (!(n >= 2)) return null;
  const k = bootstrapRank(q, n);
  const sd = Math.sqrt(n * q * (1 - q));
  const lo = Math.max(1, Math.floor(k - WINDOW_SDS * sd - WINDOW_MARGIN));
  const hi = Math.min(n, Math.ceil(k + WINDOW_SDS * sd + WINDOW_MARGIN));
  const cdf = betaCdfOnRanks(k, n, lo, hi);
  const values: number[] = [];
  const probabilities: number[] = [];
  let previous = 0; // mass below the window is given to its first rank
  for (let j = lo; j <= hi; j++) {
    const c = j === hi ? 1 : (cdf[j - lo] as number);
    const p = c - previous;
    previous = c;
    if (p <= 0) continue;
    const v = ranked.atPosition(j - 0.5);
    if (Number.isNaN(v)) return null;
    values.push(v);
    probabilities.push(p);
  }
  return { values, probabilities };
}

/** Mean and variance of a log distribution (computed about its first value for accuracy). */
export function distributionMoments(d: LogDistribution): { mean: number; variance: number } {
  const origin = d.values[0] ?? 0;
  let m1 = 0;
  let m2 = 0;
  d.values.forEach((v, i) => {
    const p = d.probabilities[i] as number;
    m1 += p * (v - origin);
    m2 += p * (v - origin) ** 2;
  });
  return { mean: origin + m1, variance: Math.max(0, m2 - m1 * m1) };
}

/** Relative slack on the cumulative probability so that rounding cannot skip the support point reaching a level. */
const LEVEL_SLACK = 1e-12;

/** The smallest support value whose cumulative probability reaches `level` (the percentile). */
export function distributionPercentile(d: LogDistribution, level: number): number {
  let cum = 0;
  for (let i = 0; i < d.values.length; i++) {
    cum += d.probabilities[i] as number;
    if (cum >= level - LEVEL_SLACK) return d.values[i] as number;
  }
  return d.values[d.values.length - 1] ?? Number.NaN;
}

function cumulative(d: LogDistribution): number[] {
  let cum = 0;
  return d.probabilities.map((p) => {
    cum += p;
    return cum;
  });
}

/** P(X ≤ x) of a log distribution with precomputed cumulative probabilities. */
function cdfAt(d: LogDistribution, cum: readonly number[], x: number): number {
  let lo = 0;
  let hi = d.values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((d.values[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : (cum[lo - 1] as number);
}

/** Bisection steps for a percentile of a difference (the support spacing is far above 2^-200 of its range). */
const DIFFERENCE_BISECTIONS = 200;

/**
 * The `level` percentile of X_T − X_C for independent bootstrap distributions (the smallest d with
 * P(X_T − X_C ≤ d) ≥ level), found by bisection on the exact convolution's distribution function.
 */
export function differencePercentile(
  treatment: LogDistribution,
  control: LogDistribution,
  level: number,
): number {
  const cumT = cumulative(treatment);
  const cdf = (d: number) => {
    let s = 0;
    control.values.forEach((v, i) => {
      s += (control.probabilities[i] as number) * cdfAt(treatment, cumT, d + v);
    });
    return s;
  };
  const first = (x: readonly number[]) => x[0] as number;
  const last = (x: readonly number[]) => x[x.length - 1] as number;
  let lo = first(treatment.values) - last(control.values);
  let hi = last(treatment.values) - first(control.values);
  if (cdf(lo) >= level - LEVEL_SLACK) return lo;
  for (let i = 0; i < DIFFERENCE_BISECTIONS && hi - lo > 0; i++) {
    const mid = lo + (hi - lo) / 2;
    if (mid === lo || mid === hi) break;
    if (cdf(mid) >= level - LEVEL_SLACK) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The bootstrap summary of one arm's quantile (log scale inside, value scale for display). */
export interface QuantileBootstrap {
  n: number;
  /** ln of the point estimate, the value of rank ⌈q·n⌉. */
  logQuantile: number;
  quantile: number;
  /** Bootstrap variance of the log quantile. */
  variance: number;
  se: number;
  /** Percentile interval of the quantile at two-sided level `alpha`, on the value scale. */
  interval: [number, number];
  distribution: LogDistribution;
}

/**
 * One arm's q-quantile with its resampling-free bootstrap SE (log scale) and percentile interval (two-sided
 * `alpha`); null when the distribution is undefined (fewer than 2 values, or values ≤ 0 within its reach).
 */
export function bootstrapQuantile(
  ranked: RankedLogValues,
  q: number,
  alpha = 0.05,
): QuantileBootstrap | null {
  const distribution = bootstrapQuantileDistribution(ranked, q);
  if (distribution === null) return null;
  const logQuantile = ranked.atPosition(quantileRank(q, ranked.n) - 0.5);
  if (Number.isNaN(logQuantile)) return null;
  const { variance } = distributionMoments(distribution);
  return {
    n: ranked.n,
    logQuantile,
    quantile: Math.exp(logQuantile),
    variance,
    se: Math.sqrt(variance),
    interval: [
      Math.exp(distributionPercentile(distribution, alpha / 2)),
      Math.exp(distributionPercentile(distribution, 1 - alpha / 2)),
    ],
    distribution,
  };
}

/** The treatment-versus-control log ratio of two arms' bootstrapped quantiles. */
export interface QuantileRatioBootstrap {
  /** ln(Q_T/Q_C). */
  logRatio: number;
  /** Var_T + Var_C (the arms are independent). */
  variance: number;
  se: number;
  /** Percentile interval of ln(Q_T/Q_C) from the exact convolution of the two bootstrap distributions. */
  logInterval: [number, number];
}

/** ln(Q_T/Q_C), its bootstrap SE and its percentile interval at two-sided level `alpha`. */
export function bootstrapLogRatio(
  treatment: QuantileBootstrap,
  control: QuantileBootstrap,
  alpha = 0.05,
): QuantileRatioBootstrap {
  const variance = treatment.variance + control.variance;
  return {
    logRatio: treatment.logQuantile - control.logQuantile,
    variance,
    se: Math.sqrt(variance),
    logInterval: [
      differencePercentile(treatment.distribution, control.distribution, alpha / 2),
      differencePercentile(treatment.distribution, control.distribution, 1 - alpha / 2),
    ],
  };
}
