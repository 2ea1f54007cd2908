import { describe, expect, it } from 'vitest';
import { stageReach, stageReachBuckets, validateRolloutPlan } from './plan.ts';
import { metrics as baseMetrics, basePlanInput, context, DAY, planOf } from './testing.ts';

function issuesOf(input: unknown, ctx = context()): { path: string; message: string }[] {
  const result = validateRolloutPlan(input, ctx);
  if (result.ok) throw new Error('expected the plan to be rejected');
  return result.issues;
}

function pathsOf(input: unknown, ctx = context()): string[] {
  return issuesOf(input, ctx).map((i) => i.path);
}

describe('validateRolloutPlan', () => {
  it('fills the defaults of the statistics contract', () => {
    const plan = planOf(basePlanInput);
    expect(plan.stages).toEqual([
      { reach: 1, minDuration: DAY, minUnitsPerArm: 1000, minEventsPerArm: 10 },
      { reach: 10, minDuration: DAY, minUnitsPerArm: 1000, minEventsPerArm: 10 },
      { reach: 50, minDuration: DAY, minUnitsPerArm: 1000, minEventsPerArm: 10 },
      { reach: 100, minDuration: DAY, minUnitsPerArm: 1000, minEventsPerArm: 10 },
    ]);
    expect(plan).toMatchObject({
      holdback: 0,
      mode: 'automatic',
      srmAction: 'hold',
      finalGate: 'non_inferiority',
      canaryGuard: { threshold: 0.5 },
      guardrails: [
        {
          metric: 'crash_rate',
          margin: 0.1,
          required: false,
          kind: 'proportion',
          direction: 'higher_is_worse',
          category: 'reliability',
        },
      ],
    });
  });

  it('accepts its own output again unchanged (a stored plan round-trips)', () => {
    const plan = planOf({
      ...basePlanInput,
      holdback: 2,
      stages: [{ reach: 0.5, minDuration: '2h' }, { reach: 100 }],
    });
    expect(planOf(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('turns the canary guard off by default when the first stage is above 1%', () => {
    expect(planOf({ ...basePlanInput, stages: [{ reach: 5 }, { reach: 100 }] }).canaryGuard).toBe(false);
  });

  it.each([
    [
      'reach not strictly rising',
      { stages: [{ reach: 1 }, { reach: 10 }, { reach: 10 }, { reach: 100 }] },
      'stages[2].reach',
    ],
    ['reach 0', { stages: [{ reach: 0 }, { reach: 100 }] }, 'stages[0].reach'],
    ['reach above 100', { stages: [{ reach: 1 }, { reach: 120 }] }, 'stages[1].reach'],
    ['five decimals', { stages: [{ reach: 0.00001 }, { reach: 100 }] }, 'stages[0].reach'],
    ['last stage below 100', { stages: [{ reach: 1 }, { reach: 50 }] }, 'stages[1].reach'],
    ['a single stage', { stages: [{ reach: 100 }] }, 'stages'],
    [
      'a stage past the holdback',
      { holdback: 5, stages: [{ reach: 1 }, { reach: 96 }, { reach: 100 }] },
      'stages[1].reach',
    ],
    ['holdback of 50', { holdback: 50 }, 'holdback'],
    ['negative holdback', { holdback: -1 }, 'holdback'],
    [
      'bad duration',
      { stages: [{ reach: 1, minDuration: '2 hours' }, { reach: 100 }] },
      'stages[0].minDuration',
    ],
    ['zero units', { stages: [{ reach: 1, minUnitsPerArm: 0 }, { reach: 100 }] }, 'stages[0].minUnitsPerArm'],
    ['unknown stage field', { stages: [{ reach: 1, duration: '1h' }, { reach: 100 }] }, 'stages[0].duration'],
    ['unknown variant', { treatment: 'blue' }, 'treatment'],
    ['treatment equal to control', { control: 'on' }, 'control'],
    ['unknown environment', { environment: 'moon' }, 'environment'],
    ['another flag', { flag: 'other' }, 'flag'],
    ['unknown metric', { guardrails: [{ metric: 'nope' }] }, 'guardrails[0].metric'],
    ['margin 0', { guardrails: [{ metric: 'crash_rate', margin: 0 }] }, 'guardrails[0].margin'],
    [
      'duplicate metric',
      { guardrails: [{ metric: 'crash_rate' }, { metric: 'crash_rate' }] },
      'guardrails[1].metric',
    ],
    ['no guardrails', { guardrails: [] }, 'guardrails'],
    [
      'copied field that disagrees',
      { guardrails: [{ metric: 'crash_rate', kind: 'mean' }] },
      'guardrails[0].kind',
    ],
    ['unknown top-level field', { state: 'running' }, 'state'],
    ['bad mode', { mode: 'auto' }, 'mode'],
    ['bad srmAction', { srmAction: 'ignore' }, 'srmAction'],
    ['bad finalGate', { finalGate: 'vibes' }, 'finalGate'],
    [
      'canary on a 5% first stage',
      { canaryGuard: true, stages: [{ reach: 5 }, { reach: 100 }] },
      'canaryGuard',
    ],
    ['canary threshold 0', { canaryGuard: { threshold: 0 } }, 'canaryGuard.threshold'],
    ['bad id', { id: 'has space' }, 'id'],
  ])('rejects %s with an issue at its path', (_name, patch, path) => {
    const issues = issuesOf({ ...basePlanInput, ...patch });
    expect(issues.map((i) => i.path)).toContain(path);
    for (const issue of issues) expect(issue.message.length).toBeGreaterThan(10);
  });

  it('rejects a plan that is not an object', () => {
    expect(pathsOf('plan')).toEqual(['$']);
  });

  it('refuses a second active rollout on the same flag and environment', () => {
    expect(pathsOf(basePlanInput, context({ activeRolloutOnFlagEnv: true }))).toEqual(['flag']);
  });

  it("merges the surface's required metrics in, with the surface margin unless the rollout's is stricter", () => {
    const ctx = context({
      surfaceRequired: [
        { metric: 'crash_rate', margin: 0.05 },
        { metric: 'latency', margin: 0.04 },
      ],
    });
    const plan = planOf({ ...basePlanInput, guardrails: [{ metric: 'latency', margin: 0.02 }] }, ctx);
    expect(plan.guardrails.map((g) => [g.metric, g.margin, g.required])).toEqual([
      ['latency', 0.02, true],
      ['crash_rate', 0.05, true],
    ]);
  });

  it('refuses to loosen or make optional a required metric', () => {
    const ctx = context({ surfaceRequired: [{ metric: 'crash_rate', margin: 0.05 }] });
    expect(pathsOf({ ...basePlanInput, guardrails: [{ metric: 'crash_rate', margin: 0.2 }] }, ctx)).toEqual([
      'guardrails[0].margin',
    ]);
    expect(
      pathsOf({ ...basePlanInput, guardrails: [{ metric: 'crash_rate', required: false }] }, ctx),
    ).toEqual(['guardrails[0].required']);
  });

  it('reports a surface metric that is not defined', () => {
    const ctx = context({ surfaceRequired: [{ metric: 'ghost', margin: 0.05 }] });
    expect(pathsOf(basePlanInput, ctx)).toEqual(['guardrails']);
  });

  it('takes the metric margin when neither the rollout nor the surface gives one', () => {
    const plan = planOf({ ...basePlanInput, guardrails: [{ metric: 'revenue' }] });
    expect(plan.guardrails[0]?.margin).toBe(baseMetrics.revenue?.margin);
  });
});

describe('stage reach', () => {
  it('serves 100 minus the holdback at the final stage, in buckets', () => {
    const plan = planOf({ ...basePlanInput, holdback: 2.5 });
    expect(stageReachBuckets(plan, 0)).toBe(10_000);
    expect(stageReachBuckets(plan, 3)).toBe(975_000);
    expect(stageReach(plan, 3)).toBe(97.5);
  });
});
