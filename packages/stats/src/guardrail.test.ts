import { describe, expect, it } from 'vitest';
import {
  assessGuardrail,
  createGuardrailState,
  type GuardrailConfig,
  type GuardrailLookInput,
  type GuardrailState,
} from './guardrail.ts';
import { type CohortStats, combineCohorts, type MetricKind } from './metrics.ts';

function proportionCohort(nT: number, xT: number, nC: number, xC: number): CohortStats {
  return { treatment: { n: nT, sumY: xT, sumY2: xT }, control: { n: nC, sumY: xC, sumY2: xC } };
}

function lookOf(kind: MetricKind, cohorts: CohortStats[]): GuardrailLookInput {
  const estimate = combineCohorts(kind, cohorts);
  if (estimate === null) throw new Error('no usable cohort');
  return { kind, cohorts, estimate };
}

const config: GuardrailConfig = {
  direction: 'higher_is_worse',
  maxInformation: 1_000_000,
  rollbackAlpha: 0.05 / 6,
  nonInferiority: { margin: { relative: 0.05 } },
};

describe('guardrail looks', () => {
  it('detects harm when Z crosses the boundary, and the verdict sticks', () => {
    let state: GuardrailState = createGuardrailState(config);
    const first = assessGuardrail(
      state,
      config,
      lookOf('proportion', [proportionCohort(20_000, 600, 20_000, 400)]),
    );
    expect(first.summary.information).toBe(10_000);
    expect(first.summary.informationFraction).toBeCloseTo(0.01, 15);
    expect(first.summary.gating.method).toBe('arcsine');
    expect(first.summary.deterioration.z).toBeGreaterThan(6);
    expect(first.summary.deterioration.boundary).not.toBeNull();
    expect(first.summary.verdict).toBe('harm_detected');
    state = first.state;
    const second = assessGuardrail(
      state,
      config,
      lookOf('proportion', [proportionCohort(80_000, 1600, 80_000, 1600)]),
    );
    expect(second.summary.deterioration.rejected).toBe(false);
    expect(second.summary.verdict).toBe('harm_detected');
    expect(JSON.parse(JSON.stringify(second.summary))).toEqual(second.summary);
  });

  it('declares non-inferiority when the upper bound of harm is below the margin', () => {
    const state = createGuardrailState(config);
    const look = assessGuardrail(
      state,
      config,
      lookOf('proportion', [proportionCohort(1_000_000, 19_000, 1_000_000, 20_000)]),
    );
    expect(look.summary.nonInferiority?.margin).toBeCloseTo(0.001, 15);
    expect(look.summary.verdict).toBe('non_inferior');
  });

  it('hands over to the one-sided confidence sequence at the unspent α once information overruns the plan', () => {
    let state = createGuardrailState(config);
    state = assessGuardrail(
      state,
      config,
      lookOf('proportion', [proportionCohort(1e6, 2e4, 1e6, 2e4)]),
    ).state;
    const over = assessGuardrail(state, config, lookOf('proportion', [proportionCohort(4e6, 8e4, 4e6, 8e4)]));
    expect(over.summary.deterioration.mode).toBe('confidence-sequence');
    expect(over.summary.informationFraction).toBe(2);
    expect(over.state.deterioration.overrun?.tuningN).toBe(2_000_000);
    expect(over.state.deterioration.overrun?.alpha).toBeCloseTo((0.05 / 6) * (1 - Math.sqrt(0.5)), 15);
  });

  it('skips a look that adds under 1% information, recording its z, and gives the next look a finite boundary', () => {
    let state = createGuardrailState(config);
    state = assessGuardrail(
      state,
      config,
      lookOf('proportion', [proportionCohort(20_000, 400, 20_000, 400)]),
    ).state;
    const small = assessGuardrail(
      state,
      config,
      lookOf('proportion', [proportionCohort(20_100, 430, 20_100, 402)]),
    );
    expect(small.summary.deterioration.skipped).toBe('information_gain');
    expect(small.summary.deterioration.boundary).toBeNull();
    expect(small.summary.deterioration.z).toBeGreaterThan(0.5);
    expect(small.state.deterioration.boundary.spentAlpha).toBe(state.deterioration.boundary.spentAlpha);
    const next = assessGuardrail(
      small.state,
      config,
      lookOf('proportion', [proportionCohort(20_300, 430, 20_300, 406)]),
    );
    expect(next.summary.deterioration.skipped).toBeNull();
    expect(next.summary.deterioration.boundary).toBeGreaterThan(0);
    expect(Number.isFinite(next.summary.deterioration.boundary)).toBe(true);
  });

  it('spends no α before a rare proportion expects 10 events in the smaller arm, then spends all that waited', () => {
    let state = createGuardrailState(config);
    // 0.1% metric: 5,000 treatment units expect 5 events at the control rate; harm looks huge but cannot spend.
    const early = assessGuardrail(
      state,
      config,
      lookOf('proportion', [proportionCohort(5_000, 12, 495_000, 495)]),
    );
    expect(early.summary.gating.minimum).toMatchObject({ met: false, rule: 'expected_events', required: 10 });
    expect(early.summary.gating.minimum.value).toBeCloseTo(5, 10);
    expect(early.summary.deterioration).toMatchObject({
      skipped: 'minimum_information',
      boundary: null,
      rejected: false,
    });
    state = early.state;
    expect(state.deterioration.boundary.spentAlpha).toBe(0);
    const later = assessGuardrail(
      state,
      config,
      lookOf('proportion', [proportionCohort(10_000, 11, 990_000, 990)]),
    );
    expect(later.summary.gating.minimum.met).toBe(true);
    const t = later.summary.informationFraction;
    expect(later.state.deterioration.boundary.spentAlpha).toBeCloseTo((0.05 / 6) * Math.sqrt(t), 15);
  });

  it('asks a skewed mean for 25·γ̂² units in the smaller arm (Cochran) and falls back to 100 without Σy³', () => {
    // Control: 10,000 units, 1% at 100 and the rest 0 → per-unit skewness ≈ 9.85, so ≈ 2,425 units are needed.
    const control = { n: 10_000, sumY: 100 * 100, sumY2: 100 * 100 ** 2, sumY3: 100 * 100 ** 3 };
    const treatment = { n: 1_000, sumY: 10 * 100, sumY2: 10 * 100 ** 2, sumY3: 10 * 100 ** 3 };
    const skewed = assessGuardrail(
      createGuardrailState(config),
      config,
      lookOf('mean', [{ treatment, control }]),
    );
    expect(skewed.summary.gating.minimum.rule).toBe('cochran');
    expect(skewed.summary.gating.controlUnitSkewness).toBeCloseTo(9.85, 2);
    expect(skewed.summary.gating.minimum.required).toBeCloseTo(25 * 9.85 ** 2, -1);
    expect(skewed.summary.deterioration.skipped).toBe('minimum_information');
    const { sumY3: _a, ...c } = control;
    const { sumY3: _b, ...t } = treatment;
    const unknown = assessGuardrail(
      createGuardrailState(config),
      config,
      lookOf('mean', [{ treatment: t, control: c }]),
    );
    expect(unknown.summary.gating).toMatchObject({ method: 'wald', skewness: null });
    expect(unknown.summary.gating.minimum).toMatchObject({
      rule: 'skewness_unknown',
      required: 100,
      met: true,
    });
    expect(unknown.summary.deterioration.skipped).toBeNull();
  });
});
