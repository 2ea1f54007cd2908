// Per-guardrail tests at each look: the deterioration (rollback) test and the non-inferiority gate, both
// group-sequential on the sample-size information scale (N = Σ_c n_T,c·n_C,c/(n_T,c + n_C,c)), handing over to
// a one-sided confidence sequence at the unspent level once information overruns the plan. Both gate on the
// statistic of gating.ts (arcsine for proportions, skew-corrected for means and ratios). Output is a plain JSON
// summary the dashboard can plot over time.

import { type BoundaryState, createBoundaryState, extendBoundaries, unspentAlpha } from './boundaries.ts';
import { confidenceSequenceHalfWidth } from './confidence-sequence.ts';
import {
  type GatingMethod,
  gatingStatistic,
  type MinimumInformation,
  quantileGatingStatistic,
} from './gating.ts';
import type { CohortStats, CombinedEstimate, MetricKind } from './metrics.ts';
import { DEFAULT_DETERIORATION_RHO, DEFAULT_NON_INFERIORITY_RHO, type Spending } from './spending.ts';

/** Which direction of change harms users. */
export type Direction = 'higher_is_worse' | 'lower_is_worse';
/** Non-inferiority margin: relative (converted with the control mean, θ = NIM·|μ̂_C|) or absolute. */
export type Margin = { relative: number } | { absolute: number };

/** False-rollback rate allowed per rollout, shared by its guardrails (Bonferroni). */
export const DEFAULT_ROLLBACK_ALPHA = 0.05;
/** Level of each guardrail's non-inferiority test (not divided by the number of guardrails). */
export const DEFAULT_NON_INFERIORITY_ALPHA = 0.05;
/** Two-sided level of the displayed confidence sequences. */
export const DEFAULT_INTERVAL_ALPHA = 0.05;
/** Relative harm above which the canary guard rolls back before the stage minimums are met. */
export const DEFAULT_CANARY_THRESHOLD = 0.5;

/** Configuration of one guardrail metric in one rollout. */
export interface GuardrailConfig {
  direction: Direction;
  /**
   * N_max: planned maximum information on the sample-size scale (effective units Σ_c n_T·n_C/(n_T + n_C) at
   * the end of the last gated stage), frozen at the start.
   */
  maxInformation: number;
  /** α_m of the rollback test, e.g. 0.05 / number of guardrails. */
  rollbackAlpha: number;
  /** Default power family ρ = 0.5. */
  rollbackSpending?: Spending;
  nonInferiority?: { margin: Margin; alpha?: number; spending?: Spending };
  /** Two-sided level of the displayed intervals (default 0.05). */
  intervalAlpha?: number;
  /** Tuning N (total units) of the displayed intervals; default: the units at the look. */
  tuningN?: number;
}

/** State of one sequential test (deterioration or non-inferiority); plain JSON. */
export interface SequentialTestState {
  boundary: BoundaryState;
  /** Set once information overran the plan: the level and tuning N of the confidence sequence. */
  overrun: { alpha: number; tuningN: number } | null;
  /** Total units at the last group-sequential look. */
  lastGstUnits: number;
  /** 1-based look at which the test first rejected, or null. */
  rejectedAtLook: number | null;
}

/** State of one guardrail across looks; plain JSON, store it per (rollout, metric). */
export interface GuardrailState {
  looks: number;
  deterioration: SequentialTestState;
  nonInferiority: SequentialTestState | null;
}

/** Verdict of a guardrail at a look. */
export type Verdict = 'harm_detected' | 'non_inferior' | 'inconclusive';

/**
 * Why a look spent no α: `information_gain` — it added less than 1% information over the last look that spent
 * (a skipped look); `minimum_information` — the metric has not yet reached the minimum information of its
 * rollback test (the α waits for the first look that has).
 */
export type SkipReason = 'information_gain' | 'minimum_information';

/** What one sequential test showed at one look (boundaries on the z scale; null = +∞ or not shown). */
export interface TestLook {
  z: number;
  boundary: number | null;
  rejected: boolean;
  mode: 'group-sequential' | 'confidence-sequence';
  /** Set when the look spent no α (no boundary shown); z is still recorded. */
  skipped: SkipReason | null;
}

/** Everything a decision records for one metric at one look; plain JSON. */
export interface GuardrailLookSummary {
  look: number;
  /** t = N / N_max. */
  informationFraction: number;
  /** N: effective units Σ_c n_T,c·n_C,c/(n_T,c + n_C,c) (never falls between looks). */
  information: number;
  /** The statistic the tests gate on, the skewness it corrected for, and the minimum-information check. */
  gating: {
    method: GatingMethod;
    skewness: number | null;
    controlUnitSkewness: number | null;
    minimum: MinimumInformation;
  };
  /** Treatment − control, absolute scale. */
  delta: number;
  se: number;
  /** Two-sided always-valid interval for Δ. */
  interval: [number, number];
  relativeLift: number;
  relativeLiftSe: number;
  relativeLiftInterval: [number, number];
  meanTreatment: number;
  meanControl: number;
  nTreatment: number;
  nControl: number;
  deterioration: TestLook;
  nonInferiority: (TestLook & { margin: number }) | null;
  /** Sticky: true from the first look at which the test rejected. */
  harmDetected: boolean;
  nonInferior: boolean;
  verdict: Verdict;
}

