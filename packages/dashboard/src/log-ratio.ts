/**
 * Display intervals of a relative change on the log-ratio scale. The statistics engine reports the relative
 * lift μ_T/μ_C − 1 with a delta-method SE; a symmetric interval on that scale can pass −100% for a metric
 * that cannot be negative (a crash rate cannot fall by more than all of it). On the log scale the same
 * evidence gives ln(μ_T/μ_C) ± k·SE_log with SE_log = SE_rel · μ_C/μ_T (the delta method on ln), and
 * exp(·) − 1 maps it back: always above −100%, and as tight as the test that decided.
 *
 * A rollout's looks carry this interval from the server (`relativeChange`, @dimmer/stats `logRatioInterval`,
 * which the dashboard may not import); an experiment's per-variant looks are computed here with the same formula.
 */

/** What one guardrail look gives: arm means, the delta-method SE of the relative lift, and a z multiplier. */
export interface LogRatioInput {
  meanTreatment: number;
  meanControl: number;
  /** SE of μ_T/μ_C − 1 from the delta method (the engine's `relativeLiftSe`). */
  relativeLiftSe: number;
  /** Half-width of the interval in standard errors (the deciding test's boundary, or the display level's). */
  multiplier: number;
}

/** A relative change and its interval, as fractions (0.15 = +15%); the lower end is always above −1. */
export interface RelativeInterval {
  lift: number;
  lower: number;
  upper: number;
}

/**
 * The relative change μ_T/μ_C − 1 with the interval exp(ln(μ_T/μ_C) ± k·SE_log) − 1. Null when either mean
 * is not positive or an input is not finite (the log ratio is undefined; show the absolute difference).
 */
export function logRatioInterval(input: LogRatioInput): RelativeInterval | null {
  const { meanTreatment: t, meanControl: c, relativeLiftSe: se, multiplier: k } = input;
  if (![t, c, se, k].every(Number.isFinite)) return null;
  if (!(t > 0 && c > 0) || se < 0 || k < 0) return null;
  const logRatio = Math.log(t / c);
  const seLog = (se * c) / t;
  return {
    lift: t / c - 1,
    lower: Math.expm1(logRatio - k * seLog),
    upper: Math.expm1(logRatio + k * seLog),
  };
}
