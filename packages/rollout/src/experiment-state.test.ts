import { describe, expect, it } from 'vitest';
import { baseExperimentInput, experimentOf } from './experiment-fixtures.ts';
import type { ExperimentPlan } from './experiment-plan.ts';
import {
  applyExperimentAction,
  createExperimentState,
  type ExperimentRequest,
  type ExperimentState,
} from './experiment-state.ts';
import { DAY, T0 } from './testing.ts';

const plan = experimentOf(baseExperimentInput);

type Step = ExperimentRequest extends infer R
  ? R extends unknown
    ? Omit<R, 'now' | 'actor'>
    : never
  : never;

function run(p: ExperimentPlan, steps: Step[]): ExperimentState {
  let s = createExperimentState();
  steps.forEach((step, i) => {
    const r = applyExperimentAction(p, s, {
      ...step,
      now: T0 + i * DAY,
      actor: 'alice',
    } as ExperimentRequest);
    if (!r.ok) throw new Error(r.error.message);
    s = r.state;
  });
  return s;
}

describe('experiment state machine', () => {
  it('starts at the plan coverage with one coverage epoch', () => {
    const s = run(plan, [{ action: 'start' }]);
    expect(s).toMatchObject({
      status: 'running',
      coverage: 20,
      startedAt: T0,
      epochs: [{ coverage: 20, startedAt: T0 }],
    });
    expect(s.history).toEqual([expect.objectContaining({ kind: 'action', action: 'start', actor: 'alice' })]);
  });

  it('grows coverage while running, opening an epoch each time; the same coverage again is a no-op', () => {
    const s = run(plan, [
      { action: 'start' },
      { action: 'set_coverage', coverage: 50 },
      { action: 'set_coverage', coverage: 50 },
      { action: 'set_coverage', coverage: 100 },
    ]);
    expect(s.coverage).toBe(100);
    expect(s.epochs.map((e) => e.coverage)).toEqual([20, 50, 100]);
  });

  it('refuses to shrink coverage, naming coverage and the current value', () => {
    const s = run(plan, [{ action: 'start' }, { action: 'set_coverage', coverage: 30 }]);
    const r = applyExperimentAction(plan, s, {
      action: 'set_coverage',
      coverage: 25,
      now: T0 + DAY,
      actor: 'bob',
    });
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'invalid_input',
        path: 'coverage',
        message: expect.stringMatching(/^coverage: .*it is 30%, got 25%/),
      },
    });
    const bad = applyExperimentAction(plan, s, {
      action: 'set_coverage',
      coverage: 101,
      now: T0,
      actor: 'bob',
    });
    expect(bad).toMatchObject({ ok: false, error: { path: 'coverage' } });
  });

  it('changes coverage only while running', () => {
    const draft = applyExperimentAction(plan, createExperimentState(), {
      action: 'set_coverage',
      coverage: 50,
      now: T0,
      actor: 'a',
    });
    expect(draft).toMatchObject({ ok: false, error: { code: 'illegal_transition' } });
  });

  it('ships a treatment variant, refusing control and unknown variants', () => {
    const s = run(plan, [{ action: 'start' }]);
    const control = applyExperimentAction(plan, s, {
      action: 'ship',
      variant: 'control',
      now: T0,
      actor: 'a',
    });
    expect(control).toMatchObject({
      ok: false,
      error: { path: 'variant', message: expect.stringMatching(/use stop/) },
    });
    const shipped = applyExperimentAction(plan, s, {
      action: 'ship',
      variant: 'green',
      now: T0 + DAY,
      actor: 'a',
    });
    expect(shipped).toMatchObject({
      ok: true,
      state: { status: 'shipped', shippedVariant: 'green', endedAt: T0 + DAY },
      event: {
        type: 'ship',
        shippedVariant: 'green',
        from: { status: 'running' },
        to: { status: 'shipped' },
      },
    });
  });

  it('ends for good: stopped, shipped and aborted take no further action', () => {
    for (const end of ['stop', 'abort'] as const) {
      const s = run(plan, [{ action: 'start' }, { action: end }]);
      expect(s.status).toBe(end === 'stop' ? 'stopped' : 'aborted');
      for (const next of [
        { action: 'start' },
        { action: 'set_coverage', coverage: 90 },
        { action: 'ship', variant: 'green' },
      ] as Step[]) {
        const r = applyExperimentAction(plan, s, { ...next, now: T0, actor: 'a' } as ExperimentRequest);
        expect(r).toMatchObject({ ok: false, error: { code: 'illegal_transition' } });
      }
    }
  });

  it('refuses an unknown action and a time that is not a number', () => {
    const s = createExperimentState();
    expect(
      applyExperimentAction(plan, s, {
        action: 'launch',
        now: T0,
        actor: 'a',
      } as unknown as ExperimentRequest),
    ).toMatchObject({ ok: false, error: { code: 'invalid_input', path: 'action' } });
    expect(applyExperimentAction(plan, s, { action: 'start', now: Number.NaN, actor: 'a' })).toMatchObject({
      ok: false,
      error: { path: 'now' },
    });
  });
});
