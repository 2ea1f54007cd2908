import { fixedHorizonInformation, inflationFactor } from '@dimmer/stats';
import { describe, expect, it } from 'vitest';
import { baseExperimentInput, experimentOf } from './experiment-fixtures.ts';
import { planExperimentSample, superiorityAlpha } from './experiment-planning.ts';
import { DAY } from './testing.ts';

const baselines = {
  conversion: { mean: 0.1 },
  crash_rate: { mean: 0.02 },
  latency: { mean: 200, variance: 6400 },
};
const ONE_SIDED = 0.05;
const POWER = 0.8;

/** Inflation factor at ρ = 2 for `looks` equally spaced looks, straight from the stats package. */
function inflation(alpha: number, power: number, looks: number): number {
  return inflationFactor({
    alpha,
    power,
    spending: { kind: 'power', rho: 2 },
    informationFractions: Array.from({ length: looks }, (_, k) => (k + 1) / looks),
  });
}

// Each new (α, power, looks) solves the inflation factor by a root search over the power recursion: slow.
describe('planExperimentSample', { timeout: 60_000 }, () => {
  it('needs (z_{1−α} + z_{1−β})²/δ² × the ρ = 2 inflation factor, turned into units by the arms’ shares', () => {
    const plan = experimentOf({ ...baseExperimentInput, guardrails: [] });
    const sample = planExperimentSample(plan, { unitsPerDay: 100_000, baselines });
    const conversion = sample.metrics[0];
    const factor = inflation(ONE_SIDED, POWER, sample.looks);
    const information = fixedHorizonInformation({ margin: 0.005, alpha: ONE_SIDED, power: POWER }) * factor;
    expect(conversion).toMatchObject({ metric: 'conversion', role: 'success', alpha: 0.05, power: 0.8 });
    expect(conversion?.inflationFactor).toBeCloseTo(factor, 10);
    expect(conversion?.requiredInformation).toBeCloseTo(information, 4);
    // Var(Δ) = p(1 − p)(1/n_T + 1/n_C) with n = N/2 each: N = I · p(1 − p) · 4.
    expect(sample.coveredUnits).toBeCloseTo(information * 0.09 * 4, 4);
    expect(sample.unitsPerArm.control).toBeCloseTo(sample.coveredUnits / 2, 6);
    // 20% coverage of 100,000 new units a day: 20,000 a day; the week's minimum dominates a short sample.
    expect(sample.coveredUnitsPerDay).toBe(20_000);
    expect(sample.sampleDurationMs).toBeCloseTo((sample.coveredUnits / 20_000) * DAY, 0);
    expect(sample.looks).toBe(Math.ceil(sample.coveredUnits / 20_000));
    expect(sample.durationMs).toBe(Math.max(7 * DAY, sample.sampleDurationMs));
  });

  it('splits α over success metrics and treatments (Bonferroni), so each needs more units', () => {
    const one = experimentOf({ ...baseExperimentInput, guardrails: [] });
    const two = experimentOf({
      ...baseExperimentInput,
      guardrails: [],
      successMetrics: [
        { metric: 'conversion', mde: 0.05 },
        { metric: 'latency', mde: 0.02 },
      ],
    });
    const three = experimentOf({
      ...two,
      variants: [
        { variant: 'control', weight: 34 },
        { variant: 'green', weight: 33 },
        { variant: 'orange', weight: 33 },
      ],
    });
    expect(superiorityAlpha(one)).toBe(0.05);
    expect(superiorityAlpha(two)).toBe(0.025);
    expect(superiorityAlpha(three)).toBe(0.0125);
    const a = planExperimentSample(one, { unitsPerDay: 100_000, baselines }).metrics[0];
    const b = planExperimentSample(two, { unitsPerDay: 100_000, baselines }).metrics[0];
    expect(b?.alpha).toBe(0.025);
    expect(b?.requiredInformation).toBeGreaterThan(a?.requiredInformation as number);
  });

  it('plans guardrails at power 1 − β/G for their margins, and the largest need sets the sample', () => {
    const plan = experimentOf({
      ...baseExperimentInput,
      guardrails: [{ metric: 'crash_rate' }, { metric: 'latency' }],
    });
    const sample = planExperimentSample(plan, { unitsPerDay: 100_000, baselines });
    const crash = sample.metrics.find((m) => m.metric === 'crash_rate');
    expect(crash).toMatchObject({
      role: 'guardrail',
      alpha: 0.05,
      power: 0.9,
      effect: 0.002,
      relativeEffect: 0.1,
    });
    expect(sample.coveredUnits).toBe(Math.max(...sample.metrics.map((m) => m.coveredUnits)));
    expect(sample.drivingMetric).toBe(
      sample.metrics.find((m) => m.coveredUnits === sample.coveredUnits)?.metric,
    );
  });

  it('needs more units when the split is uneven, and takes longer at lower coverage', () => {
    const even = experimentOf({ ...baseExperimentInput, guardrails: [] });
    const uneven = experimentOf({
      ...even,
      variants: [
        { variant: 'control', weight: 80 },
        { variant: 'green', weight: 20 },
      ],
    });
    const a = planExperimentSample(even, { unitsPerDay: 100_000, baselines });
    const b = planExperimentSample(uneven, { unitsPerDay: 100_000, baselines });
    expect(b.coveredUnits / a.coveredUnits).toBeCloseTo(
      (((1 / 0.2 + 1 / 0.8) / 4) * (b.metrics[0]?.inflationFactor as number)) /
        (a.metrics[0]?.inflationFactor as number),
      6,
    );
    const low = planExperimentSample(even, { unitsPerDay: 100_000, baselines, coverage: 5 });
    expect(low.coveredUnitsPerDay).toBe(5_000);
    expect(low.sampleDurationMs).toBeGreaterThan(a.sampleDurationMs);
  });

  it('warns about metrics without a baseline and about traffic that never ends the experiment', () => {
    const plan = experimentOf(baseExperimentInput);
    const sample = planExperimentSample(plan, { unitsPerDay: 0, baselines: {} });
    expect(sample.coveredUnits).toBe(0);
    expect(sample.sampleDurationMs).toBe(Number.POSITIVE_INFINITY);
    expect(sample.warnings).toEqual([
      expect.stringMatching(/0 units a day/),
      expect.stringMatching(/^conversion: no baseline/),
      expect.stringMatching(/^crash_rate: no baseline/),
    ]);
  });
});