function newSequential(alpha: number, spending: Spending): SequentialTestState {
  return {
    boundary: createBoundaryState({ alpha, spending }),
    overrun: null,
    lastGstUnits: 0,
    rejectedAtLook: null,
  };
}

/** Starts the per-guardrail state (empty boundary computations for both tests). */
export function createGuardrailState(config: GuardrailConfig): GuardrailState {
  const ni = config.nonInferiority;
  return {
    looks: 0,
    deterioration: newSequential(
      config.rollbackAlpha,
      config.rollbackSpending ?? { kind: 'power', rho: DEFAULT_DETERIORATION_RHO },
    ),
    nonInferiority: ni
      ? newSequential(
          ni.alpha ?? DEFAULT_NON_INFERIORITY_ALPHA,
          ni.spending ?? { kind: 'power', rho: DEFAULT_NON_INFERIORITY_RHO },
        )
      : null,
  };
}

/**
 * One look of a one-sided sequential test of a statistic z (> 0 is evidence against H0): group-sequential while
 * t ≤ 1, then the one-sided mixture confidence sequence at the unspent α. `spend: false` (the minimum
 * information not reached) records the look without spending; a look adding under 1% over the last look that
 * spent is skipped.
 */
export function stepSequentialTest(
  state: SequentialTestState,
  look: { index: number; informationFraction: number; z: number; units: number; spend?: boolean },
): { result: TestLook; state: SequentialTestState } {
  const { z } = look;
  const reject = (rejected: boolean) => state.rejectedAtLook ?? (rejected ? look.index : null);
  if (look.spend === false)
    return {
      result: {
        z,
        boundary: null,
        rejected: false,
        mode: 'group-sequential',
        skipped: 'minimum_information',
      },
      state,
    };
  if (state.overrun === null && look.informationFraction <= 1) {
    const ext = extendBoundaries(state.boundary, look.informationFraction);
    const rejected = z >= ext.boundary;
    return {
      result: {
        z,
        boundary: Number.isFinite(ext.boundary) ? ext.boundary : null,
        rejected,
        mode: 'group-sequential',
        skipped: ext.skipped ? 'information_gain' : null,
      },
      state: {
        ...state,
        boundary: ext.state,
        lastGstUnits: ext.skipped ? state.lastGstUnits : look.units,
        rejectedAtLook: reject(rejected),
      },
    };
  }
  const overrun = state.overrun ?? {
    alpha: unspentAlpha(state.boundary),
    tuningN: state.lastGstUnits > 0 ? state.lastGstUnits : look.units,
  };
  // The half-width is proportional to the SE, so on the z scale the boundary is the half-width at SE = 1.
  const boundary = confidenceSequenceHalfWidth({
    se: 1,
    n: look.units,
    tuningN: overrun.tuningN,
    alpha: overrun.alpha,
    sides: 1,
  });
  const rejected = z > boundary;
  return {
    result: {
      z,
      boundary: Number.isFinite(boundary) ? boundary : null,
      rejected,
      mode: 'confidence-sequence',
      skipped: null,
    },
    state: { ...state, overrun, rejectedAtLook: reject(rejected) },
  };
}

/** The absolute non-inferiority margin θ > 0 in metric units (relative margins scale with |μ̂_C|). */
export function absoluteMargin(margin: Margin, controlMean: number): number {
  return 'absolute' in margin ? margin.absolute : margin.relative * Math.abs(controlMean);
}

/** Harm sign h: +1 when higher is worse, −1 when lower is worse. */
export function harmSign(direction: Direction): 1 | -1 {
  return direction === 'higher_is_worse' ? 1 : -1;
}

/**
 * One look of a guardrail: its metric kind, cohorts, and the natural-scale estimate of those cohorts; or, for a
 * quantile metric, the comparison's estimate (`quantileGuardrailEstimate`) with its effective units and whether
 * its minimum information is met.
 */
export type GuardrailLookInput =
  | { kind: MetricKind; cohorts: readonly CohortStats[]; estimate: CombinedEstimate }
  | { kind: 'quantile'; estimate: CombinedEstimate; effectiveUnits: number; minimumMet: boolean };

