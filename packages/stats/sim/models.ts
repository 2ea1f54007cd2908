// Metric models for the simulation: each draws one arm's per-day increment of sufficient statistics (with the
// third-order sums the skew correction and the minimum-information rule read) for n units, exactly where the
// sums have a known law or the units are few enough to draw one by one, and by a stated approximation otherwise.

import type { Direction, MetricKind, SufficientStats } from '../src/index.ts';
import { normalCdf, normalQuantile, ratioDeltaVariance } from '../src/index.ts';
import type { Rng } from './prng.ts';

/** A simulated metric. `scale` multiplies the metric's mean (baseline trend × (1 + effect)). */
export interface MetricModel {
  name: string;
  kind: MetricKind;
  direction: Direction;
  /** How the sufficient statistics are drawn (printed in the report). */
  method: string;
  /** Per-unit variance of the metric's estimator (linearised for ratios), at scale 1, per arm. */
  unitVariance: { treatment: number; control: number };
  controlMean: number;
  /** Per-unit skewness at scale 1 (control arm), for the report. */
  unitSkewness: number;
  draw(rng: Rng, n: number, scale: number, arm: 'treatment' | 'control', into: SufficientStats): void;
}

/** Adds n units with the given raw sums Σy, Σy², Σy³ to an arm. */
function addSums(into: SufficientStats, n: number, s1: number, s2: number, s3: number): void {
  into.n += n;
  into.sumY += s1;
  into.sumY2 += s2;
  into.sumY3 = (into.sumY3 ?? 0) + s3;
}

/**
 * E[Σy² | Σy = s] and E[Σy³ | Σy = s] for counts spread multinomially over n units (Poisson sums given their
 * total): each unit holds Binomial(s, 1/n).
 */
function conditionalPowerSums(n: number, s: number): [number, number] {
  const p = 1 / n;
  const a = s * p;
  const variance = a * (1 - p);
  const third = variance * (1 - 2 * p);
  return [n * (variance + a * a), n * (third + 3 * a * variance + a ** 3)];
}

/**
 * Normal outcomes: Σy ~ N(nμ, nσ²) and the within sum of squares ~ σ²χ²_{n−1}, both exact; the within sum of
 * cubes Σ(y − ȳ)³ ~ N(0, 6nσ⁶) (its exact mean and variance, asymptotically normal).
 */
export function normalModel(
  name: string,
  mean: number,
  sdControl: number,
  sdTreatment = sdControl,
): MetricModel {
  return {
    name,
    kind: 'mean',
    direction: 'higher_is_worse',
    method: 'exact (normal sum, χ² sum of squares); centred sum of cubes normal with its exact variance',
    unitVariance: { treatment: sdTreatment ** 2, control: sdControl ** 2 },
    controlMean: mean,
    unitSkewness: 0,
    draw(rng, n, scale, arm, into) {
      if (n <= 0) return;
      const sd = arm === 'treatment' ? sdTreatment : sdControl;
      const sum = n * mean * scale + Math.sqrt(n) * sd * rng.normal();
      const ss = n > 1 ? sd * sd * 2 * rng.gamma((n - 1) / 2) : 0;
      const cubes = Math.sqrt(6 * n) * sd ** 3 * rng.normal();
      const m = sum / n;
      addSums(into, n, sum, ss + sum * m, cubes + 3 * m * ss + n * m ** 3);
    },
  };
}

/** Bernoulli outcomes (e.g. crash-affected users): Σy ~ Binomial(n, p), exact; Σy³ = Σy² = Σy. */
export function bernoulliModel(
  name: string,
  p: number,
  direction: Direction = 'higher_is_worse',
): MetricModel {
  return {
    name,
    kind: 'proportion',
    direction,
    method: 'exact (binomial)',
    unitVariance: { treatment: p * (1 - p), control: p * (1 - p) },
    controlMean: p,
    unitSkewness: (1 - 2 * p) / Math.sqrt(p * (1 - p)),
    draw(rng, n, scale, _arm, into) {
      if (n <= 0) return;
      const k = rng.binomial(n, Math.min(1, p * scale));
      addSums(into, n, k, k, k);
    },
  };
}

/** Poisson counts per unit: Σy ~ Poisson(nλ) exact; Σy², Σy³ at their conditional means given Σy. */
export function poissonModel(name: string, lambda: number): MetricModel {
  return {
    name,
    kind: 'mean',
    direction: 'higher_is_worse',
    method: 'Σy exact (Poisson); Σy², Σy³ at E[· | Σy]',
    unitVariance: { treatment: lambda, control: lambda },
    controlMean: lambda,
    unitSkewness: 1 / Math.sqrt(lambda),
    draw(rng, n, scale, _arm, into) {
      if (n <= 0) return;
      const s = rng.poisson(n * lambda * scale);
      const [s2, s3] = conditionalPowerSums(n, s);
      addSums(into, n, s, s2, s3);
    },
  };
}

