// Group-sequential boundaries by Lan–DeMets alpha spending, solved look by look with the
// Armitage–McPherson–Rowe recursion. The state is plain JSON so a server can store it per (rollout, metric)
// and extend it when a new look arrives; extending and computing from scratch give bit-identical results.

import { normalSfQuantile } from './normal.ts';
import {
  DEFAULT_GRID_RESOLUTION,
  FINE_GRID_GAIN,
  firstDensity,
  lowerCrossing,
  nextDensity,
  type SubDensity,
  upperCrossing,
} from './recursion.ts';
import { type Spending, spendTotalAlpha, type TwoSidedConvention } from './spending.ts';

/**
 * A look whose information fraction grows by less than this (relative to the last look that spent α) is
 * skipped: it spends nothing and shows no boundary, and the α waits for the next look that adds at least this
 * much. The grid resolves the increment kernel of any larger step (see recursion.ts), so every look that spends
 * gets a finite boundary whose spent α matches the spending function within 1e-7.
 */
export const MIN_INFORMATION_GAIN = 0.01;
const ROOT_STEPS = 200;
const ROOT_TOLERANCE = 1e-13;
/** No boundary is searched beyond this many standard deviations (P(Z > 40) is below 1e-300). */
const Z_LIMIT = 40;

/** The design of a boundary sequence. */
export interface BoundaryDesign {
  /** Total type I error of the test (both tails together when sides = 2). */
  alpha: number;
  spending: Spending;
  sides: 1 | 2;
  /** Two-sided convention (default `per-side`: α/2 spent on each side by the one-sided function). */
  convention: TwoSidedConvention;
  /** Grid resolution r of the recursion (default 32; doubled after a look adding under FINE_GRID_GAIN). */
  gridResolution: number;
}

/**
 * One look recorded in a boundary state. `boundary` is null where it is +∞ (nothing spent at that look);
 * `skipped` marks a look that added less than MIN_INFORMATION_GAIN over the last look that spent α.
 */
export interface BoundaryLook {
  informationFraction: number;
  cumulativeAlpha: number;
  boundary: number | null;
  skipped?: boolean;
}

/** Resumable, JSON-serialisable state of a boundary computation. */
export interface BoundaryState {
  version: 1;
  design: BoundaryDesign;
  looks: BoundaryLook[];
  /** Sub-density at the last look that carried information (null before the first). */
  density: SubDensity | null;
  /** α spent up to that look (the spending function at its fraction). */
  spentAlpha: number;
}

/** Inputs of `createBoundaryState`; convention and grid resolution are optional. */
export interface BoundaryDesignInput {
  alpha: number;
  spending: Spending;
  sides?: 1 | 2;
  convention?: TwoSidedConvention;
  gridResolution?: number;
}

/** Starts a boundary computation with no looks yet; `sides` defaults to 1 (one-sided upper boundary). */
export function createBoundaryState(design: BoundaryDesignInput): BoundaryState {
  if (!(design.alpha > 0 && design.alpha < 1)) throw new RangeError('alpha must be in (0, 1)');
  return {
    version: 1,
    design: {
      alpha: design.alpha,
      spending: design.spending,
      sides: design.sides ?? 1,
      convention: design.convention ?? 'per-side',
      gridResolution: design.gridResolution ?? DEFAULT_GRID_RESOLUTION,
    },
    looks: [],
    density: null,
    spentAlpha: 0,
  };
}

