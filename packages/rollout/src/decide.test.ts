import { describe, expect, it } from 'vitest';
import { decide } from './decide.ts';
import type { RolloutEvidence, SufficientStats } from './evidence.ts';
import type { RolloutPlan } from './plan.ts';
import { applyAction, createRolloutState, type RolloutAction, type RolloutState } from './state.ts';
import {
  basePlanInput,
  context,
  DAY,
  HOUR,
  meanStats,
  planOf,
  proportionEvidence,
  proportionStats,
  T0,
} from './testing.ts';

const plan = planOf(basePlanInput);

function after(p: RolloutPlan, actions: RolloutAction[], at = T0): RolloutState {
  let s = createRolloutState();
  for (const a of actions) {
    const r = applyAction(p, s, a, at, 'alice');
    if (!r.ok) throw new Error(r.error.message);
    s = r.state;
  }
  return s;
}

/** One day at 1% of 1M new units a day, equal crash rates. */
function healthyCanary(overrides: Partial<Parameters<typeof proportionEvidence>[0]> = {}): RolloutEvidence {
  return {
    ...proportionEvidence({
      treatment: 10_000,
      control: 990_000,
      pTreatment: 0.02,
      pControl: 0.02,
      ...overrides,
    }),
    unitsPerDay: 1_000_000,
  };
}

/** Balanced evidence at the 50% stage (stage index 2) with `n` units per arm and equal crash rates. */
function balanced(n: number, pTreatment = 0.02): RolloutEvidence {
  return {
    ...proportionEvidence({ stage: 2, treatment: n, control: n, pTreatment, pControl: 0.02 }),
    unitsPerDay: 200_000,
  };
}

