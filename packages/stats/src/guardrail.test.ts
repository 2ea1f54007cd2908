import { describe, expect, it } from 'vitest';
import {
  assessGuardrail,
  createGuardrailState,
  type GuardrailConfig,
  type GuardrailState,
} from './guardrail.ts';
import type { CombinedEstimate } from './metrics.ts';

function estimate(delta: number, se: number, n: number, meanControl = 0.02): CombinedEstimate {
  const v = se * se;
  return {
    delta,
    variance: v,
    se,
    information: 1 / v,
    meanControl,
    meanTreatment: meanControl + delta,
    varianceControl: v / 2,
    varianceTreatment: v / 2,
    nTreatment: n / 2,
    nControl: n / 2,
    cohortsUsed: 1,
    cohortShares: [1],
  };
}

const config: GuardrailConfig = {
  direction: 'higher_is_worse',
  maxInformation: 1e8,
  rollbackAlpha: 0.05 / 6,
  nonInferiority: { margin: { relative: 0.05 } },
};

describe('guardrail looks', () => {
  it('detects harm when Z crosses the boundary, and the verdict sticks', () => {
    let state: GuardrailState = createGuardrailState(config);
    const se = Math.sqrt(1 / 1e6); // t = 0.01
    const first = assessGuardrail(state, config, estimate(5 * se, se, 10_000));
    expect(first.summary.deterioration.z).toBeCloseTo(5, 12);
    expect(first.summary.deterioration.boundary).not.toBeNull();
    expect(first.summary.verdict).toBe('harm_detected');
    state = first.state;
    const se2 = Math.sqrt(1 / 4e6);
    const second = assessGuardrail(state, config, estimate(0, se2, 40_000));
    expect(second.summary.deterioration.rejected).toBe(false);
    expect(second.summary.verdict).toBe('harm_detected');
    expect(JSON.parse(JSON.stringify(second.summary))).toEqual(second.summary);
  });

  it('declares non-inferiority when the upper bound of harm is below the margin', () => {
    const state = createGuardrailState(config);
    const se = Math.sqrt(1 / 1e8);
    const look = assessGuardrail(state, config, estimate(-0.0005, se, 2_000_000));
    expect(look.summary.nonInferiority?.margin).toBeCloseTo(0.001, 15);
    expect(look.summary.verdict).toBe('non_inferior');
  });

  it('hands over to the one-sided confidence sequence at the unspent α once information overruns the plan', () => {
    let state = createGuardrailState(config);
    state = assessGuardrail(state, config, estimate(0, Math.sqrt(1 / 5e7), 1_000_000)).state;
    const over = assessGuardrail(state, config, estimate(0, Math.sqrt(1 / 2e8), 4_000_000));
    expect(over.summary.deterioration.mode).toBe('confidence-sequence');
    expect(over.summary.informationFraction).toBeGreaterThan(1);
    expect(over.state.deterioration.overrun?.tuningN).toBe(1_000_000);
    expect(over.state.deterioration.overrun?.alpha).toBeCloseTo((0.05 / 6) * (1 - Math.sqrt(0.5)), 15);
  });
});
