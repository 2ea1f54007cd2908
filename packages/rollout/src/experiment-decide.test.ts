import { describe, expect, it } from 'vitest';
import { decideExperiment, type ExperimentDecision, type ExperimentEvidence } from './experiment-decide.ts';
import {
  type ArmTruth,
  baseExperimentInput,
  experimentOf,
  simulateExperiment,
} from './experiment-fixtures.ts';
import type { ExperimentPlan } from './experiment-plan.ts';
import { applyExperimentAction, createExperimentState, type ExperimentState } from './experiment-state.ts';
import { DAY, proportionStats, T0 } from './testing.ts';

const plan = experimentOf(baseExperimentInput);
const NEW_UNITS_PER_DAY = 40_000;
const MAX_DAYS = 28;

function start(p: ExperimentPlan): ExperimentState {
  const r = applyExperimentAction(p, createExperimentState(), { action: 'start', now: T0, actor: 'alice' });
  if (!r.ok) throw new Error(r.error.message);
  return r.state;
}

/** One cohort of conversion and crash counts per variant: `{ variant: [units, conversions, crashes] }`. */
function evidenceOf(arms: Record<string, [number, number, number]>): ExperimentEvidence {
  const pick = (k: 1 | 2) =>
    Object.fromEntries(Object.entries(arms).map(([v, a]) => [v, proportionStats(a[0], a[k])]));
  const units = Object.fromEntries(Object.entries(arms).map(([v, a]) => [v, a[0]]));
  return {
    units,
    assignments: [{ epoch: 0, counts: units }],
    metrics: {
      conversion: { hasData: true, cohorts: [{ epoch: 0, arms: pick(1) }] },
      crash_rate: { hasData: true, cohorts: [{ epoch: 0, arms: pick(2) }] },
    },
    unitsPerDay: NEW_UNITS_PER_DAY,
  };
}

/** Runs daily looks of a simulated experiment until it recommends anything but continue, or MAX_DAYS pass. */
function runExperiment(
  p: ExperimentPlan,
  truth: Record<string, ArmTruth>,
  seed: number,
): ExperimentDecision[] {
  const sim = simulateExperiment({ plan: p, truth, unitsPerDay: NEW_UNITS_PER_DAY, seed });
  let state = start(p);
  const decisions: ExperimentDecision[] = [];
  for (let day = 1; day <= MAX_DAYS; day++) {
    const d = decideExperiment(p, state, sim.next(), T0 + day * DAY);
    decisions.push(d);
    state = d.nextState;
    if (d.recommendation !== 'continue') break;
  }
  return decisions;
}

const HEALTHY = { conversion: 0.1, crash: 0.02 };