/** Raw moments E[min(Y, cap)^k], k = 1..6, of a log-normal Y = exp(N(mu, sigma²)). */
function cappedLogNormalMoments(mu: number, sigma: number, cap: number): number[] {
  const logCap = Math.log(cap);
  const above = 1 - normalCdf((logCap - mu) / sigma);
  return [1, 2, 3, 4, 5, 6].map(
    (k) =>
      Math.exp(k * mu + (k * k * sigma * sigma) / 2) * normalCdf((logCap - mu - k * sigma * sigma) / sigma) +
      cap ** k * above,
  );
}

/**
 * Draws (Σy, Σy², Σy³) of n iid units with raw moments m1..m6: Σy from a shifted gamma with the exact mean,
 * variance and skewness of the sum, Σy² and Σy³ jointly normal given it with the exact covariances (Cholesky
 * of the per-unit covariance of (y, y², y³)). Matching the skewness of Σy keeps the n^(−1/2) term of the
 * studentised statistic right, which a plain multivariate normal would not.
 */
function momentSums(rng: Rng, n: number, m: readonly number[]): [number, number, number] {
  const [m1, m2, m3, m4, m5, m6] = m as [number, number, number, number, number, number];
  const c11 = m2 - m1 * m1;
  const c12 = m3 - m1 * m2;
  const c13 = m4 - m1 * m3;
  const c22 = m4 - m2 * m2;
  const c23 = m5 - m2 * m3;
  const c33 = m6 - m3 * m3;
  const l11 = Math.sqrt(c11);
  const l21 = c12 / l11;
  const l31 = c13 / l11;
  const l22 = Math.sqrt(Math.max(0, c22 - l21 * l21));
  const l32 = l22 > 0 ? (c23 - l31 * l21) / l22 : 0;
  const l33 = Math.sqrt(Math.max(0, c33 - l31 * l31 - l32 * l32));
  const skew = (m3 - 3 * m1 * m2 + 2 * m1 ** 3) / c11 ** 1.5;
  const shape = (4 * n) / (skew * skew);
  const z1 = skew > 1e-9 ? (rng.gamma(shape) - shape) / Math.sqrt(shape) : rng.normal();
  const z2 = rng.normal();
  const z3 = rng.normal();
  const root = Math.sqrt(n);
  return [
    n * m1 + root * l11 * z1,
    n * m2 + root * (l21 * z1 + l22 * z2),
    n * m3 + root * (l31 * z1 + l32 * z2 + l33 * z3),
  ];
}

/** Kind, direction, variance, mean and skewness of a lower-is-worse mean metric with per-unit raw moments m. */
function lowerIsWorseMean(
  m: readonly number[],
): Pick<MetricModel, 'kind' | 'direction' | 'unitVariance' | 'controlMean' | 'unitSkewness'> {
  const [m1, m2, m3] = m as [number, number, number];
  const v = m2 - m1 * m1;
  return {
    kind: 'mean',
    direction: 'lower_is_worse',
    unitVariance: { treatment: v, control: v },
    controlMean: m1,
    unitSkewness: (m3 - 3 * m1 * m2 + 2 * m1 ** 3) / v ** 1.5,
  };
}

/**
 * Capped log-normal revenue per user (every user spends): (Σy, Σy², Σy³) by `momentSums` with the exact moments
 * of the capped law.
 */
export function revenueModel(name: string, mu: number, sigma: number, cap: number): MetricModel {
  const m = cappedLogNormalMoments(mu, sigma, cap);
  return {
    name,
    ...lowerIsWorseMean(m),
    method:
      'Σy shifted gamma with the exact mean, variance and skewness; Σy², Σy³ normal given Σy (exact covariances)',
    draw(rng, n, scale, _arm, into) {
      if (n <= 0) return;
      const [s1, s2, s3] = momentSums(rng, n, m);
      addSums(into, n, s1 * scale, s2 * scale ** 2, s3 * scale ** 3);
    },
  };
}

/** Purchasers drawn one by one up to this many per arm and day; above it the sums come from their moments. */
const EXACT_PURCHASERS = 1_000;

/**
 * Zero-inflated revenue: a share `buyers` of users purchase, amounts log-normal(mu, sigma) capped at the given
 * percentile of the amounts. The purchasers are Binomial(n, buyers) exactly; their amounts are drawn one by one
 * when there are at most EXACT_PURCHASERS (the small treatment arm of the first stage, where the normal
 * approximation is worst), otherwise their sums come from `momentSums` with the exact moments of the capped law.
 */
export function zeroInflatedRevenueModel(
  name: string,
  input: { buyers: number; mu: number; sigma: number; capPercentile: number },
): MetricModel {
  const { buyers, mu, sigma } = input;
  const cap = Math.exp(mu + sigma * normalQuantile(input.capPercentile));
  const amounts = cappedLogNormalMoments(mu, sigma, cap);
  return {
    name,
    ...lowerIsWorseMean(amounts.map((x) => buyers * x)),
    method: `purchasers binomial; amounts drawn one by one up to ${EXACT_PURCHASERS.toLocaleString('en')} a day per arm, else moment-matched sums (exact moments)`,
    draw(rng, n, scale, _arm, into) {
      if (n <= 0) return;
      const k = rng.binomial(n, buyers);
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      if (k <= EXACT_PURCHASERS) {
        for (let i = 0; i < k; i++) {
          const y = Math.min(cap, Math.exp(mu + sigma * rng.normal()));
          s1 += y;
          s2 += y * y;
          s3 += y * y * y;
        }
      } else if (k > 0) {
        [s1, s2, s3] = momentSums(rng, k, amounts);
      }
      addSums(into, n, s1 * scale, s2 * scale ** 2, s3 * scale ** 3);
    },
  };
}

