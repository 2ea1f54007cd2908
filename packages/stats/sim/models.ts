// Metric models for the simulation: each draws one arm's per-day increment of sufficient statistics for n
// units, exactly where the sum has a known law and by a stated approximation where it has not.

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
  draw(rng: Rng, n: number, scale: number, arm: 'treatment' | 'control', into: SufficientStats): void;
}

function conditionalSumOfSquares(n: number, sum: number): number {
  // E[Σy² | Σy] for counts spread multinomially over n units (Poisson sums given their total).
  return sum * (1 - 1 / n) + (sum * sum) / n;
}

/** Normal outcomes: Σy ~ N(nμ, nσ²) and the within sum of squares ~ σ²χ²_{n−1}, both exact. */
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
    method: 'exact (normal sum, χ² sum of squares)',
    unitVariance: { treatment: sdTreatment ** 2, control: sdControl ** 2 },
    controlMean: mean,
    draw(rng, n, scale, arm, into) {
      if (n <= 0) return;
      const sd = arm === 'treatment' ? sdTreatment : sdControl;
      const sum = n * mean * scale + Math.sqrt(n) * sd * rng.normal();
      const ss = n > 1 ? sd * sd * 2 * rng.gamma((n - 1) / 2) : 0;
      into.n += n;
      into.sumY += sum;
      into.sumY2 += ss + (sum * sum) / n;
    },
  };
}

/** Bernoulli outcomes (e.g. crash-affected users): Σy ~ Binomial(n, p), exact; Σy² = Σy. */
export function bernoulliModel(name: string, p: number): MetricModel {
  return {
    name,
    kind: 'proportion',
    direction: 'higher_is_worse',
    method: 'exact (binomial)',
    unitVariance: { treatment: p * (1 - p), control: p * (1 - p) },
    controlMean: p,
    draw(rng, n, scale, _arm, into) {
      if (n <= 0) return;
      const k = rng.binomial(n, Math.min(1, p * scale));
      into.n += n;
      into.sumY += k;
      into.sumY2 += k;
    },
  };
}

/** Poisson counts per unit: Σy ~ Poisson(nλ) exact; Σy² at its conditional mean given Σy. */
export function poissonModel(name: string, lambda: number): MetricModel {
  return {
    name,
    kind: 'mean',
    direction: 'higher_is_worse',
    method: 'Σy exact (Poisson); Σy² at E[Σy² | Σy]',
    unitVariance: { treatment: lambda, control: lambda },
    controlMean: lambda,
    draw(rng, n, scale, _arm, into) {
      if (n <= 0) return;
      const s = rng.poisson(n * lambda * scale);
      into.n += n;
      into.sumY += s;
      into.sumY2 += conditionalSumOfSquares(n, s);
    },
  };
}

/** Raw moments E[min(Y, cap)^k], k = 1..4, of a log-normal Y = exp(N(mu, sigma²)). */
function cappedLogNormalMoments(mu: number, sigma: number, cap: number): number[] {
  const logCap = Math.log(cap);
  const above = 1 - normalCdf((logCap - mu) / sigma);
  return [1, 2, 3, 4].map(
    (k) =>
      Math.exp(k * mu + (k * k * sigma * sigma) / 2) * normalCdf((logCap - mu - k * sigma * sigma) / sigma) +
      cap ** k * above,
  );
}

/**
 * Capped log-normal revenue per user: Σy from a shifted gamma with the exact mean, variance and skewness of the
 * sum, and Σy² jointly normal given Σy with the exact variance and covariance (all moments of the capped
 * law are exact). Matching the skewness of Σy keeps the n^(−1/2) term of the studentized statistic right:
 * a plain bivariate normal (Σy, Σy²) keeps only the mean–variance correlation and overstates the lower-tail
 * excess of a small arm by about half.
 */