describe('decide: advancing', () => {
  it('holds until the minimum duration, then advances with healthy evidence', () => {
    const s = after(plan, ['start']);
    const early = decide(plan, s, healthyCanary(), T0 + 12 * HOUR);
    expect(early).toMatchObject({ action: 'hold', rule: 'min_duration', applied: false });
    expect(early.reason).toMatch(/12h of its minimum 1d/);
    const late = decide(plan, early.nextState, healthyCanary(), T0 + DAY + HOUR);
    expect(late).toMatchObject({ action: 'advance', rule: 'all_clear', toStage: 1, applied: true });
    expect(late.nextState).toMatchObject({
      status: 'running',
      stageIndex: 1,
      reach: 10,
      stageStartedAt: T0 + DAY + HOUR,
    });
    expect(late.event).toMatchObject({ type: 'advance', actor: 'controller', rule: 'all_clear' });
    expect(late.metrics.crash_rate?.summary?.verdict).toBe('inconclusive');
    expect(late.reason).toMatch(/advancing to stage 2 \(10%\)/);
  });

  it('holds for the minimum sample and the minimum events of a proportion metric', () => {
    const s = after(plan, ['start']);
    const few = decide(plan, s, healthyCanary({ treatment: 600, control: 59_400 }), T0 + DAY + HOUR);
    expect(few).toMatchObject({ action: 'hold', rule: 'min_units' });
    expect(few.reason).toMatch(/600 treatment/);
    // 0.05% in 10,000 treatment units expects 5 events in the smaller arm at the control rate, under 10.
    const rare = decide(plan, s, healthyCanary({ pTreatment: 0.0005, pControl: 0.0005 }), T0 + DAY + HOUR);
    expect(rare).toMatchObject({ action: 'hold', rule: 'min_events' });
    expect(rare.metrics.crash_rate?.expectedEvents).toBeCloseTo(5, 6);
    expect(rare.reason).toMatch(/expects 5 events in the smaller arm/);
  });

  it('holds on missing data for a required metric, but not for an optional one', () => {
    const required = planOf(
      basePlanInput,
      context({ surfaceRequired: [{ metric: 'latency', margin: 0.05 }] }),
    );
    const s = after(required, ['start']);
    const d = decide(required, s, healthyCanary(), T0 + DAY + HOUR);
    expect(d).toMatchObject({ action: 'hold', rule: 'missing_data' });
    expect(d.reason).toMatch(/latency/);
    expect(d.metrics.latency?.status).toBe('no_data');
    const noEvents = {
      ...healthyCanary(),
      metrics: { ...healthyCanary().metrics, latency: { hasData: false, cohorts: [] } },
    };
    expect(decide(required, s, noEvents, T0 + DAY + HOUR).rule).toBe('missing_data');

    const optional = planOf({
      ...basePlanInput,
      guardrails: [{ metric: 'crash_rate' }, { metric: 'latency' }],
    });
    expect(decide(optional, after(optional, ['start']), healthyCanary(), T0 + DAY + HOUR).action).toBe(
      'advance',
    );
  });

  it('needs every guardrail non-inferior for the final step', () => {
    const s = after(plan, ['start', 'advance', 'advance']);
    const pending = decide(plan, s, balanced(10_000), T0 + DAY + HOUR);
    expect(pending).toMatchObject({ action: 'hold', rule: 'non_inferiority_pending' });
    expect(pending.reason).toMatch(/crash_rate/);
    const shown = decide(plan, s, balanced(100_000), T0 + DAY + HOUR);
    expect(shown.metrics.crash_rate?.summary?.nonInferior).toBe(true);
    expect(shown).toMatchObject({ action: 'advance', rule: 'all_clear', toStage: 3 });
    expect(shown.nextState).toMatchObject({ status: 'completed', reach: 100 });
  });

  it('with the information policy, needs the planned information instead', () => {
    const p = planOf({ ...basePlanInput, finalGate: 'information' });
    const s = after(p, ['start', 'advance', 'advance']);
    expect(decide(p, s, balanced(10_000), T0 + DAY + HOUR).rule).toBe('information_pending');
    const done = decide(p, s, balanced(400_000), T0 + DAY + HOUR);
    expect(done.metrics.crash_rate?.summary?.informationFraction).toBeGreaterThanOrEqual(1);
    expect(done.action).toBe('advance');
  });

  it('moves to holding with a holdback, monitors it, then completes after its minimum duration', () => {
    const p = planOf({
      ...basePlanInput,
      holdback: 2,
      stages: [...basePlanInput.stages.slice(0, 3), { reach: 100, minDuration: '7d' }],
    });
    const s = after(p, ['start', 'advance', 'advance']);
    const step = decide(p, s, balanced(100_000), T0 + DAY + HOUR);
    expect(step.nextState).toMatchObject({ status: 'holding', reach: 98, stageIndex: 3 });
    const ev = {
      ...proportionEvidence({
        stage: 3,
        treatment: 98_000,
        control: 2_000,
        pTreatment: 0.02,
        pControl: 0.02,
      }),
    };
    const watching = decide(p, step.nextState, ev, T0 + 3 * DAY);
    expect(watching).toMatchObject({ action: 'hold', rule: 'holding' });
    const done = decide(p, watching.nextState, ev, T0 + 9 * DAY);
    expect(done).toMatchObject({ action: 'complete', rule: 'holdback_elapsed', applied: true });
    expect(done.nextState.status).toBe('completed');
  });
});