/** P(Binomial(n, p) ≥ k), summed exactly. */
function binomialTail(n: number, p: number, k: number): number {
  let total = 0;
  let term = (1 - p) ** n;
  for (let i = 0; i <= n; i++) {
    if (i >= k) total += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return total;
}

describe('decideExperiment on simulated experiments', { timeout: 120_000 }, () => {
  it('recommends shipping a variant with a real lift on the success metric and no harm', () => {
    const decisions = runExperiment(plan, { control: HEALTHY, green: { conversion: 0.11, crash: 0.02 } }, 7);
    const last = decisions[decisions.length - 1] as ExperimentDecision;
    expect(last).toMatchObject({ recommendation: 'ship', rule: 'winner', winner: 'green', applied: false });
    expect(last.reason).toMatch(/^Ship green: conversion \+\d/);
    expect(last.metrics.conversion?.green).toMatchObject({
      role: 'success',
      verdict: 'better',
      status: 'assessed',
    });
    expect(last.metrics.crash_rate?.green?.verdict).toBe('non_inferior');
    const lift = last.metrics.conversion?.green?.summary;
    expect(lift?.relativeLiftInterval[0]).toBeGreaterThan(0);
    expect(lift?.relativeLiftInterval[0]).toBeLessThan(0.1);
    expect(lift?.relativeLiftInterval[1]).toBeGreaterThan(0.1);
    expect(decisions.length).toBeGreaterThanOrEqual(7);
    expect(decisions.slice(0, -1).every((d) => d.recommendation === 'continue')).toBe(true);
  });

  it('aborts a variant that wins on the success metric but harms a guardrail', () => {
    const decisions = runExperiment(plan, { control: HEALTHY, green: { conversion: 0.11, crash: 0.03 } }, 7);
    const last = decisions[decisions.length - 1] as ExperimentDecision;
    expect(last).toMatchObject({ recommendation: 'abort', rule: 'deterioration', winner: null });
    expect(last.reason).toMatch(/^crash_rate is worse for green: crash_rate \+\d+(\.\d+)?% relative/);
    expect(decisions.some((d) => d.recommendation === 'ship')).toBe(false);
  });

  it('ships an A/A experiment in at most its false-positive bound over 50 fixed seeds', () => {
    const SEEDS = 50;
    // The rule ships only when a success metric is better at level α = 0.05, so ships ~ Binomial(50, ≤ 0.05):
    // allow the largest count whose exceedance is still unlikely, P(X ≥ bound + 1) < 0.001.
    let bound = 0;
    while (binomialTail(SEEDS, 0.05, bound + 1) >= 0.001) bound++;
    expect(bound).toBe(8);
    const endings = Array.from({ length: SEEDS }, (_, i) => {
      const decisions = runExperiment(plan, { control: HEALTHY, green: HEALTHY }, 1000 + i);
      return (decisions[decisions.length - 1] as ExperimentDecision).recommendation;
    });
    const count = (r: string) => endings.filter((e) => e === r).length;
    expect(count('ship')).toBeLessThanOrEqual(bound);
    expect(count('abort')).toBeLessThanOrEqual(bound);
    // Nothing wins, so most experiments stop at their planned sample.
    expect(count('stop')).toBeGreaterThanOrEqual(SEEDS - 2 * bound);
  });
});

describe('decideExperiment on fixed evidence', { timeout: 60_000 }, () => {
  const week = T0 + 8 * DAY;

  it('continues with the reason when the winner has a guardrail not yet shown non-inferior', () => {
    const d = decideExperiment(
      plan,
      start(plan),
      evidenceOf({ control: [20_000, 2_000, 400], green: [20_000, 2_300, 420] }),
      week,
    );
    expect(d).toMatchObject({ recommendation: 'continue', rule: 'guardrails_pending', winner: null });
    expect(d.variants.green).toMatchObject({
      verdict: 'blocked',
      better: ['conversion'],
      pendingGuardrails: ['crash_rate'],
    });
    expect(d.reason).toMatch(
      /green is significantly better on conversion.*not yet: crash_rate \(\+5%, margin 10%; z = /,
    );
    expect(d.plannedUnits).toBeGreaterThan(0);
  });

  it('aborts at once when a guardrail clearly deteriorates', () => {
    const d = decideExperiment(
      plan,
      start(plan),
      evidenceOf({ control: [20_000, 2_000, 400], green: [20_000, 2_300, 600] }),
      week,
    );
    expect(d).toMatchObject({ recommendation: 'abort', rule: 'deterioration' });
    expect(d.metrics.crash_rate?.green?.verdict).toBe('worse');
  });

  it('chooses the best of several significant winners', () => {
    const three = experimentOf({
      ...baseExperimentInput,
      variants: [
        { variant: 'control', weight: 34 },
        { variant: 'green', weight: 33 },
        { variant: 'orange', weight: 33 },
      ],
      guardrails: [],
    });
    const d = decideExperiment(
      three,
      start(three),
      evidenceOf({
        control: [20_000, 2_000, 400],
        green: [20_000, 2_400, 400],
        orange: [20_000, 2_600, 400],
      }),
      week,
    );
    expect(d).toMatchObject({ recommendation: 'ship', winner: 'orange' });
    expect(d.variants.green?.verdict).toBe('winner');
    expect(d.reason).toMatch(/best of 2 winning variants/);
  });

  it('applies the ship in automatic mode', () => {
    const auto = experimentOf({ ...baseExperimentInput, mode: 'automatic', guardrails: [] });
    const d = decideExperiment(
      auto,
      start(auto),
      evidenceOf({ control: [20_000, 2_000, 400], green: [20_000, 2_400, 400] }),
      week,
    );
    expect(d).toMatchObject({
      recommendation: 'ship',
      applied: true,
      event: { type: 'ship', actor: 'controller', rule: 'winner' },
    });
    expect(d.nextState).toMatchObject({ status: 'shipped', shippedVariant: 'green' });
  });

  it('waits for the minimum duration before recommending a ship', () => {
    const early = decideExperiment(
      plan,
      start(plan),
      evidenceOf({ control: [20_000, 2_000, 400], green: [20_000, 2_400, 400] }),
      T0 + 2 * DAY,
    );
    expect(early.rule === 'min_duration' || early.rule === 'guardrails_pending').toBe(true);
    expect(early.recommendation).toBe('continue');
    const noGuard = experimentOf({ ...baseExperimentInput, guardrails: [] });
    const d = decideExperiment(
      noGuard,
      start(noGuard),
      evidenceOf({ control: [20_000, 2_000, 400], green: [20_000, 2_400, 400] }),
      T0 + 2 * DAY,
    );
    expect(d).toMatchObject({ recommendation: 'continue', rule: 'min_duration' });
    expect(d.reason).toMatch(/run 2d of its minimum 7d/);
  });

  it('holds on a sample-ratio mismatch, or aborts when the plan says so', () => {
    const skewed = evidenceOf({ control: [23_000, 2_300, 460], green: [19_000, 2_280, 380] });
    const d = decideExperiment(plan, start(plan), skewed, week);
    expect(d).toMatchObject({ recommendation: 'continue', rule: 'srm' });
    expect(d.srm?.mismatch).toBe(true);
    expect(d.reason).toMatch(/Sample-ratio mismatch.*control 23,000, green 19,000 against weights 50\/50/);
    const strict = experimentOf({ ...baseExperimentInput, srmAction: 'abort' });
    expect(decideExperiment(strict, start(strict), skewed, week)).toMatchObject({
      recommendation: 'abort',
      rule: 'srm',
    });
  });

  it('checks the split of every coverage epoch against the weights', () => {
    const uneven = experimentOf({
      ...baseExperimentInput,
      variants: [
        { variant: 'control', weight: 80 },
        { variant: 'green', weight: 20 },
      ],
    });
    const grown = applyExperimentAction(uneven, start(uneven), {
      action: 'set_coverage',
      coverage: 60,
      now: T0 + DAY,
      actor: 'alice',
    });
    if (!grown.ok) throw new Error(grown.error.message);
    const base = evidenceOf({ control: [40_000, 4_000, 800], green: [10_000, 1_000, 200] });
    const fair = {
      ...base,
      assignments: [
        { epoch: 0, counts: { control: 8_000, green: 2_000 } },
        { epoch: 1, counts: { control: 32_000, green: 8_000 } },
      ],
    };
    const d = decideExperiment(uneven, grown.state, fair, week);
    expect(d.srm).toMatchObject({
      mismatch: false,
      epochs: [
        { epoch: 0, expected: [80, 20] },
        { epoch: 1, expected: [80, 20] },
      ],
    });
    const even = {
      ...base,
      assignments: [
        { epoch: 0, counts: { control: 8_000, green: 2_000 } },
        { epoch: 1, counts: { control: 20_000, green: 20_000 } },
      ],
    };
    expect(decideExperiment(uneven, grown.state, even, week)).toMatchObject({
      rule: 'srm',
      srm: { mismatch: true },
    });
  });

  it('plans nothing and tests nothing before every arm has its minimum units', () => {
    const d = decideExperiment(
      plan,
      start(plan),
      evidenceOf({ control: [600, 60, 12], green: [600, 90, 12] }),
      week,
    );
    expect(d).toMatchObject({ recommendation: 'continue', rule: 'min_units', plannedUnits: null });
    expect(d.metrics.conversion?.green?.status).toBe('waiting_for_plan');
    expect(d.nextState.monitoring?.metrics.conversion?.green?.test).toBeNull();
  });

  it('plans once one success metric has data, so harm is watched while another metric waits for its events', () => {
    const two = experimentOf({
      ...baseExperimentInput,
      successMetrics: [
        { metric: 'conversion', mde: 0.05 },
        { metric: 'latency', mde: 0.02 },
      ],
    });
    const ev = evidenceOf({ control: [20_000, 2_000, 400], green: [20_000, 2_000, 600] });
    const d = decideExperiment(two, start(two), ev, week);
    expect(d).toMatchObject({ recommendation: 'abort', rule: 'deterioration' });
    expect(d.metrics.latency?.green).toMatchObject({ status: 'no_data', verdict: 'no_data' });
    const none = { ...ev, metrics: { ...ev.metrics, conversion: { hasData: false, cohorts: [] } } };
    const waiting = decideExperiment(plan, start(plan), none, week);
    expect(waiting).toMatchObject({ recommendation: 'continue', rule: 'missing_data', plannedUnits: null });
  });

  it('decides nothing for an experiment that is not running or for unusable evidence', () => {
    const ev = evidenceOf({ control: [20_000, 2_000, 400], green: [20_000, 2_400, 400] });
    expect(decideExperiment(plan, createExperimentState(), ev, week)).toMatchObject({ rule: 'not_running' });
    const broken = { ...ev, units: { control: -1, green: 3 } };
    const d = decideExperiment(plan, start(plan), broken, week);
    expect(d).toMatchObject({ rule: 'invalid_evidence', recommendation: 'continue' });
    expect(d.reason).toMatch(/units.control must be a count/);
  });

  it('is deterministic: the same inputs give deep-equal decisions', () => {
    const ev = evidenceOf({ control: [20_000, 2_000, 400], green: [20_000, 2_300, 420] });
    const s = start(plan);
    expect(decideExperiment(plan, s, ev, week)).toEqual(decideExperiment(plan, s, ev, week));
  });
});
