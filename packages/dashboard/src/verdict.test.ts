import type { DecisionView, HistoryEntry, RolloutView } from '@dimmer/api';
import { describe, expect, it } from 'vitest';
import { toDecisionDetail } from './api-admin.ts';
import { historyEntry, sampleDecisionView, sampleRolloutView } from './test-rollout.ts';
import { describeActor, describeRecommendation, resultRows, rolloutBanner } from './verdict.ts';

/** The controller's rollback of ro_1: crash_rate rose from 2.1% to 15.3%. */
const rollbackDecision = sampleDecisionView();
/** The same look as a recommendation nobody applied yet (manual mode). */
const recommendedRollback: DecisionView = { ...rollbackDecision, applied: false };

/** Rollout ro_1 of 50% then 100% in `state`, with `history` (oldest first). */
function rollout(
  state: RolloutView['state'],
  history: HistoryEntry[],
  mode: RolloutView['mode'] = 'automatic',
): RolloutView {
  const view = sampleRolloutView();
  const stages = [
    { reach: 50, minDuration: 86_400_000, minUnitsPerArm: 1_000, minEventsPerArm: 30 },
    { reach: 100, minDuration: 0, minUnitsPerArm: 0, minEventsPerArm: 0 },
  ];
  return {
    ...view,
    state,
    stage: 0,
    reach: state === 'rolled_back' ? 0 : 50,
    mode,
    stages,
    plan: { ...view.plan, stages, mode },
    history,
  };
}

describe('rolloutBanner', () => {
  it('names the controller, the time, the metric and both values of a rollback', () => {
    const r = rollout('rolled_back', [
      historyEntry({
        at: '2026-12-03T13:00:00.000Z',
        action: 'start',
        actor: 'admin:ops',
        reach: 50,
      }),
      historyEntry({
        at: '2026-12-03T13:09:32.695Z',
        action: 'rollback',
        rule: 'deterioration',
        actor: 'controller',
        reach: 0,
      }),
    ]);
    const banner = rolloutBanner(r, [toDecisionDetail(rollbackDecision)]);
    expect(banner.tone).toBe('bad');
    expect(banner.headline).toBe(
      'Rolled back by the controller at 13:09:32 UTC because crash_rate rose from 2.1% to 15.3%. Every unit is served “off”.',
    );
    expect(banner.next).toMatch(/Resume/);
  });

  it('names the person of a manual rollback and says no guardrail fired', () => {
    const r = rollout('rolled_back', [
      historyEntry({
        at: '2026-12-03T13:20:00.000Z',
        action: 'rollback',
        actor: 'admin:alice',
        reach: 0,
      }),
    ]);
    const banner = rolloutBanner(r, []);
    expect(banner.headline).toContain(
      'Rolled back by admin:alice at 13:20:00 UTC by hand; no guardrail had fired',
    );
  });

  it('says when a person followed the recommendation, with its cause', () => {
    const r = rollout('rolled_back', [
      historyEntry({
        at: '2026-12-03T13:30:00.000Z',
        action: 'rollback',
        actor: 'admin:bob',
        reach: 0,
      }),
    ]);
    const recommended = toDecisionDetail(recommendedRollback);
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
    const [row] = resultRows(toDecisionDetail(rollbackDecision));
    expect(row?.control).toBe('2.1%');
    expect(row?.treatment).toBe('15.3%');
    expect(row?.verdict).toBe('harm');
    expect(row?.test).toContain('boundary 3');
    const [, lower] = /\((\S+)%/.exec(row?.relative ?? '') ?? [];
    expect(Number(lower?.replace(/[+,]/g, ''))).toBeGreaterThan(0);
    expect(row?.information).toBe('under 1% of planned');
  });
});

describe('resultRows of a quantile guardrail', () => {
  it("shows both arms' quantiles in metric units and says the p99 rose", () => {
    const look = rollbackDecision.metrics.crash_rate as DecisionView['metrics'][string];
    const quantileLook = {
      ...look,
      metric: 'request_p99',
      kind: 'quantile' as const,
      quantile: {
        q: 0.99,
        scope: 'event' as const,
        control: 251.4,
        treatment: 749.9,
        valuesControl: 9000,
        valuesTreatment: 1200,
        minimumInformationMet: true,
      },
    };
    const decision: DecisionView = { ...rollbackDecision, metrics: { request_p99: quantileLook } };
    const [row] = resultRows(toDecisionDetail(decision));
    expect(row?.control).toBe('p99 251');
    expect(row?.treatment).toBe('p99 750');
    expect(row?.difference).toBe('+499');
    const r = rollout('running', [], 'manual');
    expect(
      describeRecommendation(r, toDecisionDetail({ ...decision, applied: false }), 'rollback', null),
    ).toBe('The controller would roll back: request_p99 rose from p99 251 to p99 750.');
  });
});

describe('describeRecommendation', () => {
  it('says what the controller would do and why, in plain words', () => {
    const r = rollout('running', [], 'manual');
    const d = toDecisionDetail(recommendedRollback);
    expect(describeRecommendation(r, d, 'rollback', null)).toBe(
      'The controller would roll back: crash_rate rose from 2.1% to 15.3%.',
    );
    expect(describeRecommendation(r, undefined, 'advance', 1)).toContain('advance to stage 2 of 2 (100%)');
  });
});

describe('alarm banner', () => {
  it('puts an alarm before anything else, with its cause in words and what to do', () => {
    const rollout: RolloutView = {
      ...sampleRolloutView(),
      health: 'alarm',
      alarm: {
        reasons: [
          {
            cause: 'flag_disabled',
            message: 'Flag new-checkout is disabled in production: nobody is treated.',
          },
        ],
      },
    };
    const banner = rolloutBanner(rollout, []);
    expect(banner.alarm).toBe(true);
    expect(banner.tone).toBe('bad');
    expect(banner.headline).toContain('cannot decide');
    expect(banner.headline).toContain('disabled in production');
    expect(banner.next).toMatch(/^Enable the flag/);
  });

  it('shows no alarm while the rollout can decide', () => {
    expect(rolloutBanner(sampleRolloutView(), []).alarm).toBeUndefined();
  });
});