describe('decide: rolling back', () => {
  it('rolls back a +30% crash-rate regression at the 1% stage', () => {
    const s = after(plan, ['start']);
    const d = decide(plan, s, healthyCanary({ pTreatment: 0.026 }), T0 + 6 * HOUR);
    expect(d.action).toBe('rollback');
    expect(['deterioration', 'canary_guard']).toContain(d.rule);
    expect(d.metrics.crash_rate?.summary?.relativeLift).toBeCloseTo(0.3, 10);
    expect(d.reason).toMatch(/crash_rate is worse in treatment: \+30% relative/);
    expect(d.nextState).toMatchObject({ status: 'rolled_back', reach: 0, rolledBackFromStage: 0 });
    expect(d.event).toMatchObject({ type: 'rollback', actor: 'controller', rule: d.rule });
  });

  it('fires the canary guard on catastrophic harm even before the stage minimums', () => {
    const p = planOf({
      ...basePlanInput,
      guardrails: [{ metric: 'crash_rate' }, { metric: 'latency' }, { metric: 'revenue' }],
    });
    const s = after(p, ['start']);
    const ev = proportionEvidence({ treatment: 800, control: 79_200, pTreatment: 0.1, pControl: 0.02 });
    const d = decide(p, s, ev, T0 + HOUR);
    expect(d.action).toBe('rollback');
    expect(d.metrics.crash_rate?.canary?.lowerBound).toBeGreaterThan(0.5);
    expect(d.metrics.crash_rate?.canary?.triggered).toBe(true);
  });

  it('only recommends in manual mode, and the recommendation persists', () => {
    const p = planOf({ ...basePlanInput, mode: 'manual' });
    const s = after(p, ['start']);
    const d = decide(p, s, healthyCanary({ pTreatment: 0.026 }), T0 + 6 * HOUR);
    expect(d).toMatchObject({ action: 'rollback', applied: false, event: null });
    expect(d.reason).toMatch(/manual mode/);
    expect(d.nextState.status).toBe('running');
    const again = decide(p, d.nextState, healthyCanary({ pTreatment: 0.026 }), T0 + 7 * HOUR);
    expect(again.action).toBe('rollback');
  });

  it('holds on a 52/48 sample-ratio mismatch at a 50/50 stage, or rolls back when configured', () => {
    const srmEvidence: RolloutEvidence = {
      attempt: 1,
      units: { treatment: 52_000, control: 48_000 },
      assignments: [{ stage: 2, treatment: 52_000, control: 48_000 }],
      metrics: {
        crash_rate: {
          hasData: true,
          cohorts: [
            { stage: 2, treatment: proportionStats(52_000, 1_040), control: proportionStats(48_000, 960) },
          ],
        },
      },
    };
    const s = after(plan, ['start', 'advance', 'advance']);
    const held = decide(plan, s, srmEvidence, T0 + DAY + HOUR);
    expect(held).toMatchObject({ action: 'hold', rule: 'srm' });
    expect(held.srm?.mismatch).toBe(true);
    expect(held.srm?.pValue).toBeLessThan(0.001);
    expect(held.reason).toMatch(/52,000 treatment and 48,000 control/);
    const strict = planOf({ ...basePlanInput, srmAction: 'rollback' });
    const rolled = decide(
      strict,
      after(strict, ['start', 'advance', 'advance']),
      srmEvidence,
      T0 + DAY + HOUR,
    );
    expect(rolled).toMatchObject({ action: 'rollback', rule: 'srm' });
    const fair = { ...srmEvidence, assignments: [{ stage: 2, treatment: 50_100, control: 49_900 }] };
    expect(decide(plan, s, fair, T0 + DAY + HOUR).srm?.mismatch).toBe(false);
  });
});