export function revenueModel(name: string, mu: number, sigma: number, cap: number): MetricModel {
  const [m1, m2, m3, m4] = cappedLogNormalMoments(mu, sigma, cap) as [number, number, number, number];
  const v11 = m2 - m1 * m1;
  const v12 = m3 - m1 * m2;
  const v22 = m4 - m2 * m2;
  const l11 = Math.sqrt(v11);
  const l21 = v12 / l11;
  const l22 = Math.sqrt(Math.max(0, v22 - l21 * l21));
  const skew = (m3 - 3 * m1 * m2 + 2 * m1 * m1 * m1) / v11 ** 1.5;
  return {
    name,
    kind: 'mean',
    direction: 'lower_is_worse',
    method:
      'Σy shifted gamma with the exact mean, variance and skewness; Σy² normal given Σy (exact covariance)',
    unitVariance: { treatment: v11, control: v11 },
    controlMean: m1,
    draw(rng, n, scale, _arm, into) {
      if (n <= 0) return;
      // Standardized sum with skewness γ/√n: (Gamma(k) − k)/√k, k = 4n/γ².
      const shape = (4 * n) / (skew * skew);
      const z1 = (rng.gamma(shape) - shape) / Math.sqrt(shape);
      const z2 = rng.normal();
      const root = Math.sqrt(n);
      const sum = n * m1 + root * l11 * z1;
      const sumSq = n * m2 + root * (l21 * z1 + l22 * z2);
      into.n += n;
      into.sumY += sum * scale;
      into.sumY2 += sumSq * scale * scale;
    },
  };
}

/**
 * Errors per request: requests d = y + w with errors y ~ Poisson(λq) and successes w ~ Poisson(λ(1−q))
 * independent (Poisson thinning); Σy and Σw exact, second-moment sums at their conditional means.
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
    method: 'Σy, Σd exact (Poisson); Σy², Σd², Σyd at conditional means',
    unitVariance: { treatment: unit, control: unit },
    controlMean: q,
    draw(rng, n, scale, _arm, into) {
      if (n <= 0) return;
      const qs = Math.min(1, q * scale);
      const y = rng.poisson(n * lambda * qs);
      const w = rng.poisson(n * lambda * (1 - qs));
      const y2 = conditionalSumOfSquares(n, y);
      const w2 = conditionalSumOfSquares(n, w);
      const yw = (y * w) / n;
      into.n += n;
      into.sumY += y;
      into.sumY2 += y2;
      into.sumD = (into.sumD ?? 0) + y + w;
      into.sumD2 = (into.sumD2 ?? 0) + y2 + 2 * yw + w2;
      into.sumYD = (into.sumYD ?? 0) + y2 + yw;
    },
  };
}

/** Log-normal revenue per user: log-mean and log-sd of the simulated control distribution. */
const REVENUE_LOG_MEAN = 1;
const REVENUE_LOG_SD = 1.2;
/** The revenue guardrail is capped at this percentile of the control distribution (the metric's cap). */
export const REVENUE_CAP_PERCENTILE = 0.99;
/** A second cap reported for information, to show how the false-rollback rate depends on the cap. */
export const REVENUE_CAP_PERCENTILE_LOOSE = 0.995;

/** Log-normal revenue (log-mean 1, log-sd 1.2) capped at the given percentile of its distribution. */
export function cappedRevenueModel(percentile: number): MetricModel {
  const cap = Math.exp(REVENUE_LOG_MEAN + REVENUE_LOG_SD * normalQuantile(percentile));
  const label = `${(percentile * 100).toFixed(1).replace(/\.0$/, '')}th`;
  return revenueModel(`log-normal revenue capped at its ${label} pct`, REVENUE_LOG_MEAN, REVENUE_LOG_SD, cap);
}

/** The six guardrails of the acceptance scenarios, plus an unequal-variance metric checked on its own. */
export function guardrailModels(): MetricModel[] {
  return [
    normalModel('normal (session minutes)', 10, 4),
    bernoulliModel('Bernoulli 2% (crash)', 0.02),
    bernoulliModel('Bernoulli 0.1% (fatal)', 0.001),
    cappedRevenueModel(REVENUE_CAP_PERCENTILE),
    poissonModel('Poisson counts (pages)', 3),
    ratioModel('ratio errors/requests', 20, 0.01),
  ];
}

/** Normal data whose treatment arm has twice the control standard deviation. */
export function unequalVarianceModel(): MetricModel {
  return normalModel('unequal variance (σ_T = 2σ_C)', 10, 4, 8);
}
