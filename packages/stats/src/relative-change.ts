/**
 * The interval of a relative change as a person reads it: the interval of the test that decided (or would
 * decide) a guardrail's look, on the log-ratio scale. The engine reports the relative lift μ_T/μ_C − 1 with a
 * delta-method SE; a symmetric interval on that scale can pass −100% for a metric that cannot be negative (a
 * crash rate cannot fall by more than all of it). On the log scale the same evidence gives
 * ln(μ_T/μ_C) ± k·SE_log with SE_log = SE_rel · μ_C/μ_T (the delta method on ln), and exp(·) − 1 maps it back:
 * always above −100%, and as wide as the test that decided.
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

/** The parts of a guardrail look summary the deciding interval reads (numbers may be null once serialised). */
export interface DecidingLook {
  delta: number;
  se: number | null;
  /** The always-valid two-sided interval of Δ. */
  interval: readonly [number | null, number | null];
  meanTreatment: number;
  meanControl: number;
  relativeLiftSe: number | null;
  verdict: 'harm_detected' | 'non_inferior' | 'inconclusive';
  deterioration: { z: number | null; boundary: number | null };
  /** `margin` is θ on the difference scale (the relative margin times the control mean). */
  nonInferiority: { z: number | null; boundary: number | null; margin: number } | null;
}

/** Which test an interval belongs to: the rollback test that fired, the non-inferiority test that passed, or the always-valid interval while neither has. */
export type DecidingTest = 'rollback' | 'non_inferiority' | 'interval';

/** The interval of the deciding test for one look, on both scales, with what it was compared to. */
export interface DecidingInterval {
  test: DecidingTest;
  /** Half-width in standard errors; null when the SE is unknown. */
  multiplier: number | null;
  /** Relative change and its log-ratio interval; null when a mean is not positive (see the absolute one). */
  relative: RelativeInterval | null;
  /** Δ ± multiplier·SE on the difference scale (treatment − control). */
  absolute: [number, number] | null;
  /** The z the test compared against its boundary (null when not computed). */
  z: number | null;
  /** The boundary on the z scale; null is +∞ (too early to spend α). */
  boundary: number | null;
  /** The non-inferiority margin θ on the difference scale; null when the plan has none. */
  margin: number | null;
}

function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/**
 * The interval of the test that decided a look: the rollback boundary when harm was detected, the
 * non-inferiority boundary when the metric passed, otherwise the always-valid interval the look reported.
 * The same numbers are shown by the API, the dashboard, the CLI and the controller's reasons.
 */
export function decidingInterval(look: DecidingLook): DecidingInterval {
  const se = finiteOrNull(look.se);
  const det = look.deterioration;
  const ni = look.nonInferiority;
  let test: DecidingTest = 'interval';
  let multiplier: number | null = null;
  let z = finiteOrNull(det.z);
  let boundary = finiteOrNull(det.boundary);
  if (look.verdict === 'harm_detected' && boundary !== null) {
    test = 'rollback';
    multiplier = boundary;
  } else if (look.verdict === 'non_inferior' && ni !== null && finiteOrNull(ni.boundary) !== null) {
    test = 'non_inferiority';
    multiplier = ni.boundary;
    z = finiteOrNull(ni.z);
    boundary = ni.boundary;
  } else {
    const [low, high] = look.interval;
    multiplier = low !== null && high !== null && se !== null && se > 0 ? (high - low) / 2 / se : null;
  }
  const relative =
    multiplier !== null && look.relativeLiftSe !== null
      ? logRatioInterval({
          meanTreatment: look.meanTreatment,
          meanControl: look.meanControl,
          relativeLiftSe: look.relativeLiftSe,
          multiplier,
        })
      : null;
  return {
    test,
    multiplier,
    relative,
    absolute:
      multiplier !== null && se !== null
        ? [look.delta - multiplier * se, look.delta + multiplier * se]
        : null,
    z,
    boundary,
    margin: ni === null ? null : finiteOrNull(ni.margin),
  };
}
