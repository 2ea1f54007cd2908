/** Test support: rollout, history and decision replies in the shape of the API, for the dashboard's unit tests. */
import type {
  DecisionMetricLook,
  DecisionView,
  GuardrailLookSummary,
  HistoryEntry,
  RelativeChange,
  RolloutView,
} from '@dimmer/api';

const stage = (reach: number) => ({
  reach,
  minDuration: 3_600_000,
  minUnitsPerArm: 1_000,
  minEventsPerArm: 30,
});

/** A running automatic rollout of `new-checkout` at its second stage (10%) of 1, 10, 50 and 100 percent. */
export function sampleRolloutView(): RolloutView {
  const plan: RolloutView['plan'] = {
    id: 'ro_1',
    flag: 'new-checkout',
    environment: 'production',
    treatment: 'on',
    control: 'off',
    stages: [stage(1), stage(10), stage(50), stage(100)],
    holdback: 0,
    guardrails: [],
    mode: 'automatic',
    canaryGuard: false,
    srmAction: 'hold',
    finalGate: 'non_inferiority',
  };
  return {
    ...structuredClone(plan),
    plan,
    state: 'running',
    stage: 1,
    reach: 10,
    attempt: 1,
    health: 'healthy',
    alarm: null,
    version: 3,
    startedAt: '2026-01-01T00:00:00.000Z',
    stageStartedAt: '2026-01-01T02:00:00.000Z',
    completedAt: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T02:00:00.000Z',
    history: [],
    latestDecision: null,
    recommendation: null,
    lastAction: null,
  };
}

/** One entry of a rollout's history: an action at the first stage unless `fields` says otherwise. */
export function historyEntry(
  fields: Partial<HistoryEntry> & Pick<HistoryEntry, 'at' | 'action'>,
): HistoryEntry {
  return { kind: 'action', rule: null, actor: null, attempt: 1, stageIndex: 0, reach: 0, ...fields };
}

/**
 * The summary of a proportion guardrail whose crash rate rose from 2.1% to 15.3% at an early look: harm
 * detected by the group-sequential rollback test (z 34.5 over boundary 3).
 */
export function sampleHarmSummary(): GuardrailLookSummary {
  return {
    look: 1,
    informationFraction: 0.0007,
    information: 69_000,
    delta: 0.132,
    se: 0.0038,
    interval: [0.0054, 0.2556],
    relativeLift: 0.153 / 0.021 - 1,
    relativeLiftSe: 0.62,
    relativeLiftInterval: [0.26, 13.3],
    meanTreatment: 0.153,
    meanControl: 0.021,
    nTreatment: 10_228,
    nControl: 9_772,
    deterioration: { z: 34.5, boundary: 3.0, rejected: true, mode: 'group-sequential' },
    nonInferiority: { z: -33.5, boundary: 5.4, rejected: false, mode: 'group-sequential', margin: 0.0042 },
    harmDetected: true,
    nonInferior: false,
    verdict: 'harm_detected',
  };
}

/** A required `crash_rate` guardrail assessed with `sampleHarmSummary` (margin 20%). */
export function sampleMetricLook(): DecisionMetricLook {
  return {
    metric: 'crash_rate',
    kind: 'proportion',
    direction: 'higher_is_worse',
    required: true,
    margin: 0.2,
    status: 'assessed',
    maxInformation: 100_000_000,
    events: { treatment: 1_565, control: 205 },
    summary: sampleHarmSummary(),
    canary: null,
    relativeChange: sampleRelativeChange(),
  };
}

/**
 * What the server reports as the deciding test's interval for `sampleHarmSummary`: the rollback boundary (3)
 * on the log-ratio scale, exp(ln(μT/μC) ± 3·SE_rel·μC/μT) − 1.
 */
export function sampleRelativeChange(): RelativeChange {
  const s = sampleHarmSummary();
  const k = 3;
  const ratio = s.meanTreatment / s.meanControl;
  const seLog = ((s.relativeLiftSe ?? 0) * s.meanControl) / s.meanTreatment;
  return {
    test: 'rollback',
    multiplier: k,
    lift: ratio - 1,
    lower: Math.expm1(Math.log(ratio) - k * seLog),
    upper: Math.expm1(Math.log(ratio) + k * seLog),
    absolute: [s.delta - k * (s.se ?? 0), s.delta + k * (s.se ?? 0)],
    z: 34.5,
    boundary: 3,
    margin: 0.0042,
  };
}

/** The controller's applied rollback of `ro_1` at its first stage (50%) because `crash_rate` rose. */
export function sampleDecisionView(): DecisionView {
  return {
    id: 7,
    rollout: 'ro_1',
    actor: 'controller',
    at: '2026-12-03T13:09:32.695Z',
    attempt: 1,
    status: 'running',
    stageIndex: 0,
    reach: 50,
    action: 'rollback',
    rule: 'deterioration',
    reason: 'crash_rate is worse in treatment',
    toStage: null,
    metrics: { crash_rate: sampleMetricLook() },
    srm: { pValue: 0.62, threshold: 0.001, mismatch: false, logBayesFactor: -3.1, stages: [] },
    checks: {
      elapsedMs: 572_695,
      minDurationMs: 86_400_000,
      unitsPerArm: { treatment: 10_228, control: 9_772 },
      minUnitsPerArm: 1_000,
      minEventsPerArm: 30,
    },
    applied: true,
    event: null,
    count: 1,
    firstAt: '2026-12-03T13:09:32.695Z',
    lastAt: '2026-12-03T13:09:32.695Z',
  };
}
