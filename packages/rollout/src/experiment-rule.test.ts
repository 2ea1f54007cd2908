import {
  bucket,
  compileConfig,
  evaluate,
  type FlagConfig,
  flattenFlag,
  type Rule,
  validateFlagConfig,
} from '@dimmer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { abContext, abFlag, abMetrics, baseExperimentInput, experimentOf } from './experiment-fixtures.ts';
import type { ExperimentPlan } from './experiment-plan.ts';
import { experimentLayout, experimentRule, shipBuckets, shipRolloutPlan } from './experiment-rule.ts';
import { applyExperimentAction, createExperimentState, type ExperimentState } from './experiment-state.ts';
import type { RolloutPlan } from './plan.ts';
import { rolloutRule } from './rule.ts';
import { applyAction, createRolloutState, type RolloutState } from './state.ts';
import { T0 } from './testing.ts';

const VARIANTS = ['v0', 'v1', 'v2', 'v3'];
const manyFlag: FlagConfig = {
  ...abFlag,
  key: 'many',
  variants: Object.fromEntries(VARIANTS.map((v) => [v, v])),
  defaultVariant: 'v0',
};

function withRule(flag: FlagConfig, rule: Rule | null): FlagConfig {
  return {
    ...flag,
    environments: { ...flag.environments, production: { enabled: true, rules: rule ? [rule] : [] } },
  };
}

/** The variant each unit is served by `rule`, or null when the rule does not serve it (it falls through). */
function servedBy(flag: FlagConfig, rule: Rule | null, units: readonly string[]): (string | null)[] {
  const config = withRule(flag, rule);
  expect(validateFlagConfig(config)).toMatchObject({ ok: true });
  const compiled = compileConfig({
    environment: 'production',
    version: 1,
    flags: [flattenFlag(config, 'production')],
    segments: [],
  });
  return units.map((unit) => {
    const r = evaluate(compiled, config.key, { targetingKey: unit });
    return r.reason === 'DEFAULT' ? null : (r.variant ?? null);
  });
}

function started(plan: ExperimentPlan): ExperimentState {
  const r = applyExperimentAction(plan, createExperimentState(), { action: 'start', now: T0, actor: 'a' });
  if (!r.ok) throw new Error(r.error.message);
  return r.state;
}

function grown(plan: ExperimentPlan, state: ExperimentState, coverage: number): ExperimentState {
  const r = applyExperimentAction(plan, state, { action: 'set_coverage', coverage, now: T0, actor: 'a' });
  if (!r.ok) throw new Error(r.error.message);
  return r.state;
}

/** Weights (whole percent, ≥ 1 each, summing to 100) for 2 to 4 variants, and which one is control. */
const design = fc
  .integer({ min: 2, max: 4 })
  .chain((k) =>
    fc.tuple(
      fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: k - 1, maxLength: k - 1 }),
      fc.integer({ min: 0, max: k - 1 }),
    ),
  )
  .map(([cuts, controlIndex]) => {
    const points = [0, ...[...cuts].sort((a, b) => a - b), 100];
    const weights = points.slice(1).map((p, i) => p - (points[i] as number));
    return { weights, control: VARIANTS[controlIndex] as string };
  });
/** Coverage in percent with up to four decimals, from 1% up. */
const coverageArb = fc.integer({ min: 10_000, max: 1_000_000 }).map((b) => b / 10_000);
const unitsArb = fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 40, maxLength: 80 });

function planFor(weights: number[], control: string, coverage: number): ExperimentPlan {
  return experimentOf(
    {
      ...baseExperimentInput,
      flag: 'many',
      control,
      coverage,
      variants: weights.map((weight, i) => ({ variant: VARIANTS[i], weight })),
    },
    abContext({ flag: manyFlag }),
  );
}

