// Replay of a regression that raises the treatment variance (statistics.md acceptance item 9): the crash rate
// jumps from 2% to 15% in the treatment arm of the 10% stage. With information as 1/Var the fraction fell as the
// treatment variance rose and the looks below an earlier fraction got an infinite boundary (blind while z rose);
// on the sample-size scale every look that is not skipped has a finite boundary, and the rollout is rolled back
// at the first look whose z crosses it. Looks one minute apart add under 1% information and are skipped.

import { describe, expect, it } from 'vitest';
import { type Decision, decide } from './decide.ts';
import type { CohortEvidence, RolloutEvidence } from './evidence.ts';
import { applyAction, createRolloutState, type RolloutState } from './state.ts';
import { basePlanInput, HOUR, planOf, proportionStats, T0 } from './testing.ts';

const UNITS_PER_HOUR = 1_000_000 / 24;
const MINUTE = 60_000;
const BASE_RATE = 0.02;
const REGRESSED_RATE = 0.15;

const plan = planOf({
  ...basePlanInput,
  stages: [{ reach: 1, minDuration: '2d' }, { reach: 10, minDuration: '3d' }, { reach: 50 }, { reach: 100 }],
  canaryGuard: false,
});

/** Units arriving in [from, to) split at `reach`, with crash counts at the given treatment rate. */
function cohort(stage: number, hours: number, reach: number, treatmentRate: number): CohortEvidence {
  const n = Math.round(UNITS_PER_HOUR * hours);
  const nT = Math.round(n * reach);
  const nC = n - nT;
  return {
    stage,
    treatment: proportionStats(nT, Math.round(nT * treatmentRate)),
    control: proportionStats(nC, Math.round(nC * BASE_RATE)),
  };
}

/** What the server would hand over at `at` (ms after the start) when stage 2 began at `stage2At` (or null). */
function evidenceAt(at: number, stage2At: number | null, attempt: number): RolloutEvidence {
  const stage1Hours = (Math.min(at, stage2At ?? at) - T0) / HOUR;
  const cohorts = [cohort(0, stage1Hours, 0.01, BASE_RATE)];
  if (stage2At !== null && at > stage2At)
    cohorts.push(cohort(1, (at - stage2At) / HOUR, 0.1, REGRESSED_RATE));
  const sum = (arm: 'treatment' | 'control') => cohorts.reduce((a, c) => a + c[arm].n, 0);
  return {
    attempt,
    units: { treatment: sum('treatment'), control: sum('control') },
    assignments: cohorts.map((c) => ({ stage: c.stage, treatment: c.treatment.n, control: c.control.n })),
    metrics: { crash_rate: { hasData: true, cohorts } },
    unitsPerDay: 1_000_000,
  };
}

/**
 * The recorded look times: every 6 hours through the 1% stage, then every 10 minutes, each followed by a look
 * one minute later (which adds under 1% information and is skipped).
 */
function lookTimes(): number[] {
  const times: number[] = [];
  for (let h = 6; h <= 48; h += 6) times.push(T0 + h * HOUR, T0 + h * HOUR + MINUTE);
  for (let m = 10; m <= 24 * 60; m += 10)
    times.push(T0 + 48 * HOUR + m * MINUTE, T0 + 48 * HOUR + (m + 1) * MINUTE);
  return times;
}

function replay(): { decisions: Decision[]; stage2At: number | null } {
  const started = applyAction(plan, createRolloutState(), 'start', T0, 'test');
  if (!started.ok) throw new Error(started.error.message);
  let state: RolloutState = started.state;
  let stage2At: number | null = null;
  const decisions: Decision[] = [];
  for (const at of lookTimes()) {
    if (state.status !== 'running') break;
    const d = decide(plan, state, evidenceAt(at, stage2At, state.attempt), at);
    decisions.push(d);
    if (d.action === 'advance' && d.applied) stage2At = at;
    state = d.nextState;
  }
  return { decisions, stage2At };
}

describe('a regression that raises the treatment variance (crash 2% → 15% at the 10% stage)', () => {
  const { decisions, stage2At } = replay();
  const looks = decisions.map((d) => d.metrics.crash_rate?.summary?.deterioration);

  it('advances to the 10% stage after the healthy 1% stage, then rolls back on the deterioration test', () => {
    expect(stage2At).toBe(T0 + 48 * HOUR);
    const last = decisions[decisions.length - 1] as Decision;
    expect(last).toMatchObject({ action: 'rollback', rule: 'deterioration', applied: true, stageIndex: 1 });
  });

  it('never moves the information fraction backwards', () => {
    const fractions = decisions.map((d) => d.metrics.crash_rate?.summary?.informationFraction ?? 0);
    for (let k = 1; k < fractions.length; k++)
      expect(fractions[k]).toBeGreaterThanOrEqual(fractions[k - 1] as number);
  });

  it('gives every look that is not skipped a finite boundary, and records skipped looks with their z', () => {
    const skipped = looks.filter((l) => l?.skipped === 'information_gain');
    expect(skipped.length).toBeGreaterThan(0);
    for (const l of skipped) {
      expect(l?.boundary).toBeNull();
      expect(Number.isFinite(l?.z)).toBe(true);
    }
    for (const l of looks) {
      if (l === undefined || l.skipped !== null) continue;
      expect(l.mode).toBe('group-sequential');
      expect(l.boundary).not.toBeNull();
      expect(Number.isFinite(l.boundary)).toBe(true);
    }
  });

  it('rolls back at the first look whose z crosses its boundary, not later', () => {
    const first = looks.findIndex((l) => l !== undefined && l.boundary !== null && l.z >= l.boundary);
    expect(first).toBe(decisions.length - 1);
    expect(looks[first]?.rejected).toBe(true);
    // The regression is caught within the first hour of the 10% stage.
    expect((decisions[first] as Decision).at).toBeLessThanOrEqual(T0 + 49 * HOUR);
  });
});