/**
 * Runs the deterioration test (Z = h·g(Δ̂)/SE ≥ b on the gating scale, once the minimum information is
 * reached) and, when configured, the non-inferiority test (Z = (θ − hΔ̂)/SE ≥ b on the same scale) at
 * t = N/N_max, returning the look's summary and the new state.
 */
export function assessGuardrail(
  state: GuardrailState,
  config: GuardrailConfig,
  look: GuardrailLookInput,
): { summary: GuardrailLookSummary; state: GuardrailState } {
  const { estimate } = look;
  const index = state.looks + 1;
  const units = estimate.nTreatment + estimate.nControl;
  const margin = config.nonInferiority
    ? absoluteMargin(config.nonInferiority.margin, estimate.meanControl)
    : undefined;
  const marginInput = margin !== undefined ? { absoluteMargin: margin } : {};
  const gating =
    look.kind === 'quantile'
      ? quantileGatingStatistic({
          estimate,
          direction: config.direction,
          effectiveUnits: look.effectiveUnits,
          minimumMet: look.minimumMet,
          ...marginInput,
        })
      : gatingStatistic({
          kind: look.kind,
          cohorts: look.cohorts,
          estimate,
          direction: config.direction,
          ...marginInput,
        });
  const t = gating.effectiveUnits / config.maxInformation;
  const det = stepSequentialTest(state.deterioration, {
    index,
    informationFraction: t,
    z: gating.zHarm,
    units,
    spend: gating.minimum.met,
  });
  let ni: { result: TestLook & { margin: number }; state: SequentialTestState } | null = null;
  if (state.nonInferiority && margin !== undefined && gating.zNonInferiority !== null) {
    const step = stepSequentialTest(state.nonInferiority, {
      index,
      informationFraction: t,
      z: gating.zNonInferiority,
      units,
    });
    ni = { result: { ...step.result, margin }, state: step.state };
  }
  const intervalHalfWidth = confidenceSequenceHalfWidth({
    se: estimate.se,
    n: units,
    tuningN: config.tuningN ?? units,
    alpha: config.intervalAlpha ?? DEFAULT_INTERVAL_ALPHA,
    sides: 2,
  });
  const rel = relativeOf(estimate);
  const relHalfWidth = (intervalHalfWidth / estimate.se) * rel.se;
  const harmDetected = det.state.rejectedAtLook !== null;
  const nonInferior = ni !== null && ni.state.rejectedAtLook !== null;
  const summary: GuardrailLookSummary = {
    look: index,
    informationFraction: t,
    information: gating.effectiveUnits,
    gating: {
      method: gating.method,
      skewness: gating.skewness,
      controlUnitSkewness: gating.controlUnitSkewness,
      minimum: gating.minimum,
    },
    delta: estimate.delta,
    se: estimate.se,
    interval: [estimate.delta - intervalHalfWidth, estimate.delta + intervalHalfWidth],
    relativeLift: rel.lift,
    relativeLiftSe: rel.se,
    relativeLiftInterval: [rel.lift - relHalfWidth, rel.lift + relHalfWidth],
    meanTreatment: estimate.meanTreatment,
    meanControl: estimate.meanControl,
    nTreatment: estimate.nTreatment,
    nControl: estimate.nControl,
    deterioration: det.result,
    nonInferiority: ni ? ni.result : null,
    harmDetected,
    nonInferior,
    verdict: harmDetected ? 'harm_detected' : nonInferior ? 'non_inferior' : 'inconclusive',
  };
  return {
    summary,
    state: { looks: index, deterioration: det.state, nonInferiority: ni ? ni.state : state.nonInferiority },
  };
}

function relativeOf(e: CombinedEstimate): { lift: number; se: number } {
  const lift = e.meanTreatment / e.meanControl - 1;
  const variance =
    e.varianceTreatment / (e.meanControl * e.meanControl) +
    (e.meanTreatment * e.meanTreatment * e.varianceControl) / e.meanControl ** 4;
  return { lift, se: Math.sqrt(variance) };
}

/**
 * Canary guard: true when the one-sided confidence sequence shows relative harm above `threshold`
 * (default 50%) — h·lift − halfWidth > threshold — usable before the stage minimums are met.
 */
export function canaryGuard(input: {
  estimate: CombinedEstimate;
  direction: Direction;
  alpha: number;
  tuningN: number;
  threshold?: number;
}): { triggered: boolean; lowerBound: number } {
  const rel = relativeOf(input.estimate);
  const units = input.estimate.nTreatment + input.estimate.nControl;
  const halfWidth = confidenceSequenceHalfWidth({
    se: rel.se,
    n: units,
    tuningN: input.tuningN,
    alpha: input.alpha,
    sides: 1,
  });
  const lowerBound = harmSign(input.direction) * rel.lift - halfWidth;
  return { triggered: lowerBound > (input.threshold ?? DEFAULT_CANARY_THRESHOLD), lowerBound };
}