describe('experimentLayout and experimentRule', () => {
  it('gives each variant a fixed slice by weight, treatments first, control on top, served from the slice start', () => {
    const plan = experimentOf(baseExperimentInput);
    expect(experimentLayout(plan, 20)).toEqual([
      { variant: 'green', arm: 'treatment', weight: 50, slice: [0, 500_000], range: [0, 100_000] },
      {
        variant: 'control',
        arm: 'control',
        weight: 50,
        slice: [500_000, 1_000_000],
        range: [500_000, 600_000],
      },
    ]);
    expect(experimentRule(plan, started(plan))).toEqual({
      id: 'experiment-ex_1',
      experiment: 'ex_1',
      serve: {
        split: [
          { variant: 'green', range: [0, 100_000], arm: 'treatment' },
          { variant: 'control', range: [500_000, 600_000], arm: 'control' },
        ],
      },
    });
    expect(experimentRule(plan, createExperimentState())).toBeNull();
  });

  it('serves each arm its weight of the covered units and lets the rest fall through', () => {
    const plan = planFor([34, 33, 33], 'v0', 10);
    const units = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
    const served = servedBy(manyFlag, experimentRule(plan, started(plan)), units);
    const share = (v: string | null) => served.filter((x) => x === v).length / units.length;
    expect(share(null)).toBeCloseTo(0.9, 1);
    expect(share('v0')).toBeCloseTo(0.034, 2);
    expect(share('v1')).toBeCloseTo(0.033, 2);
    expect(share('v2')).toBeCloseTo(0.033, 2);
  });

  it('marks the running rule so exposures are logged, and has no rule once stopped or aborted', () => {
    const plan = experimentOf(baseExperimentInput);
    const running = started(plan);
    const [unit] = Array.from({ length: 100 }, (_, i) => `u${i}`).filter(
      (u) => bucket(abFlag.salt, u) < 100_000,
    );
    const config = withRule(abFlag, experimentRule(plan, running));
    const compiled = compileConfig({
      environment: 'production',
      version: 1,
      flags: [flattenFlag(config, 'production')],
      segments: [],
    });
    expect(evaluate(compiled, abFlag.key, { targetingKey: unit as string })).toMatchObject({
      variant: 'green',
      inExperiment: true,
      experiment: 'ex_1',
      arm: 'treatment',
    });
    for (const action of ['stop', 'abort'] as const) {
      const r = applyExperimentAction(plan, running, { action, now: T0, actor: 'a' });
      expect(r.ok && experimentRule(plan, r.state)).toBeNull();
    }
  });

  it('property: growing coverage never moves a unit between arms, and no unit is ever in two arms', () => {
    fc.assert(
      fc.property(
        design,
        fc.array(coverageArb, { minLength: 2, maxLength: 4 }),
        unitsArb,
        (d, coverages, units) => {
          const sorted = [...coverages].sort((a, b) => a - b);
          const plan = planFor(d.weights, d.control, sorted[0] as number);
          let state = started(plan);
          let before = servedBy(manyFlag, experimentRule(plan, state), units);
          for (const c of sorted.slice(1)) {
            state = grown(plan, state, c);
            const layout = experimentLayout(plan, c);
            for (const [i, a] of layout.entries())
              for (const b of layout.slice(i + 1))
                expect(a.range[1] <= b.range[0] || b.range[1] <= a.range[0]).toBe(true);
            const after = servedBy(manyFlag, experimentRule(plan, state), units);
            before.forEach((variant, i) => {
              if (variant !== null) expect(after[i]).toBe(variant);
            });
            before = after;
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('shipping a winner as a guarded rollout', () => {
  const rolloutContext = {
    flag: manyFlag,
    metrics: abMetrics,
    surfaceRequired: [],
    activeRolloutOnFlagEnv: false,
  };

  function shipped(plan: ExperimentPlan, state: ExperimentState, variant: string): ExperimentState {
    const r = applyExperimentAction(plan, state, { action: 'ship', variant, now: T0, actor: 'a' });
    if (!r.ok) throw new Error(r.error.message);
    return r.state;
  }

  it('starts a two-variant winner at exactly its share of the space and keeps every guardrail and success metric', () => {
    const plan = experimentOf(baseExperimentInput);
    const state = shipped(plan, grown(plan, started(plan), 40), 'green');
    const result = shipRolloutPlan({ plan, state }, { id: 'ro_ship' }, { ...rolloutContext, flag: abFlag });
    expect(result.ok).toBe(true);
    const rollout = (result as { value: RolloutPlan }).value;
    expect(rollout).toMatchObject({ treatment: 'green', control: 'control', flag: 'checkout-button' });
    expect(rollout.stages.map((s) => s.reach)).toEqual([20, 50, 100]);
    expect(rollout.guardrails.map((g) => g.metric)).toEqual(['crash_rate', 'conversion']);
    expect(experimentRule(plan, state)).toEqual({
      id: 'experiment-ex_1',
      serve: { split: [{ variant: 'green', range: [0, 200_000] }] },
    });
  });

  it('names the stage that does not rise above the winner, and refuses an experiment that has not shipped', () => {
    const plan = experimentOf({ ...baseExperimentInput, coverage: 100 });
    const state = shipped(plan, started(plan), 'green');
    const low = shipRolloutPlan(
      { plan, state },
      { id: 'ro_ship', stages: [{ reach: 30 }, { reach: 100 }] },
      {
        ...rolloutContext,
        flag: abFlag,
      },
    );
    expect(low).toEqual({
      ok: false,
      issues: [{ path: 'stages[0].reach', message: expect.stringMatching(/above the first stage at 50%/) }],
    });
    const notShipped = shipRolloutPlan(
      { plan, state: started(plan) },
      { id: 'ro_ship' },
      { ...rolloutContext, flag: abFlag },
    );
    expect(notShipped).toMatchObject({ ok: false, issues: [{ path: '$' }] });
    const badLater = shipRolloutPlan(
      { plan, state },
      { id: 'ro_ship', stages: [{ reach: 60 }, { reach: 90 }] },
      {
        ...rolloutContext,
        flag: abFlag,
      },
    );
    expect(badLater).toMatchObject({ ok: false, issues: [{ path: 'stages[1].reach' }] });
  });

  it('property: every unit that saw the winner keeps it after ship, through every stage of the rollout', () => {
    fc.assert(
      fc.property(design, coverageArb, fc.nat(), unitsArb, (d, coverage, pick, units) => {
        const plan = planFor(d.weights, d.control, coverage);
        const running = started(plan);
        const treatments = plan.variants.filter((v) => v.variant !== plan.control).map((v) => v.variant);
        const winner = treatments[pick % treatments.length] as string;
        const saw = servedBy(manyFlag, experimentRule(plan, running), units);
        const state = shipped(plan, running, winner);
        const result = shipRolloutPlan(
          { plan, state },
          { id: 'ro_ship', stages: [{ reach: 100 }] },
          rolloutContext,
        );
        if (shipBuckets(plan, coverage, winner) >= 1_000_000) return;
        expect(result.ok).toBe(true);
        const rollout = (result as { value: RolloutPlan }).value;
        const rules: (Rule | null)[] = [experimentRule(plan, state)];
        let rs: RolloutState = createRolloutState();
        for (const action of ['start', 'advance'] as const) {
          const r = applyAction(rollout, rs, action, T0, 'a');
          if (!r.ok) throw new Error(r.error.message);
          rs = r.state;
          rules.push(rolloutRule(rollout, rs));
        }
        for (const rule of rules) {
          const after = servedBy(manyFlag, rule, units);
          saw.forEach((variant, i) => {
            if (variant === winner) expect(after[i]).toBe(winner);
          });
        }
      }),
      { numRuns: 60 },
    );
  });
});