/** Solves for b with P(cross at this look) = target, by Newton steps kept inside a shrinking bracket. */
function solveBoundary(prev: SubDensity | null, t: number, sides: 1 | 2, target: number): number {
  const excess = (b: number): [number, number] => {
    const [pu, du] = upperCrossing(prev, t, 0, b);
    if (sides === 1) return [pu - target, du];
    const [pl, dl] = lowerCrossing(prev, t, 0, -b);
    return [pu + pl - target, du - dl];
  };
  let lo = sides === 2 ? 0 : -Z_LIMIT;
  let hi = Z_LIMIT;
  let b = normalSfQuantile(target / sides);
  if (!(b > lo && b < hi)) b = (lo + hi) / 2;
  for (let i = 0; i < ROOT_STEPS; i++) {
    const [g, dg] = excess(b);
    if (g > 0) lo = b;
    else hi = b;
    let next = dg < 0 ? b - g / dg : Number.NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - b) < ROOT_TOLERANCE || hi - lo < ROOT_TOLERANCE) return next;
    b = next;
  }
  return b;
}

/**
 * Adds one look at information fraction t (I_k / I_max; values above 1 spend whatever α is left) and returns
 * its boundary (+∞ where no α can be spent) with the new state; the input state is not modified. A look adding
 * less than MIN_INFORMATION_GAIN over the last look that spent α is `skipped` (boundary +∞, nothing spent).
 */
export function extendBoundaries(
  state: BoundaryState,
  t: number,
): { boundary: number; state: BoundaryState; skipped: boolean } {
  if (!(t > 0) || !Number.isFinite(t))
    throw new RangeError('information fraction must be a positive finite number');
  const { alpha, spending, sides, convention, gridResolution } = state.design;
  const prev = state.density;
  const skipped = prev !== null && t < prev.t * (1 + MIN_INFORMATION_GAIN);
  if (skipped) {
    const look: BoundaryLook = {
      informationFraction: t,
      cumulativeAlpha: state.spentAlpha,
      boundary: null,
      skipped: true,
    };
    return {
      boundary: Number.POSITIVE_INFINITY,
      state: { ...state, looks: [...state.looks, look] },
      skipped: true,
    };
  }
  const cumulative = spendTotalAlpha(spending, alpha, t, sides, convention);
  const target = cumulative - state.spentAlpha;
  const boundary = target > 0 ? solveBoundary(prev, t, sides, target) : Number.POSITIVE_INFINITY;
  const lo = sides === 2 ? -boundary : Number.NEGATIVE_INFINITY;
  const density =
    prev === null
      ? firstDensity(t, 0, lo, boundary, gridResolution)
      : nextDensity(
          prev,
          t,
          0,
          lo,
          boundary,
          t < prev.t * (1 + FINE_GRID_GAIN) ? 2 * gridResolution : gridResolution,
        );
  const spentAlpha = target > 0 ? cumulative : state.spentAlpha;
  const look: BoundaryLook = {
    informationFraction: t,
    cumulativeAlpha: spentAlpha,
    boundary: Number.isFinite(boundary) ? boundary : null,
  };
  return {
    boundary,
    state: { ...state, looks: [...state.looks, look], density, spentAlpha },
    skipped: false,
  };
}

/** Inputs of `groupSequentialBoundaries`. */
export interface GroupSequentialInput extends BoundaryDesignInput {
  informationFractions: readonly number[];
}

/**
 * Upper boundaries b_k on the z scale for the given information fractions (one-sided: reject when Z_k ≥ b_k;
 * two-sided: when |Z_k| ≥ b_k); +∞ where no α can be spent yet.
 */
export function groupSequentialBoundaries(input: GroupSequentialInput): number[] {
  let state = createBoundaryState(input);
  const out: number[] = [];
  for (const t of input.informationFractions) {
    const next = extendBoundaries(state, t);
    out.push(next.boundary);
    state = next.state;
  }
  return out;
}

/** The boundaries recorded in a state, with null (+∞) turned back into Infinity. */
export function boundariesOf(state: BoundaryState): number[] {
  return state.looks.map((l) => l.boundary ?? Number.POSITIVE_INFINITY);
}

/** α still unspent after the last look of the state (the level left for an overrun confidence sequence). */
export function unspentAlpha(state: BoundaryState): number {
  return Math.max(0, state.design.alpha - state.spentAlpha);
}
