import { describe, expect, it } from 'vitest';
import { detectionProfile, fixedHorizonInformation, planNonInferiority, planPower } from './planning.ts';

const t = [0.2, 0.4, 0.6, 0.8, 1];

describe('planning', () => {
  it('plans information that reaches the target power', () => {
    const plan = planNonInferiority({
      margin: 0.001,
      guardrails: 6,
      plannedInformation: 1,
      informationFractions: t,
    });
    expect(plan.inflationFactor).toBeGreaterThan(1);
    expect(plan.sufficient).toBe(false);
    const power = planPower({
      effect: 0.001,
      maxInformation: plan.requiredInformation,
      alpha: 0.05,
      spending: { kind: 'power', rho: 2 },
      informationFractions: t,
    });
    expect(power).toBeCloseTo(plan.targetPower, 6);
    expect(fixedHorizonInformation({ margin: 1, alpha: 0.05, power: 0.5 })).toBeCloseTo(
      1.6448536269514722 ** 2,
      12,
    );
  });

  it('reports detection by stage and the expected look of detection', () => {
    const p = detectionProfile({
      effect: 0.01,
      alpha: 0.05,
      spending: { kind: 'power', rho: 0.5 },
      information: [1e4, 5e4, 1e5],
      maxInformation: 1e5,
      stageOfLook: [1, 1, 2],
      lookTimes: [24, 48, 72],
    });
    expect(p.byStage).toHaveLength(2);
    expect(p.byStage[1]?.probability).toBeCloseTo(p.probabilityDetected, 15);
    expect(p.expectedLook).toBeGreaterThan(1);
    expect(p.expectedTime).toBeGreaterThan(24);
  });
});
