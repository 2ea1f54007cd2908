import type { DecisionView, EvidenceReport, PlanForecastView, PlanReply, RolloutView } from '@dimmer/sdk';
import { describe, expect, it } from 'vitest';
import { formatForecast, formatStatus, latestDecision, summarizeRollout } from './rollout-view.ts';

const plan = {
  id: 'ro_1',
  flag: 'new-checkout',
  environment: 'production',
  treatment: 'on',
  control: 'off',
  stages: [
    { reach: 1, minDuration: 7_200_000, minUnitsPerArm: 1000, minEventsPerArm: 30 },
    { reach: 10, minDuration: 86_400_000, minUnitsPerArm: 1000, minEventsPerArm: 30 },
    { reach: 100, minDuration: 86_400_000, minUnitsPerArm: 1000, minEventsPerArm: 30 },
  ],
  holdback: 0,
  guardrails: [{ metric: 'crash_rate', margin: 0.02, required: true }],
  mode: 'automatic',
  canaryGuard: { threshold: 0.5 },
  srmAction: 'hold',
};

describe('summarizeRollout', () => {
  it('reads the lifecycle state from `state`', () => {
    const s = summarizeRollout({
      ...plan,
      state: 'running',
      stage: 1,
      reach: 10,
      attempt: 1,
      stageStartedAt: null,
    } as unknown as RolloutView);
    expect(s).toMatchObject({
      status: 'running',
      stageIndex: 1,
      reach: 10,
      mode: 'automatic',
      guardrails: ['crash_rate'],
    });
    expect(s.stageStartedAt).toBeUndefined();
    expect(s.stages.map((x) => x.reach)).toEqual([1, 10, 100]);
  });
});

describe('formatStatus', () => {
  const rollout = { ...plan, state: 'running', stage: 1, reach: 10, attempt: 1 } as unknown as RolloutView;
  const evidence = {
    rollout: 'ro_1',
    attempt: 1,
    stage: 1,
    state: 'running',
    evidence: { attempt: 1, units: { treatment: 1200, control: 10800 }, assignments: [], metrics: {} },
    estimates: [
      {
        metric: 'crash_rate',
        kind: 'proportion',
        direction: 'higher_is_worse',
        hasData: true,
        arms: {
          treatment: { n: 1200, mean: 0.012, variance: 1e-5 },
          control: { n: 10800, mean: 0.01, variance: 1e-6 },
        },
        combined: {
          delta: 0.002,
          variance: 1e-5,
          se: 0.003,
          information: 1e5,
          meanControl: 0.01,
          meanTreatment: 0.012,
          nTreatment: 1200,
          nControl: 10800,
        },
        relativeLift: { lift: 0.2, se: 0.3 },
      },
    ],
  } as unknown as EvidenceReport;

  it('shows stage, reach, units and the live difference before the first look', () => {
    const text = formatStatus({ rollout, evidence });
    expect(text).toMatch(/stage:\s+2 of 3/);
    expect(text).toMatch(/reach:\s+10%/);
    expect(text).toMatch(/units:\s+treatment 1,200, control 10,800/);
    expect(text).toMatch(
      /crash_rate\s+0\.01 \(n=10,800\)\s+0\.012 \(n=1,200\)\s+0\.002\s+-\s+\+20%\s+-\s+awaiting look/,
    );
  });

  it('shows the estimate and always-valid interval of the latest decision', () => {
    const decision = {
      at: 1_700_000_000_000,
      attempt: 1,
      status: 'running',
      stageIndex: 1,
      reach: 10,
      action: 'hold',
      rule: 'min_duration',
      reason: 'stage 2 (10%) has run 2h of its 1d',
      toStage: null,
      metrics: {
        crash_rate: {
          metric: 'crash_rate',
          kind: 'proportion',
          direction: 'higher_is_worse',
          required: true,
          margin: 0.02,
          status: 'assessed',
          summary: {
            delta: 0.0021,
            interval: [-0.004, 0.0082],
            relativeLift: 0.21,
            relativeLiftInterval: [-0.35, 0.8],
            meanTreatment: 0.0121,
            meanControl: 0.01,
            nTreatment: 1190,
            nControl: 10790,
            verdict: 'continue',
          },
          relativeChange: {
            test: 'interval',
            multiplier: 2,
            lift: 0.21,
            lower: -0.25,
            upper: 0.9,
            absolute: [-0.004, 0.0082],
            z: 0.5,
            boundary: null,
            margin: 0.0002,
          },
        },
      },
      srm: null,
      checks: null,
      applied: false,
    } as unknown as DecisionView;
    const text = formatStatus({ rollout, evidence, decision });
    expect(text).toMatch(/last decision:\s+hold \(min_duration\) at 2023-11-14 22:13:20Z/);
    expect(text).toMatch(/reason:\s+stage 2 \(10%\) has run 2h of its 1d/);
    expect(text).toMatch(
      /crash_rate\s+0\.01 \(n=10,790\)\s+0\.0121 \(n=1,190\)\s+0\.0021\s+\[-0\.004, 0\.0082\]\s+\+21% \[-25%, \+90%\]\s+always-valid; rollback at z ≥ ∞ \(z 0\.5\), margin 0\.0002\s+continue/,
    );
  });

  it('picks the newest decision whatever the order', () => {
    const at = (t: number) => ({ at: t, rule: String(t) }) as unknown as DecisionView;
    expect(latestDecision([at(2), at(3), at(1)])?.rule).toBe('3');
    expect(latestDecision([])).toBeUndefined();
  });
});