describe('decide: bookkeeping', () => {
  it('is deterministic and returns plain JSON', () => {
    const s = after(plan, ['start']);
    const a = decide(plan, s, healthyCanary(), T0 + DAY + HOUR);
    const b = decide(plan, s, healthyCanary(), T0 + DAY + HOUR);
    expect(b).toEqual(a);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it('spends no α on a look with no new information, and freezes I_max', () => {
    const s = after(plan, ['start']);
    const first = decide(plan, s, healthyCanary(), T0 + 6 * HOUR);
    const second = decide(plan, first.nextState, healthyCanary(), T0 + 7 * HOUR);
    const t1 = first.nextState.monitoring?.metrics.crash_rate;
    const t2 = second.nextState.monitoring?.metrics.crash_rate;
    expect(second.metrics.crash_rate?.summary?.deterioration.boundary).toBeNull();
    expect(t2?.test?.deterioration.boundary.spentAlpha).toBe(t1?.test?.deterioration.boundary.spentAlpha);
    expect(t2?.maxInformation).toBe(t1?.maxInformation);
    expect(t2?.test?.looks).toBe(2);
  });

  it('re-estimates I_max once, at the first look after the first stage', () => {
    const s = after(plan, ['start']);
    const first = decide(plan, s, healthyCanary(), T0 + DAY + HOUR).nextState;
    expect(first.stageIndex).toBe(1);
    const frozen = first.monitoring?.metrics.crash_rate;
    expect(frozen?.reestimated).toBe(false);
    const grown = (unitsPerDay: number): RolloutEvidence => {
      const ev = healthyCanary();
      const cohort = proportionEvidence({
        stage: 1,
        treatment: 50_000,
        control: 450_000,
        pTreatment: 0.02,
        pControl: 0.02,
      });
      return {
        ...ev,
        unitsPerDay,
        units: { treatment: 60_000, control: 1_440_000 },
        assignments: [...ev.assignments, ...cohort.assignments],
        metrics: {
          crash_rate: {
            hasData: true,
            cohorts: [
              ...(ev.metrics.crash_rate?.cohorts ?? []),
              ...(cohort.metrics.crash_rate?.cohorts ?? []),
            ],
          },
        },
      };
    };
    const second = decide(plan, first, grown(2_000_000), T0 + DAY + 12 * HOUR).nextState;
    const revised = second.monitoring?.metrics.crash_rate;
    expect(revised?.reestimated).toBe(true);
    expect(revised?.maxInformation).toBeGreaterThan(1.5 * (frozen?.maxInformation as number));
    const third = decide(plan, second, grown(100_000), T0 + DAY + 13 * HOUR).nextState;
    expect(third.monitoring?.metrics.crash_rate?.maxInformation).toBe(revised?.maxInformation);
  });

  it('never lets a re-estimate send the information fraction backwards', () => {
    const s = after(plan, ['start']);
    const first = decide(plan, s, healthyCanary(), T0 + DAY + HOUR);
    const second = decide(
      plan,
      first.nextState,
      { ...healthyCanary(), unitsPerDay: 5_000_000 },
      T0 + DAY + 2 * HOUR,
    );
    const t1 = first.metrics.crash_rate?.summary?.informationFraction as number;
    const t2 = second.metrics.crash_rate?.summary?.informationFraction as number;
    expect(second.nextState.monitoring?.metrics.crash_rate?.reestimated).toBe(true);
    expect(t2).toBeGreaterThanOrEqual(t1 * (1 - 1e-12));
  });

  it('re-freezes a planned information stored on the former 1/variance scale on the effective-units scale', () => {
    const s = after(plan, ['start']);
    const first = decide(plan, s, healthyCanary(), T0 + 12 * HOUR);
    const monitor = first.nextState.monitoring?.metrics.crash_rate;
    if (!monitor?.maxInformationBasis || !first.nextState.monitoring) throw new Error('no monitor');
    const { scale: _scale, ...basis } = monitor.maxInformationBasis;
    const legacy: RolloutState = {
      ...first.nextState,
      monitoring: {
        ...first.nextState.monitoring,
        metrics: { crash_rate: { ...monitor, maxInformation: 5e9, maxInformationBasis: basis } },
      },
    };
    const next = decide(plan, legacy, healthyCanary(), T0 + 13 * HOUR);
    const refrozen = next.nextState.monitoring?.metrics.crash_rate;
    expect(refrozen?.maxInformationBasis?.scale).toBe('effective_units');
    expect(refrozen?.maxInformation).toBeLessThan(1e8);
    const t1 = first.metrics.crash_rate?.summary?.informationFraction as number;
    expect(next.metrics.crash_rate?.summary?.informationFraction).toBeGreaterThanOrEqual(t1 * (1 - 1e-12));
  });

  it('keeps monitoring a paused rollout but applies nothing', () => {
    const s = after(plan, ['start', 'pause']);
    const d = decide(plan, s, healthyCanary(), T0 + DAY + HOUR);
    expect(d).toMatchObject({ action: 'hold', rule: 'paused', applied: false });
    expect(d.nextState.status).toBe('paused');
    expect(d.nextState.monitoring?.looks).toBe(1);
  });

  it('ignores evidence of another attempt, and does not look at rollouts that are not monitored', () => {
    const s = after(plan, ['start']);
    const stale = decide(plan, s, { ...healthyCanary(), attempt: 2 }, T0 + DAY);
    expect(stale).toMatchObject({ action: 'hold', rule: 'stale_evidence' });
    expect(stale.nextState).toBe(s);
    const draft = decide(plan, createRolloutState(), healthyCanary(), T0);
    expect(draft).toMatchObject({ action: 'hold', rule: 'not_monitored' });
  });

  it('refuses malformed evidence instead of throwing', () => {
    const s = after(plan, ['start']);
    const ev = healthyCanary();
    const broken = {
      ...ev,
      metrics: {
        crash_rate: {
          hasData: true,
          cohorts: [
            { stage: 0, treatment: proportionStats(10, Number.NaN), control: proportionStats(10, 1) },
          ],
        },
      },
    };
    const d = decide(plan, s, broken, T0 + DAY);
    expect(d).toMatchObject({ action: 'hold', rule: 'invalid_evidence', nextState: s });
    expect(d.reason).toMatch(/metrics\.crash_rate\.cohorts\[0\]\.treatment/);
  });

  it('records decisions in the history without repeating identical holds', () => {
    let s = after(plan, ['start']);
    for (let h = 1; h <= 5; h++) s = decide(plan, s, healthyCanary(), T0 + h * HOUR).nextState;
    expect(s.history.filter((e) => e.kind === 'decision')).toHaveLength(1);
  });

  it('assesses mean metrics from sufficient statistics', () => {
    const p = planOf({ ...basePlanInput, guardrails: [{ metric: 'revenue' }] });
    const s = after(p, ['start']);
    const ev: RolloutEvidence = {
      attempt: 1,
      units: { treatment: 10_000, control: 990_000 },
      assignments: [{ stage: 0, treatment: 10_000, control: 990_000 }],
      metrics: {
        revenue: {
          hasData: true,
          cohorts: [{ stage: 0, treatment: meanStats(10_000, 5, 20), control: meanStats(990_000, 5, 20) }],
        },
      },
    };
    const d = decide(p, s, ev, T0 + DAY + HOUR);
    expect(d.metrics.revenue?.summary?.delta).toBeCloseTo(0, 10);
    expect(d.metrics.revenue?.events).toBeNull();
    expect(d.action).toBe('advance');
  });

  it('records that skewness is unknown when the evidence has no sums of cubes, and uses them when it has', () => {
    const p = planOf({ ...basePlanInput, guardrails: [{ metric: 'revenue' }] });
    const s = after(p, ['start']);
    const evidence = (treatment: SufficientStats, control: SufficientStats): RolloutEvidence => ({
      attempt: 1,
      units: { treatment: treatment.n, control: control.n },
      assignments: [{ stage: 0, treatment: treatment.n, control: control.n }],
      metrics: { revenue: { hasData: true, cohorts: [{ stage: 0, treatment, control }] } },
    });
    const plain = decide(p, s, evidence(meanStats(10_000, 5, 20), meanStats(990_000, 5, 20)), T0 + HOUR);
    expect(plain.metrics.revenue?.summary?.gating).toMatchObject({
      method: 'wald',
      skewness: null,
      minimum: { rule: 'skewness_unknown', required: 100, met: true },
    });
    // 4% buyers spending 100: per-unit skewness ≈ 4.7, so Cochran asks for ≈ 560 units in the smaller arm.
    const buyers = (n: number): SufficientStats => {
      const k = n * 0.04;
      return { n, sumY: k * 100, sumY2: k * 100 ** 2, sumY3: k * 100 ** 3 };
    };
    const early = decide(p, s, evidence(buyers(500), buyers(49_500)), T0 + HOUR);
    expect(early.metrics.revenue?.summary?.gating.method).toBe('skew-corrected');
    expect(early.metrics.revenue?.summary?.gating.minimum).toMatchObject({ rule: 'cochran', met: false });
    expect(early.metrics.revenue?.summary?.gating.minimum.required).toBeCloseTo(25 * 4.7 ** 2, -1);
    expect(early.metrics.revenue?.summary?.deterioration).toMatchObject({
      skipped: 'minimum_information',
      boundary: null,
    });
  });

  it('spends no α on a rare proportion before 10 expected events, however large z is, while the canary guard runs', () => {
    const s = after(plan, ['start']);
    // 0.1% control rate, 4,000 treatment units: 4 expected events; the treatment shows 12 (z well above 3).
    const ev = proportionEvidence({ treatment: 4_000, control: 396_000, pTreatment: 0.003, pControl: 0.001 });
    const d = decide(plan, s, ev, T0 + HOUR);
    const look = d.metrics.crash_rate;
    expect(look?.summary?.gating.minimum).toMatchObject({
      rule: 'expected_events',
      met: false,
      required: 10,
    });
    expect(look?.summary?.deterioration).toMatchObject({ skipped: 'minimum_information', rejected: false });
    expect(look?.summary?.deterioration.z).toBeGreaterThan(3);
    expect(look?.canary).not.toBeNull();
    expect(d.nextState.monitoring?.metrics.crash_rate?.test?.deterioration.boundary.spentAlpha).toBe(0);
  });
});
