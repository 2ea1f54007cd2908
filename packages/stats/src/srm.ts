// Sample-ratio mismatch: the sequential Dirichlet-multinomial test (gating) and a χ² test (display only).

import { logGamma, regularizedGammaQ } from './special.ts';

/** Dirichlet concentration of the sequential SRM test's prior (centred on the expected split). */
export const DEFAULT_SRM_CONCENTRATION = 10_000;
/** Always-valid p below which the split is declared mismatched. */
export const DEFAULT_SRM_THRESHOLD = 0.001;

/** Pearson χ² goodness-of-fit of observed counts to expected weights (any positive scale); for display only. */
export function srmChiSquare(input: { observed: readonly number[]; weights: readonly number[] }): {
  chi2: number;
  df: number;
  pValue: number;
} {
  const total = input.observed.reduce((a, b) => a + b, 0);
  const wsum = input.weights.reduce((a, b) => a + b, 0);
  let chi2 = 0;
  input.observed.forEach((o, i) => {
    const e = (total * (input.weights[i] ?? 0)) / wsum;
    chi2 += ((o - e) * (o - e)) / e;
  });
  const df = input.observed.length - 1;
  return { chi2, df, pValue: regularizedGammaQ(df / 2, chi2 / 2) };
}

/** One stage of the sequential SRM test: its expected split and the Dirichlet posterior so far. */
export interface SrmStage {
  stage: string;
  expected: number[];
  posterior: number[];
  logBayesFactor: number;
}

/** Resumable, JSON-serialisable state of the sequential SRM test. */
export interface SrmState {
  concentration: number;
  stages: SrmStage[];
  /** Sum of the stages' log Bayes factors. */
  logBayesFactor: number;
  /** Always-valid p: running minimum of 1/BF (capped at 1). */
  pValue: number;
}

/** Starts a sequential SRM test (concentration c of the Dirichlet prior, default 10,000). */
export function createSrmState(concentration: number = DEFAULT_SRM_CONCENTRATION): SrmState {
  return { concentration, stages: [], logBayesFactor: 0, pValue: 1 };
}

/**
 * Adds counts of newly assigned units per variant in `stage` (expected split `expected`, any positive scale);
 * the stage's log Bayes factor grows by log DM(x | posterior) − log Mult(x | expected), and stages add up.
 */
export function updateSrm(
  state: SrmState,
  input: { stage: string; expected: readonly number[]; counts: readonly number[] },
): SrmState {
  const wsum = input.expected.reduce((a, b) => a + b, 0);
  const p0 = input.expected.map((w) => w / wsum);
  const existing = state.stages.find((s) => s.stage === input.stage);
  const prior = existing ? existing.posterior : p0.map((p) => p * state.concentration);
  const n = input.counts.reduce((a, b) => a + b, 0);
  const priorTotal = prior.reduce((a, b) => a + b, 0);
  let logBf = logGamma(priorTotal) - logGamma(priorTotal + n);
  input.counts.forEach((x, i) => {
    if (x === 0) return;
    const a = prior[i] ?? 0;
    const p = p0[i] ?? 0;
    logBf += p > 0 ? logGamma(a + x) - logGamma(a) - x * Math.log(p) : Number.POSITIVE_INFINITY;
  });
  const posterior = prior.map((a, i) => a + (input.counts[i] ?? 0));
  const stage: SrmStage = {
    stage: input.stage,
    expected: [...input.expected],
    posterior,
    logBayesFactor: (existing?.logBayesFactor ?? 0) + logBf,
  };
  const stages = existing ? state.stages.map((s) => (s === existing ? stage : s)) : [...state.stages, stage];
  const logBayesFactor = state.logBayesFactor + logBf;
  const pValue = Math.min(state.pValue, Math.min(1, Math.exp(-logBayesFactor)));
  return { concentration: state.concentration, stages, logBayesFactor, pValue };
}

/** Always-valid SRM p-values after each batch of counts, all in one stage with expected split `expected`. */
export function sequentialSrmPValues(input: {
  counts: readonly (readonly number[])[];
  expected: readonly number[];
  concentration?: number;
}): number[] {
  let state = createSrmState(input.concentration);
  return input.counts.map((c) => {
    state = updateSrm(state, { stage: 'only', expected: input.expected, counts: c });
    return state.pValue;
  });
}