/**
 * Errors per request: requests d = y + w with errors y ~ Poisson(λq) and successes w ~ Poisson(λ(1−q))
 * independent (Poisson thinning); Σy and Σw exact, the second- and third-order sums at their conditional means.
 */
export function ratioModel(name: string, lambda: number, q: number): MetricModel {
  const my = lambda * q;
  const md = lambda;
  // Per unit: Var y = λq, Var d = λ, Cov(y, d) = Var y = λq.
  const unit = ratioDeltaVariance({ meanNum: my, meanDen: md, varNum: my, varDen: md, covNumDen: my, n: 1 });
  return {
    name,
    kind: 'ratio',
    direction: 'higher_is_worse',
    method: 'Σy, Σd exact (Poisson); second- and third-order sums at conditional means',
    unitVariance: { treatment: unit, control: unit },
    controlMean: q,
    unitSkewness: Number.NaN,
    draw(rng, n, scale, _arm, into) {
      if (n <= 0) return;
      const qs = Math.min(1, q * scale);
      const y = rng.poisson(n * lambda * qs);
      const w = rng.poisson(n * lambda * (1 - qs));
      const [y2, y3] = conditionalPowerSums(n, y);
      const [w2, w3] = conditionalPowerSums(n, w);
      // Given the totals, each unit's y and w are independent: E[Σy^a w^b] = n·E[y^a]·E[w^b].
      const yw = (y * w) / n;
      const y2w = (y2 * w) / n;
      const yw2 = (y * w2) / n;
      into.n += n;
      into.sumY += y;
      into.sumY2 += y2;
      into.sumY3 = (into.sumY3 ?? 0) + y3;
      into.sumD = (into.sumD ?? 0) + y + w;
      into.sumD2 = (into.sumD2 ?? 0) + y2 + 2 * yw + w2;
      into.sumYD = (into.sumYD ?? 0) + y2 + yw;
      into.sumY2D = (into.sumY2D ?? 0) + y3 + y2w;
      into.sumYD2 = (into.sumYD2 ?? 0) + y3 + 2 * y2w + yw2;
      into.sumD3 = (into.sumD3 ?? 0) + y3 + 3 * y2w + 3 * yw2 + w3;
    },
  };
}

/** Log-normal revenue per user without zeros: log-mean and log-sd of the simulated control distribution. */
const REVENUE_LOG_MEAN = 1;
const REVENUE_LOG_SD = 1.2;
/** That revenue guardrail is capped at this percentile of the control distribution (the metric's cap). */
export const REVENUE_CAP_PERCENTILE = 0.99;

/** Log-normal revenue (log-mean 1, log-sd 1.2) capped at the given percentile of its distribution. */
export function cappedRevenueModel(percentile: number): MetricModel {
  const cap = Math.exp(REVENUE_LOG_MEAN + REVENUE_LOG_SD * normalQuantile(percentile));
  const label = `${(percentile * 100).toFixed(1).replace(/\.0$/, '')}th`;
  return revenueModel(
    `capped log-normal revenue, no zeros (${label} pct cap)`,
    REVENUE_LOG_MEAN,
    REVENUE_LOG_SD,
    cap,
  );
}

/** The realistic zero-inflated revenue of statistics.md: 4% purchasers, log-normal(3, 1.3) capped at the 99.9th. */
export function purchaseRevenueModel(): MetricModel {
  return zeroInflatedRevenueModel('zero-inflated revenue (4% buy, LN(3, 1.3) capped 99.9th)', {
    buyers: 0.04,
    mu: 3,
    sigma: 1.3,
    capPercentile: 0.999,
  });
}

/**
 * The six guardrails of one rollout (G = 6): a session-length mean, a 2% crash rate, a 0.1% fatal-error rate,
 * a 0.5% conversion rate (lower is worse), zero-inflated revenue (lower is worse) and errors per request.
 */
export function guardrailModels(): MetricModel[] {
  return [
    normalModel('normal (session minutes)', 10, 4),
    bernoulliModel('Bernoulli 2% (crash)', 0.02),
    bernoulliModel('Bernoulli 0.1% (fatal error)', 0.001),
    bernoulliModel('Bernoulli 0.5% (conversion, lower is worse)', 0.005, 'lower_is_worse'),
    purchaseRevenueModel(),
    ratioModel('ratio errors/requests', 20, 0.01),
  ];
}

/** Further data models checked on their own at α/G: capped revenue without zeros, Poisson counts, unequal variances. */
export function extraModels(): MetricModel[] {
  return [
    cappedRevenueModel(REVENUE_CAP_PERCENTILE),
    poissonModel('Poisson counts (pages)', 3),
    normalModel('unequal variance (σ_T = 2σ_C)', 10, 4, 8),
  ];
}
