// Lan–DeMets alpha-spending functions: how much of the type I error may be used by information fraction t.

import { normalSf, normalSfQuantile } from './normal.ts';

/** An alpha-spending function: power family α·t^ρ, O'Brien–Fleming-type or Pocock-type. */
export type Spending = { kind: 'power'; rho: number } | { kind: 'obrien-fleming' } | { kind: 'pocock' };

/**
 * How a two-sided design spends α: `per-side` spends α/2 on each side with the one-sided function
 * (the default, as the reference tools do); `total` applies the function to α and splits it over both tails.
 * The two agree for the power and Pocock families and differ only for O'Brien–Fleming.
 */
export type TwoSidedConvention = 'per-side' | 'total';

/** Default ρ of the rollback (deterioration) test: front-loaded so early stages can catch large regressions. */
export const DEFAULT_DETERIORATION_RHO = 0.5;
/** Default ρ of the non-inferiority and superiority tests: back-loaded, most α kept for the planned end. */
export const DEFAULT_NON_INFERIORITY_RHO = 2;

/** Cumulative one-sided α spent by information fraction t (capped at 1) under `spending` with total `alpha`. */
export function spendAlpha(spending: Spending, alpha: number, t: number): number {
  if (!(t > 0)) return 0;
  const u = Math.min(1, t);
  if (u === 1) return alpha;
  switch (spending.kind) {
    case 'power':
      return alpha * u ** spending.rho;
    case 'obrien-fleming':
      return 2 * normalSf(normalSfQuantile(alpha / 2) / Math.sqrt(u));
    case 'pocock':
      return alpha * Math.log(1 + (Math.E - 1) * u);
  }
}

/** Cumulative α spent over all sides by fraction t (both tails together when sides = 2). */
export function spendTotalAlpha(
  spending: Spending,
  alpha: number,
  t: number,
  sides: 1 | 2,
  convention: TwoSidedConvention = 'per-side',
): number {
  if (sides === 1 || convention === 'total') return spendAlpha(spending, alpha, t);
  return 2 * spendAlpha(spending, alpha / 2, t);
}

/** Parses a spending description, returning issues that name what was expected. */
export function validateSpending(
  value: unknown,
): { ok: true; value: Spending } | { ok: false; issues: string[] } {
  if (typeof value !== 'object' || value === null)
    return { ok: false, issues: ['spending: expected an object'] };
  const v = value as Record<string, unknown>;
  if (v.kind === 'obrien-fleming' || v.kind === 'pocock') return { ok: true, value: { kind: v.kind } };
  if (v.kind === 'power') {
    if (typeof v.rho === 'number' && Number.isFinite(v.rho) && v.rho > 0)
      return { ok: true, value: { kind: 'power', rho: v.rho } };
    return { ok: false, issues: ['spending.rho: expected a positive finite number'] };
  }
  return { ok: false, issues: ["spending.kind: expected 'power', 'obrien-fleming' or 'pocock'"] };
}
