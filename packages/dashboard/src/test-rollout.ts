/** Test support: a rollout reply in the shape of the API, for the dashboard's unit tests. */
import type { RolloutView } from '@dimmer/api';

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
    startedAt: '2026-01-01T00:00:00.000Z',
    stageStartedAt: '2026-01-01T02:00:00.000Z',
    completedAt: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T02:00:00.000Z',
    history: [],
    latestDecision: null,
    recommendation: null,
  };
}
