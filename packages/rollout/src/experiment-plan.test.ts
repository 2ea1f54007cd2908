import { describe, expect, it } from 'vitest';
import { abContext, baseExperimentInput, experimentOf } from './experiment-fixtures.ts';
import { validateExperimentPlan } from './experiment-plan.ts';
import { applyExperimentAction, createExperimentState } from './experiment-state.ts';
import { T0 } from './testing.ts';

function issuesOf(input: unknown, ctx = abContext()) {
  const result = validateExperimentPlan(input, ctx);
  if (result.ok) throw new Error('expected the plan to be refused');
  return result.issues;
}

describe('validateExperimentPlan', () => {
  it('fills the defaults and copies the metric fields; a stored plan validates to itself', () => {
    const plan = experimentOf(baseExperimentInput);
    expect(plan).toMatchObject({
      control: 'control',
      coverage: 20,
      minDuration: 7 * 24 * 3_600_000,
      minUnitsPerArm: 1000,
      mode: 'manual',
      srmAction: 'continue',
      successMetrics: [{ metric: 'conversion', mde: 0.05, kind: 'proportion', direction: 'lower_is_worse' }],
      guardrails: [{ metric: 'crash_rate', margin: 0.1, required: false, kind: 'proportion' }],
    });
    expect(experimentOf(plan)).toEqual(plan);
  });

  it('splits equally when no weight is given (remainder to the first variants)', () => {
    const plan = experimentOf({
      ...baseExperimentInput,
      variants: [{ variant: 'control' }, { variant: 'green' }, { variant: 'orange' }],
    });
    expect(plan.variants.map((v) => v.weight)).toEqual([34, 33, 33]);
  });

  it('refuses fewer than two variants, naming variants', () => {
    const issues = issuesOf({ ...baseExperimentInput, variants: [{ variant: 'control', weight: 100 }] });
    expect(issues).toContainEqual({
      path: 'variants',
      message: expect.stringMatching(/2 to 20 variants.*of 1/),
    });
  });

  it('refuses weights that do not sum to 100, and weights that are not whole percents', () => {
    const sum = issuesOf({
      ...baseExperimentInput,
      variants: [
        { variant: 'control', weight: 50 },
        { variant: 'green', weight: 40 },
      ],
    });
    expect(sum).toContainEqual({
      path: 'variants',
      message: expect.stringMatching(/summing to 100.*50 \+ 40 = 90/),
    });
    const fraction = issuesOf({
      ...baseExperimentInput,
      variants: [
        { variant: 'control', weight: 50.5 },
        { variant: 'green', weight: 49.5 },
      ],
    });
    expect(fraction.map((i) => i.path)).toEqual(['variants[0].weight', 'variants[1].weight']);
    const partial = issuesOf({
      ...baseExperimentInput,
      variants: [{ variant: 'control', weight: 50 }, { variant: 'green' }],
    });
    expect(partial).toContainEqual({ path: 'variants[1].weight', message: 'required field is missing' });
  });

  it('refuses an unknown or duplicated variant and an unknown control', () => {
    const unknown = issuesOf({
      ...baseExperimentInput,
      variants: [
        { variant: 'control', weight: 50 },
        { variant: 'purple', weight: 50 },
      ],
    });
    expect(unknown).toContainEqual({ path: 'variants[1].variant', message: expect.stringMatching(/purple/) });
    const twice = issuesOf({
      ...baseExperimentInput,
      variants: [
        { variant: 'green', weight: 50 },
        { variant: 'green', weight: 50 },
      ],
    });
    expect(twice).toContainEqual({
      path: 'variants[1].variant',
      message: expect.stringMatching(/already variants\[0\]/),
    });
    const control = issuesOf({ ...baseExperimentInput, control: 'orange' });
    expect(control).toEqual([
      {
        path: 'control',
        message: expect.stringMatching(/one of the experiment's variants \(control, green\)/),
      },
    ]);
  });

  it('refuses a coverage out of range, with too many decimals, or too small for every variant to get a bucket', () => {
    for (const coverage of [0, -1, 100.5, 12.34567, '20']) {
      const issues = issuesOf({ ...baseExperimentInput, coverage });
      expect(issues.map((i) => i.path)).toEqual(['coverage']);
    }
    const tiny = issuesOf({ ...baseExperimentInput, coverage: 0.0001 });
    expect(tiny).toEqual([
      {
        path: 'coverage',
        message: expect.stringMatching(/at least 0.0002 so the 50% variant gets a bucket/),
      },
    ]);
    expect(experimentOf({ ...baseExperimentInput, coverage: 0.0002 }).coverage).toBe(0.0002);
    expect(experimentOf({ ...baseExperimentInput, coverage: 100 }).coverage).toBe(100);
  });

  it('refuses a success metric that is also a guardrail, listed or required by the surface', () => {
    const listed = issuesOf({
      ...baseExperimentInput,
      guardrails: [{ metric: 'crash_rate' }, { metric: 'conversion' }],
    });
    expect(listed).toEqual([
      { path: 'successMetrics[0].metric', message: expect.stringMatching(/also guardrails\[1\]/) },
    ]);
    const surface = issuesOf(baseExperimentInput, abContext({ surfaceRequired: [{ metric: 'conversion' }] }));
    expect(surface).toEqual([
      { path: 'successMetrics[0].metric', message: expect.stringMatching(/surface requires/) },
    ]);
  });

  it('needs at least one success metric with a positive minimum detectable effect', () => {
    expect(issuesOf({ ...baseExperimentInput, successMetrics: [] }).map((i) => i.path)).toEqual([
      'successMetrics',
    ]);
    expect(issuesOf({ ...baseExperimentInput, successMetrics: [{ metric: 'conversion' }] })).toContainEqual({
      path: 'successMetrics[0].mde',
      message: 'required field is missing',
    });
    expect(
      issuesOf({ ...baseExperimentInput, successMetrics: [{ metric: 'conversion', mde: 0 }] }),
    ).toContainEqual({
      path: 'successMetrics[0].mde',
      message: expect.stringMatching(/minimum detectable effect/),
    });
  });

  it("merges the surface's required guardrails, which cannot be removed or loosened", () => {
    const ctx = abContext({ surfaceRequired: [{ metric: 'latency', margin: 0.03 }] });
    const plan = experimentOf({ ...baseExperimentInput, guardrails: [] }, ctx);
    expect(plan.guardrails).toEqual([
      expect.objectContaining({
        metric: 'latency',
        margin: 0.03,
        required: true,
        direction: 'higher_is_worse',
      }),
    ]);
    const optional = issuesOf(
      { ...baseExperimentInput, guardrails: [{ metric: 'latency', required: false }] },
      ctx,
    );
    expect(optional).toContainEqual({
      path: 'guardrails[0].required',
      message: expect.stringMatching(/required by the flag's surface/),
    });
    const loose = issuesOf({ ...baseExperimentInput, guardrails: [{ metric: 'latency', margin: 0.1 }] }, ctx);
    expect(loose.map((i) => i.path)).toEqual(['guardrails[0].margin']);
  });

  it('allows an experiment without guardrails when the surface requires none', () => {
    expect(experimentOf({ ...baseExperimentInput, guardrails: [] }).guardrails).toEqual([]);
  });

  it('rejects unknown fields and a flag already owned by a rollout or experiment', () => {
    expect(issuesOf({ ...baseExperimentInput, colour: 'red' }).map((i) => i.path)).toEqual(['colour']);
    expect(issuesOf(baseExperimentInput, abContext({ activeOnFlagEnv: true })).map((i) => i.path)).toEqual([
      'flag',
    ]);
  });

  it('refuses a weight change or a coverage change in a revision once started, naming the field', () => {
    const plan = experimentOf(baseExperimentInput);
    const started = applyExperimentAction(plan, createExperimentState(), {
      action: 'start',
      now: T0,
      actor: 'a',
    });
    if (!started.ok) throw new Error(started.error.message);
    const ctx = abContext({ activeOnFlagEnv: true, started: { plan, coverage: started.state.coverage } });
    const weights = issuesOf(
      {
        ...plan,
        variants: [
          { variant: 'control', weight: 40 },
          { variant: 'green', weight: 60 },
        ],
      },
      ctx,
    );
    expect(weights.map((i) => i.path)).toEqual(['variants[0].weight', 'variants[1].weight']);
    expect(weights[0]?.message).toMatch(/fixed once the experiment has started.*was 50, got 40/);
    const coverage = issuesOf({ ...plan, coverage: 10 }, ctx);
    expect(coverage).toEqual([
      { path: 'coverage', message: expect.stringMatching(/serves 20%.*only grows.*set_coverage/) },
    ]);
    expect(
      issuesOf({ ...plan, successMetrics: [{ metric: 'conversion', mde: 0.02 }] }, ctx).map((i) => i.path),
    ).toEqual(['successMetrics']);
    const same = validateExperimentPlan({ ...plan, mode: 'automatic' }, ctx);
    expect(same.ok).toBe(true);
  });
});