describe('formatForecast', () => {
  const forecast: PlanForecastView = {
    stages: [
      {
        index: 0,
        reach: 1,
        durationMs: 7_200_000,
        expectedUnitsPerArm: { treatment: 83.3, control: 8250 },
        mdePerMetric: { crash_rate: { absolute: 0.03, relative: 3 } },
      },
      {
        index: 1,
        reach: 10,
        durationMs: 86_400_000,
        expectedUnitsPerArm: { treatment: 10083, control: 98250 },
        mdePerMetric: { crash_rate: { absolute: 0.002, relative: 0.2 } },
      },
      {
        index: 2,
        reach: 100,
        durationMs: 86_400_000,
        expectedUnitsPerArm: { treatment: 110083, control: 98250 },
        mdePerMetric: { crash_rate: null },
      },
    ],
    maxInformation: { crash_rate: 1e6 },
    powerPerMetric: { crash_rate: 0.62 },
    nonInferiority: {},
    allGuardrailsPass: 0.62,
    warnings: [
      'crash_rate: the plan reaches 62% power to show non-inferiority at its 2% margin (target 80%)',
    ],
  };

  const wrapped: PlanReply = {
    rollout: 'ro_1',
    traffic: { unitsPerDay: 100_000, source: 'expected', baselines: {} },
    forecast,
  };

  it('prints what each stage can detect, the power and the warnings, bare or wrapped', () => {
    for (const reply of [forecast as unknown as PlanReply, wrapped]) {
      const text = formatForecast(undefined, reply);
      expect(text).toMatch(
        /STAGE\s+REACH\s+DURATION\s+UNITS\/ARM \(TREATMENT \/ CONTROL\)\s+CRASH_RATE DETECTS/,
      );
      expect(text).toMatch(/\n1\s+1%\s+2h\s+83 \/ 8,250\s+\+300% \(Δ 0\.03\)\n/);
      expect(text).toMatch(/\n2\s+10%\s+1d\s+10,083 \/ 98,250\s+\+20% \(Δ 0\.002\)\n/);
      // The final stage has no rollback gate of its own: the cell says so instead of a bare dash.
      expect(text).toMatch(/\n3\s+100%\s+1d\s+110,083 \/ 98,250\s+final stage: monitored\n/);
      expect(text).toMatch(/crash_rate\s+62%/);
      expect(text).toContain('  - crash_rate: the plan reaches 62% power');
    }
    expect(formatForecast(undefined, wrapped)).toContain('assuming 100,000 new units a day');
  });
});
