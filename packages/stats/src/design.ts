// Operating characteristics of a sequential design: crossing probabilities under any drift, power,
// the group-sequential inflation factor and the false-positive rate of naive repeated testing.

import { groupSequentialBoundaries } from './boundaries.ts';
import { normalQuantile, normalSfQuantile } from './normal.ts';
import {
  firstDensity,
  lowerCrossing,
  nextDensity,
  POWER_GRID_RESOLUTION,
  type SubDensity,
  upperCrossing,
} from './recursion.ts';
import type { Spending, TwoSidedConvention } from './spending.ts';

/** Inputs of `crossingProbabilities`. */
export interface CrossingInput {
  /** Upper boundaries on the z scale (+∞ for none at a look). */
  upper: readonly number[];
  /** Lower boundaries on the z scale (−∞ or omitted for none). */
  lower?: readonly number[];
  /** Information fractions t_k, strictly increasing. */
  informationFractions: readonly number[];
  /** Drift η: the mean of Z at t = 1 (θ·√I_max); 0 under the null hypothesis. */
  drift: number;
  gridResolution?: number;
}

/** Probability of first crossing at each look, per side, and in total. */
export interface CrossingProbabilities {
  upper: number[];
  lower: number[];
  /** Cumulative probability of having crossed the upper boundary by each look. */
  cumulativeUpper: number[];
  totalUpper: number;
  totalLower: number;
}

/**
 * Exact (grid-integrated) probabilities that Z_k, with mean η√t_k and the canonical joint distribution, first
 * leaves the continuation region at each look. Used for power, false-positive rates and detection times.
 */
export function crossingProbabilities(input: CrossingInput): CrossingProbabilities {
  const r = input.gridResolution ?? POWER_GRID_RESOLUTION;
  const upper: number[] = [];
  const lower: number[] = [];
  const cumulativeUpper: number[] = [];
  let prev: SubDensity | null = null;
  let totalUpper = 0;
  let totalLower = 0;
  input.informationFractions.forEach((t, k) => {
    const b = input.upper[k] ?? Number.POSITIVE_INFINITY;
    const a = input.lower?.[k] ?? Number.NEGATIVE_INFINITY;
    const pu = upperCrossing(prev, t, input.drift, b)[0];
    const pl = lowerCrossing(prev, t, input.drift, a)[0];
    upper.push(pu);
    lower.push(pl);
    totalUpper += pu;
    totalLower += pl;
    cumulativeUpper.push(totalUpper);
    prev = prev === null ? firstDensity(t, input.drift, a, b, r) : nextDensity(prev, t, input.drift, a, b, r);
  });
  return { upper, lower, cumulativeUpper, totalUpper, totalLower };
}

/**
 * Probability that a fixed-level z test repeated at every look ever rejects under H0 (the cost of peeking);
 * `gridResolution` is the recursion's r (default 32).
 */
export function naivePeekingFalsePositiveRate(input: {
  alpha: number;
  informationFractions: readonly number[];
  sides: 1 | 2;
  gridResolution?: number;
}): number {
  const b = normalSfQuantile(input.alpha / input.sides);
  const upper = input.informationFractions.map(() => b);
  const lower = input.sides === 2 ? upper.map((x) => -x) : undefined;
  const res = crossingProbabilities({
    upper,
    ...(lower ? { lower } : {}),
    informationFractions: input.informationFractions,
    drift: 0,
    ...(input.gridResolution !== undefined ? { gridResolution: input.gridResolution } : {}),
  });
  return res.totalUpper + res.totalLower;
}

/** Power of a boundary sequence at drift η: P(reject) counting both tails when a lower boundary is given. */
export function sequentialPower(input: CrossingInput): number {
  const res = crossingProbabilities(input);
  return res.totalUpper + res.totalLower;
}

/** Inputs shared by the planning functions. */
export interface SequentialDesignInput {
  alpha: number;
  spending: Spending;
  informationFractions: readonly number[];
  sides?: 1 | 2;
  convention?: TwoSidedConvention;
}

const DRIFT_TOLERANCE = 1e-10;

/** The drift η at which the design reaches `power` (solved by bisection; power rises with η). */
export function driftForPower(input: SequentialDesignInput & { power: number }): number {
  const sides = input.sides ?? 1;
  const upper = groupSequentialBoundaries({ ...input, sides });
  const lower = sides === 2 ? upper.map((b) => -b) : undefined;
  const powerAt = (drift: number) =>
    sequentialPower({
      upper,
      ...(lower ? { lower } : {}),
      informationFractions: input.informationFractions,
      drift,
    });
  let lo = 0;
  let hi = 1;
  while (powerAt(hi) < input.power) hi *= 2;
  while (hi - lo > DRIFT_TOLERANCE * hi) {
    const mid = (lo + hi) / 2;
    if (powerAt(mid) < input.power) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Ratio of the maximum information a group-sequential design needs to the fixed-horizon information for the
 * same α and power (≥ 1). Fixed horizon: I = (z_{1−α/sides} + z_{power})² / θ².
 */
export function inflationFactor(input: SequentialDesignInput & { power: number }): number {
  const sides = input.sides ?? 1;
  const fixed = normalSfQuantile(input.alpha / sides) + normalQuantile(input.power);
  const drift = driftForPower(input);
  return (drift / fixed) ** 2;
}
