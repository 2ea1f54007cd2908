import { describe, expect, it } from 'vitest';
import {
  forecastPlan,
  MAX_PLANNED_LOOKS_PER_STAGE,
  plannedLooks,
  plannedMaxInformation,
} from './forecast.ts';
import { basePlanInput, DAY, planOf } from './testing.ts';

const plan = planOf({
  ...basePlanInput,
  guardrails: [{ metric: 'crash_rate' }, { metric: 'latency' }, { metric: 'revenue' }],
});
const baselines = {
  crash_rate: { mean: 0.02, variance: 0.02 * 0.98 },
  latency: { mean: 200, variance: 80 ** 2 },
  revenue: { mean: 5, variance: 20 ** 2 },
};

describe('forecastPlan', () => {
  it('forecasts units per arm, shrinking MDEs and the power of the final gate', () => {
    const f = forecastPlan(plan, { unitsPerDay: 1_000_000, baselines });
    expect(f.stages.map((s) => s.reach)).toEqual([1, 10, 50, 100]);
    expect(f.stages[0]?.expectedUnitsPerArm).toEqual({ treatment: 10_000, control: 990_000 });
    expect(f.stages[1]?.expectedUnitsPerArm.treatment).toBeCloseTo(110_000, 6);
    expect(f.stages[0]?.durationMs).toBe(DAY);
    const mde = f.stages.map((s) => s.mdePerMetric.crash_rate?.relative ?? null);
    expect(mde[3]).toBeNull();
    expect(mde[0]).toBeGreaterThan(mde[1] as number);
    expect(mde[1]).toBeGreaterThan(mde[2] as number);
    for (const key of Object.keys(baselines)) {
      expect(f.powerPerMetric[key]).toBeGreaterThan(f.nonInferiority[key]?.targetPower as number);
      expect(f.maxInformation[key]).toBeCloseTo(plannedMaxInformation(plan, 1_000_000), 6);
    }
    expect(f.warnings).toEqual([]);
  });

  it('warns when a margin cannot be reached, a stage is too short and a category is left out', () => {
    const small = planOf({
      ...basePlanInput,
      stages: [{ reach: 1, minDuration: '1h' }, { reach: 10 }, { reach: 100 }],
    });
    const f = forecastPlan(small, { unitsPerDay: 20_000, baselines });
    expect(f.powerPerMetric.crash_rate).toBeLessThan(0.8);
    expect(f.warnings.some((w) => /crash_rate: the plan reaches \d.*% power/.test(w))).toBe(true);
    expect(
      f.warnings.some((w) =>
        /stage 1 \(1%\): expected to last .*longer than its minimum of 1h: the smaller arm needs that long to reach 1,000 units/.test(
          w,
        ),
      ),
    ).toBe(true);
    expect(f.stages[0]?.lengthSetBy).toEqual({ kind: 'min_units' });
    expect(f.warnings.some((w) => /no experience guardrail/.test(w))).toBe(true);
    expect(f.warnings.some((w) => /no business guardrail/.test(w))).toBe(true);
    expect(f.warnings.some((w) => /no reliability guardrail/.test(w))).toBe(false);
  });

  it('says which metric sets the length of a stage when its event minimum takes longer than the minimum duration', () => {
    const p = planOf({
      ...basePlanInput,
      stages: [{ reach: 1, minDuration: '1d' }, { reach: 10, minDuration: '1d' }, { reach: 100 }],
      guardrails: [{ metric: 'crash_rate' }, { metric: 'latency' }],
    });
    // 0.1% at 500,000 units a day: the 1% arm gets 5,000 units a day and needs 2 days for 10 expected events.
    const rare = { crash_rate: { mean: 0.001, variance: 0.001 * 0.999 }, latency: baselines.latency };
    const f = forecastPlan(p, { unitsPerDay: 500_000, baselines: rare });
    expect(f.stages[0]?.lengthSetBy).toEqual({ kind: 'min_events', metric: 'crash_rate' });
    expect(f.stages[0]?.durationMs).toBe(DAY);
    expect(f.stages[0]?.expectedDurationMs).toBe(2 * DAY);
    expect(f.stages[1]?.lengthSetBy).toEqual({ kind: 'min_duration' });
    expect(
      f.warnings.some((w) => /stage 1 \(1%\): expected to last 2d.*crash_rate needs that long/.test(w)),
    ).toBe(true);
    expect(f.maxInformation.crash_rate).toBeCloseTo(plannedMaxInformation(p, 500_000, [2 * DAY, DAY]), 6);
  });

  it('warns about a metric without a baseline instead of guessing', () => {
    const f = forecastPlan(plan, { unitsPerDay: 1_000_000, baselines: { crash_rate: baselines.crash_rate } });
    expect(f.warnings.filter((w) => /no baseline/.test(w))).toHaveLength(2);
    expect(Object.keys(f.powerPerMetric)).toEqual(['crash_rate']);
  });
});

describe('plannedLooks', () => {
  it('looks once a day within a stage and at each stage end', () => {
    const p = planOf({
      ...basePlanInput,
      stages: [{ reach: 1, minDuration: '2h' }, { reach: 10, minDuration: '3d' }, { reach: 100 }],
    });
    const looks = plannedLooks(p, 24_000);
    expect(looks.map((l) => [l.stageIndex, l.atMs / 3_600_000, l.stageEnd])).toEqual([
      [0, 2, true],
      [1, 26, false],
      [1, 50, false],
      [1, 74, true],
      [2, 98, true],
    ]);
    expect(looks[0]?.cohorts).toEqual([{ nTreatment: 20, nControl: 1980 }]);
  });

  it('spaces the looks of a stage stretched by low traffic, so a forecast stays cheap', () => {
    const p = planOf({
      ...basePlanInput,
      stages: [{ reach: 1, minDuration: '300d' }, { reach: 100 }],
    });
    const looks = plannedLooks(p, 50);
    const inStage = looks.filter((l) => l.stageIndex === 0);
    expect(inStage.length).toBeLessThanOrEqual(MAX_PLANNED_LOOKS_PER_STAGE + 1);
    expect(inStage[inStage.length - 1]).toMatchObject({ stageEnd: true, atMs: 300 * 86_400_000 });
    const gaps = inStage.slice(1).map((l, i) => l.atMs - (inStage[i] as { atMs: number }).atMs);
    expect(Math.max(...gaps.slice(0, -1))).toBe(Math.min(...gaps.slice(0, -1)));
  });
});
