import { describe, expect, it } from 'vitest';
import {
  applyAction,
  createRolloutState,
  isRolloutActive,
  type RolloutAction,
  type RolloutState,
} from './state.ts';
import { basePlanInput, HOUR, planOf, T0 } from './testing.ts';

const plan = planOf(basePlanInput);
const withHoldback = planOf({ ...basePlanInput, holdback: 2 });

function run(p = plan, actions: RolloutAction[], state = createRolloutState()): RolloutState {
  let s = state;
  actions.forEach((a, i) => {
    const r = applyAction(p, s, a, T0 + i * HOUR, 'alice');
    if (!r.ok) throw new Error(r.error.message);
    s = r.state;
  });
  return s;
}

describe('applyAction', () => {
  it('starts a draft at stage 0 of attempt 1 and records the event', () => {
    const r = applyAction(plan, createRolloutState(), 'start', T0, 'alice');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.state).toMatchObject({
      status: 'running',
      stageIndex: 0,
      reach: 1,
      attempt: 1,
      startedAt: T0,
      stageStartedAt: T0,
    });
    expect(r.state.monitoring?.metrics.crash_rate).toEqual({
      maxInformation: null,
      maxInformationBasis: null,
      reestimated: false,
      test: null,
    });
    expect(r.event).toEqual({
      type: 'start',
      at: T0,
      actor: 'alice',
      attempt: 1,
      from: { status: 'draft', stageIndex: 0, reach: 0 },
      to: { status: 'running', stageIndex: 0, reach: 1 },
    });
    expect(r.state.history).toHaveLength(1);
  });

  it('advances stage by stage and completes at 100% without a holdback', () => {
    const s = run(plan, ['start', 'advance', 'advance']);
    expect(s).toMatchObject({ status: 'running', stageIndex: 2, reach: 50, stageStartedAt: T0 + 2 * HOUR });
    const done = run(plan, ['advance'], s);
    expect(done).toMatchObject({ status: 'completed', stageIndex: 3, reach: 100 });
  });

  it('goes to holding at 100 − holdback and completes from there', () => {
    const s = run(withHoldback, ['start', 'advance', 'advance', 'advance']);
    expect(s).toMatchObject({ status: 'holding', stageIndex: 3, reach: 98 });
    const adv = applyAction(withHoldback, s, 'advance', T0, 'alice');
    expect(adv.ok).toBe(false);
    if (!adv.ok) expect(adv.error.message).toMatch(/complete/);
    expect(run(withHoldback, ['complete'], s)).toMatchObject({ status: 'completed', reach: 100 });
  });

  it('pauses and resumes to where it was', () => {
    const held = run(withHoldback, ['start', 'advance', 'advance', 'advance', 'pause']);
    expect(held).toMatchObject({ status: 'paused', pausedFrom: 'holding', reach: 98 });
    expect(run(withHoldback, ['resume'], held)).toMatchObject({ status: 'holding', pausedFrom: null });
    const running = run(plan, ['start', 'pause', 'resume']);
    expect(running).toMatchObject({ status: 'running', stageIndex: 0 });
  });

  it('rolls back to 0 and resumes as a new attempt at stage 0 with fresh tests', () => {
    const rolled = run(plan, ['start', 'advance', 'rollback']);
    expect(rolled).toMatchObject({
      status: 'rolled_back',
      reach: 0,
      stageIndex: 1,
      rolledBackFromStage: 1,
      attempt: 1,
    });
    const resumed = run(plan, ['resume'], rolled);
    expect(resumed).toMatchObject({ status: 'running', stageIndex: 0, reach: 1, attempt: 2 });
    expect(resumed.monitoring?.looks).toBe(0);
  });

  it('rolls back from a pause too', () => {
    expect(run(plan, ['start', 'pause', 'rollback'])).toMatchObject({
      status: 'rolled_back',
      pausedFrom: null,
    });
  });

  it.each<[string, RolloutAction[], RolloutAction]>([
    ['advance a draft', [], 'advance'],
    ['start twice', ['start'], 'start'],
    ['pause a draft', [], 'pause'],
    ['resume a running rollout', ['start'], 'resume'],
    ['roll back a draft', [], 'rollback'],
    ['advance a paused rollout', ['start', 'pause'], 'advance'],
    ['complete a paused rollout', ['start', 'pause'], 'complete'],
    ['complete a rolled-back rollout', ['start', 'rollback'], 'complete'],
    ['roll back a rolled-back rollout', ['start', 'rollback'], 'rollback'],
    ['resume a completed rollout', ['start', 'complete'], 'resume'],
    ['advance a completed rollout', ['start', 'complete'], 'advance'],
  ])('refuses to %s', (_name, before, action) => {
    const s = run(plan, before);
    const r = applyAction(plan, s, action, T0 + 99 * HOUR, 'alice');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('illegal_transition');
      expect(r.error.message).toContain(s.status);
    }
  });

  it('refuses an unknown action or a time that is not a number', () => {
    const bad = applyAction(plan, createRolloutState(), 'explode' as RolloutAction, T0, 'alice');
    expect(!bad.ok && bad.error.code).toBe('invalid_input');
    const noTime = applyAction(plan, createRolloutState(), 'start', Number.NaN, 'alice');
    expect(!noTime.ok && noTime.error.code).toBe('invalid_input');
  });

  it('counts rolled-back rollouts as active on their flag, completed ones not', () => {
    expect(isRolloutActive('rolled_back')).toBe(true);
    expect(isRolloutActive('paused')).toBe(true);
    expect(isRolloutActive('completed')).toBe(false);
    expect(isRolloutActive('draft')).toBe(false);
  });
});
