import { describe, expect, it } from 'vitest';
import { toDecisionDetail, toRolloutDetail } from './api-admin.ts';
import { describeActor, describeRecommendation, resultRows, rolloutBanner } from './verdict.ts';

/** A stored rollback decision as the server returns it (packages/rollout's Decision plus id and actor). */
const rollbackDecision = {
  id: 7,
  rollout: 'ro_x',
  attempt: 1,
  at: '2026-12-03T13:09:32.695Z',
  action: 'rollback',
  rule: 'deterioration',
  reason: 'crash_rate is worse in treatment',
  applied: true,
  actor: 'controller',
  status: 'running',
  stageIndex: 0,
  reach: 50,
  toStage: null,
  metrics: {
    crash_rate: {
      metric: 'crash_rate',
      kind: 'proportion',
      direction: 'higher_is_worse',
      required: true,
      margin: 0.2,
      status: 'assessed',
      summary: {
        informationFraction: 0.0007,
        delta: 0.132,
        se: 0.0038,
        interval: [0.0054, 0.2556],
        relativeLift: 0.153 / 0.021 - 1,
        relativeLiftSe: 0.62,
        meanTreatment: 0.153,
        meanControl: 0.021,
        nTreatment: 10_228,
        nControl: 9_772,
        deterioration: { z: 34.5, boundary: 3.0, rejected: true, mode: 'group-sequential' },
        nonInferiority: {
          z: -33.5,
          boundary: 5.4,
          rejected: false,
          mode: 'group-sequential',
          margin: 0.0042,
        },
        harmDetected: true,
        nonInferior: false,
        verdict: 'harm_detected',
      },
      canary: null,
    },
  },
};

function rollout(state: string, history: unknown[], mode = 'automatic') {
  return toRolloutDetail({
    id: 'ro_x',
    flag: 'nc',
    environment: 'production',
    treatment: 'on',
    control: 'off',
    status: state,
    state,
    stage: 0,
    reach: 0,
    attempt: 1,
    mode,
    stages: [{ reach: 50, minDuration: 86_400_000, minUnitsPerArm: 1000 }, { reach: 100 }],
    guardrails: [],
    history,
    recommendation: null,
  });
}

describe('rolloutBanner', () => {
  it('names the controller, the time, the metric and both values of a rollback', () => {
    const r = rollout('rolled_back', [
      {
        at: '2026-12-03T13:00:00.000Z',
        kind: 'action',
        action: 'start',
        actor: 'admin:ops',
        stageIndex: 0,
        reach: 50,
      },
      {
        at: '2026-12-03T13:09:32.695Z',
        kind: 'action',
        action: 'rollback',
        rule: 'deterioration',
        actor: 'controller',
        stageIndex: 0,
        reach: 0,
      },
    ]);
    const banner = rolloutBanner(r, [toDecisionDetail(rollbackDecision, 'ro_x', 0)]);
    expect(banner.tone).toBe('bad');
    expect(banner.headline).toBe(
      'Rolled back by the controller at 13:09:32 UTC because crash_rate rose from 2.1% to 15.3%. Every unit is served “off”.',
    );
    expect(banner.next).toMatch(/Resume/);
  });

  it('names the person of a manual rollback and says no guardrail fired', () => {
    const r = rollout('rolled_back', [
      {
        at: '2026-12-03T13:20:00.000Z',
        kind: 'action',
        action: 'rollback',
        rule: null,
        actor: 'admin:alice',
        stageIndex: 0,
        reach: 0,
      },
    ]);
    const banner = rolloutBanner(r, []);
    expect(banner.headline).toContain(
      'Rolled back by admin:alice at 13:20:00 UTC by hand; no guardrail had fired',
    );
  });

  it('says when a person followed the recommendation, with its cause', () => {
    const r = rollout('rolled_back', [
      {
        at: '2026-12-03T13:30:00.000Z',
        kind: 'action',
        action: 'rollback',
        rule: null,
        actor: 'admin:bob',
        stageIndex: 0,
        reach: 0,
      },
    ]);
    const recommended = toDecisionDetail({ ...rollbackDecision, applied: false }, 'ro_x', 0);
    expect(rolloutBanner(r, [recommended]).headline).toContain(
      "Rolled back by admin:bob at 13:30:00 UTC, following the controller's recommendation because crash_rate rose from 2.1% to 15.3%",
    );
  });

  it('says "a person" when the server names nobody', () => {
    expect(describeActor(null)).toBe('a person');
    expect(describeActor('controller')).toBe('the controller');
  });
});

describe('resultRows', () => {
  it('shows both values and a log-ratio interval of the rollback test that stays above −100%', () => {
    const [row] = resultRows(toDecisionDetail(rollbackDecision, 'ro_x', 0));
    expect(row?.control).toBe('2.1%');
    expect(row?.treatment).toBe('15.3%');
    expect(row?.verdict).toBe('harm');
    expect(row?.test).toContain('boundary 3');
    const [, lower] = /\((\S+)%/.exec(row?.relative ?? '') ?? [];
    expect(Number(lower?.replace(/[+,]/g, ''))).toBeGreaterThan(0);
    expect(row?.information).toBe('under 1% of planned');
  });
});

describe('describeRecommendation', () => {
  it('says what the controller would do and why, in plain words', () => {
    const r = rollout('running', [], 'manual');
    const d = toDecisionDetail({ ...rollbackDecision, applied: false }, 'ro_x', 0);
    expect(describeRecommendation(r, d, 'rollback', null)).toBe(
      'The controller would roll back: crash_rate rose from 2.1% to 15.3%.',
    );
    expect(describeRecommendation(r, undefined, 'advance', 1)).toContain('advance to stage 2 of 2 (100%)');
  });
});
