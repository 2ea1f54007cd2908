// Normal-mixture confidence sequences and the mixture SPRT: intervals and p-values that stay valid however
// often they are looked at. Units: estimates and half-widths are on the scale of the compared difference.

/** Inputs of the asymptotic normal-mixture confidence sequence. */
export interface MixtureInput {
  /** Standard error of the estimate at this look. */
  se: number;
  /** Total units in the comparison at this look (both arms). */
  n: number;
  /** Tuning sample size N: the sequence is tightest around n = N. */
  tuningN: number;
  /** Error level: two-sided for `sides` = 2, one-sided for 1. */
  alpha: number;
  sides: 1 | 2;
}

/** Mixture parameter ρ = √((−2 ln a + ln(1 − 2 ln a)) / N), a = α two-sided or 2α one-sided. */
export function mixtureRho(input: { alpha: number; tuningN: number; sides: 1 | 2 }): number {
  const a = input.sides === 2 ? input.alpha : 2 * input.alpha;
  const logA = Math.log(a);
  return Math.sqrt((-2 * logA + Math.log(1 - 2 * logA)) / input.tuningN);
}

/** Half-width of the normal-mixture confidence sequence; +∞ when α is 0 (nothing left to spend). */
export function confidenceSequenceHalfWidth(input: MixtureInput): number {
  if (!(input.alpha > 0)) return Number.POSITIVE_INFINITY;
  const { se, n, alpha } = input;
  const rho = mixtureRho(input);
  const s = se * Math.sqrt(n);
  const nr2 = n * rho * rho;
  const factor = (2 * (nr2 + 1)) / (nr2 * n);
  const log =
    input.sides === 2 ? Math.log(Math.sqrt(nr2 + 1) / alpha) : Math.log(1 + Math.sqrt(nr2 + 1) / (2 * alpha));
  return s * Math.sqrt(factor * log);
}

/**
 * Always-valid two-sided p-value of H0: Δ = θ₀ at one look, min(1, 1/e) with the mixture e-value; pass the
 * previous look's p to get the running minimum.
 */
export function alwaysValidPValue(input: {
  estimate: number;
  se: number;
  n: number;
  tuningN: number;
  alpha: number;
  theta0?: number;
  previous?: number;
}): number {
  const rho = mixtureRho({ alpha: input.alpha, tuningN: input.tuningN, sides: 2 });
  const nr2 = input.n * rho * rho;
  const d = input.estimate - (input.theta0 ?? 0);
  const logE =
    (rho * rho * d * d * input.n) / (input.se * input.se) / (2 * (nr2 + 1)) - 0.5 * Math.log(nr2 + 1);
  const p = Math.min(1, Math.exp(-logE));
  return input.previous === undefined ? p : Math.min(input.previous, p);
}

/** Result of one mSPRT look. */
export interface MsprtResult {
  likelihoodRatio: number;
  /** Always-valid p: running minimum of min(1, 1/Λ). */
  pValue: number;
  /** Half-width of the matching confidence sequence at level α. */
  halfWidth: number;
}

/**
 * Mixture SPRT with a normal mixing distribution N(θ₀, τ²) on the difference: `variance` is Var(Δ̂) at this
 * look (e.g. s_T²/n_T + s_C²/n_C). Pass the previous p-value to keep the running minimum.
 */
export function msprt(input: {
  estimate: number;
  variance: number;
  tau2: number;
  alpha: number;
  theta0?: number;
  previousPValue?: number;
}): MsprtResult {
  const v = input.variance;
  const tau2 = input.tau2;
  const d = input.estimate - (input.theta0 ?? 0);
  const likelihoodRatio = Math.sqrt(v / (v + tau2)) * Math.exp((tau2 * d * d) / (2 * v * (v + tau2)));
  const single = Math.min(1, 1 / likelihoodRatio);
  const pValue = input.previousPValue === undefined ? single : Math.min(input.previousPValue, single);
  const halfWidth = Math.sqrt(
    ((v * (v + tau2)) / tau2) * (Math.log((v + tau2) / v) - 2 * Math.log(input.alpha)),
  );
  return { likelihoodRatio, pValue, halfWidth };
}
