import {
  BUCKET_COUNT,
  bucket,
  compileConfig,
  evaluate,
  type FlagConfig,
  flattenFlag,
  validateFlagConfig,
} from '@dimmer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RolloutPlan, stageReachBuckets } from './plan.ts';
import { rolloutRule } from './rule.ts';
import { applyAction, createRolloutState, type RolloutAction, type RolloutState } from './state.ts';
import { basePlanInput, flag, planOf, T0 } from './testing.ts';

function after(plan: RolloutPlan, actions: RolloutAction[]): RolloutState {
  let s = createRolloutState();
  for (const a of actions) {
    const r = applyAction(plan, s, a, T0, 'alice');
    if (!r.ok) throw new Error(r.error.message);
    s = r.state;
  }
  return s;
}

function withRule(plan: RolloutPlan, state: RolloutState): FlagConfig {
  const rule = rolloutRule(plan, state);
  return {
    ...flag,
    environments: { ...flag.environments, production: { enabled: true, rules: rule ? [rule] : [] } },
  };
}

function variantOf(config: FlagConfig, unit: string) {
  const compiled = compileConfig({
    environment: 'production',
    version: 1,
    flags: [flattenFlag(config, 'production')],
    segments: [],
  });
  return evaluate(compiled, config.key, { targetingKey: unit });
}

describe('rolloutRule', () => {
  const plan = planOf({ ...basePlanInput, holdback: 2 });

  it('splits the whole space: treatment [0, reach), control the rest, marked with the rollout', () => {
    const rule = rolloutRule(plan, after(plan, ['start', 'advance']));
    expect(rule).toEqual({
      id: 'rollout-ro_1',
      rollout: 'ro_1',
      serve: {
        split: [
          { variant: 'on', range: [0, 100_000], arm: 'treatment' },
          { variant: 'off', range: [100_000, BUCKET_COUNT], arm: 'control' },
        ],
      },
    });
  });

  it('serves control to everyone after a rollback, still as rollout exposures', () => {
    const rule = rolloutRule(plan, after(plan, ['start', 'rollback']));
    expect(rule?.rollout).toBe('ro_1');
    expect(rule?.serve).toEqual({ split: [{ variant: 'off', range: [0, BUCKET_COUNT], arm: 'control' }] });
  });

  it('keeps the holdback while holding, serves treatment to all once completed, and nothing while draft', () => {
    const holding = after(plan, ['start', 'advance', 'advance', 'advance']);
    expect(rolloutRule(plan, holding)?.serve).toEqual({
      split: [
        { variant: 'on', range: [0, 980_000], arm: 'treatment' },
        { variant: 'off', range: [980_000, BUCKET_COUNT], arm: 'control' },
      ],
    });
    const done = after(plan, ['start', 'complete']);
    expect(rolloutRule(plan, done)).toEqual({ id: 'rollout-ro_1', serve: { variant: 'on' } });
    expect(rolloutRule(plan, createRolloutState())).toBeNull();
  });

  it('produces a rule the flag validation accepts in every status', () => {
    for (const actions of [
      ['start'],
      ['start', 'rollback'],
      ['start', 'advance', 'advance', 'advance'],
      ['start', 'complete'],
    ] as RolloutAction[][]) {
      expect(validateFlagConfig(withRule(plan, after(plan, actions))).ok).toBe(true);
    }
  });

  it('never moves a unit out of treatment when reach rises, and brings the same units back after a rollback', () => {
    const reaches = fc
      .uniqueArray(fc.integer({ min: 1, max: 979_999 }), { minLength: 1, maxLength: 5 })
      .map((xs) => [...xs].sort((a, b) => a - b).map((b) => b / 10_000));
    fc.assert(
      fc.property(
        reaches,
        fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 20 }),
        (rs, units) => {
          const p = planOf({
            ...basePlanInput,
            holdback: 2,
            stages: [...rs.map((reach) => ({ reach })), { reach: 100 }],
          });
          const actions: RolloutAction[] = ['start'];
          const states = [after(p, actions)];
          for (let k = 1; k < p.stages.length; k++) {
            actions.push('advance');
            states.push(after(p, actions));
          }
          for (const unit of units) {
            const b = bucket(flag.salt, unit);
            let wasTreated = false;
            states.forEach((s, k) => {
              const result = variantOf(withRule(p, s), unit);
              const treated = result.variant === 'on';
              expect(treated).toBe(b < stageReachBuckets(p, k));
              expect(result.arm).toBe(treated ? 'treatment' : 'control');
              if (wasTreated) expect(treated).toBe(true);
              wasTreated = treated;
            });
            const resumed = after(p, ['start', 'advance', 'rollback', 'resume']);
            expect(variantOf(withRule(p, resumed), unit).variant).toBe(
              variantOf(withRule(p, states[0] as RolloutState), unit).variant,
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
