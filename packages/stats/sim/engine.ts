// The rollout the acceptance scenarios simulate, looked at daily with the library's own per-look machinery:
// cohort sums, `combineCohorts` for the estimate, `gatingStatistic` for z and the minimum-information check, and
// `stepSequentialTest` for the boundaries. Information is on the sample-size scale and the traffic of a scenario
// is fixed, so a test's boundary at a look depends only on which earlier looks spent α; the boundaries are kept
// in a tree keyed by that pattern and computed once per scenario rather than once per replication.

import {
  type CohortStats,
  combineCohorts,
  createBoundaryState,
  effectiveUnits,
  gatingStatistic,
  type SequentialTestState,
  type Spending,
  type SufficientStats,
  spendAlpha,
  stepSequentialTest,
  type TestLook,
} from '../src/index.ts';
import type { MetricModel } from './models.ts';
import { Rng } from './prng.ts';

/** The rollout plan of the acceptance criteria: 1% (days 1–2) → 10% (3–5) → 50% (6–14), 1M new users a day. */
export const PLAN = {
  days: 14,
  unitsPerDay: 1_000_000,
  stages: [
    { reach: 0.01, lastDay: 2 },
    { reach: 0.1, lastDay: 5 },
    { reach: 0.5, lastDay: 14 },
  ],
};
/** Guardrails per rollout (Bonferroni divisor of the rollback α). */
export const GUARDRAILS = 6;
export const ROLLBACK_ALPHA = 0.05;
export const ALPHA_PER_METRIC = ROLLBACK_ALPHA / GUARDRAILS;
export const ROLLBACK_SPENDING: Spending = { kind: 'power', rho: 0.5 };
export const NI_ALPHA = 0.05;
export const NI_SPENDING: Spending = { kind: 'power', rho: 2 };

export function stageOf(day: number): number {
  return PLAN.stages.findIndex((s) => day <= s.lastDay);
}

/** New units of a day by arm at the plan's split, for traffic relative to the plan. */
export function dailySplit(day: number, traffic: number): { stage: number; nT: number; nC: number } {
  const stage = stageOf(day);
  const reach = PLAN.stages[stage]?.reach ?? 0;
  const n = Math.round(PLAN.unitsPerDay * traffic);
  const nT = Math.round(n * reach);
  return { stage, nT, nC: n - nT };
}

/** N_k per day: effective units of the plan's cohorts (traffic relative to the plan). */
export function plannedEffectiveUnits(traffic: number): number[] {
  const cohorts: CohortStats[] = PLAN.stages.map(() => ({ treatment: emptyStats(), control: emptyStats() }));
  const out: number[] = [];
  for (let day = 1; day <= PLAN.days; day++) {
    const { stage, nT, nC } = dailySplit(day, traffic);
    const c = cohorts[stage] as CohortStats;
    c.treatment.n += nT;
    c.control.n += nC;
    out.push(effectiveUnits(cohorts));
  }
  return out;
}

/** N_max: the plan's effective units at day 14, frozen at the planned traffic. */
export function plannedMaxUnits(): number {
  return plannedEffectiveUnits(1)[PLAN.days - 1] as number;
}

export function emptyStats(): SufficientStats {
  return { n: 0, sumY: 0, sumY2: 0 };
}

interface Node {
  result: TestLook;
  state: SequentialTestState;
  children: Map<string, Node>;
}

/**
 * Boundaries of one sequential test for every pattern of looks that spend or not, computed on demand with the
 * library's `stepSequentialTest` (z = 0: the boundary does not depend on z) and remembered.
 */
export class BoundaryTree {
  private readonly root: Node;

  constructor(
    alpha: number,
    spending: Spending,
    private readonly fractions: readonly number[],
    private readonly units: readonly number[],
  ) {
    const state: SequentialTestState = {
      boundary: createBoundaryState({ alpha, spending }),
      overrun: null,
      lastGstUnits: 0,
      rejectedAtLook: null,
    };
    const result: TestLook = {
      z: 0,
      boundary: null,
      rejected: false,
      mode: 'group-sequential',
      skipped: null,
    };
    this.root = { result, state, children: new Map() };
  }

  /** The node after `from` for a look on `day` that spends (`true`) or records without spending (`false`). */
  step(from: Node | null, day: number, spend: boolean): Node {
    const parent = from ?? this.root;
    const key = `${day}:${spend ? 1 : 0}`;
    const known = parent.children.get(key);
    if (known) return known;
    const next = stepSequentialTest(parent.state, {
      index: day,
      informationFraction: this.fractions[day - 1] as number,
      z: 0,
      units: this.units[day - 1] as number,
      spend,
    });
    const node: Node = { result: next.result, state: next.state, children: new Map() };
    parent.children.set(key, node);
    return node;
  }
}

/** True when z crosses the node's boundary by the rule of its mode (≥ for group-sequential, > for the CS). */
export function crosses(node: Node, z: number): boolean {
  const b = node.result.boundary;
  if (b === null) return false;
  return node.result.mode === 'group-sequential' ? z >= b : z > b;
}

export type { Node as BoundaryNode };

export interface RolloutOptions {
  reps: number;
  seed: number;
  models: MetricModel[];
  /** How many of the models form the rollout's family of guardrails (the rest are checked alone). */
  familySize?: number;
  /** Relative effect on the treatment mean per model (0 = A/A). */
  effects?: number[];
  /** Relative change of the baseline from day 1 to day 14 (0.2 = +20%). */
  trend?: number;
  /** Traffic relative to the plan (N_max stays frozen at the plan's forecast). */
  traffic?: number;
  /** Relative non-inferiority margins per model (enables the non-inferiority gate). */
  margins?: number[];
  /** Replaces the treatment's scale from a given day on (a regression that starts mid-rollout). */
  effectFrom?: { day: number; effects: number[] };
}

export interface RolloutResult {
  /** Per model: replications rolled back by the end of each day (cumulative). */
  rolledBackByDay: number[][];
  /** Replications in which any model of the family rolled back. */
  family: number;
  /** Replications in which any model of the family rolled back at the first look. */
  familyFirstLook: number;
  /** Σ over replications of the α the family's rollback tests spent at the first look (Σ over metrics). */
  firstLookSpent: number;
  /** Per model: replications declared non-inferior by day 14. */
  nonInferior: number[];
  /** Replications where every model was non-inferior. */
  allNonInferior: number;
  /** Replications where every model was non-inferior and none rolled back. */
  advanced: number;
}

/** Simulates the rollout plan, daily looks, every model as one guardrail of the same rollout. */
export function simulateRollout(o: RolloutOptions): RolloutResult {
  const rng = new Rng(o.seed);
  const traffic = o.traffic ?? 1;
  const family = o.familySize ?? o.models.length;
  const nMax = plannedMaxUnits();
  const units = plannedEffectiveUnits(traffic);
  const fractions = units.map((n) => n / nMax);
  const totals = Array.from({ length: PLAN.days }, (_, k) => {
    let total = 0;
    for (let d = 1; d <= k + 1; d++) {
      const s = dailySplit(d, traffic);
      total += s.nT + s.nC;
    }
    return total;
  });
  const rollbackTree = new BoundaryTree(ALPHA_PER_METRIC, ROLLBACK_SPENDING, fractions, totals);
  const niTree = new BoundaryTree(NI_ALPHA, NI_SPENDING, fractions, totals);
  const rolledBackByDay = o.models.map(() => new Array<number>(PLAN.days).fill(0));
  const nonInferior = o.models.map(() => 0);
  let familyCount = 0;
  let familyFirstLook = 0;
  let firstLookSpent = 0;
  let advanced = 0;
  let allNonInferior = 0;
  const rolled = new Array<number>(o.models.length);
  const ni = new Array<boolean>(o.models.length);
  for (let rep = 0; rep < o.reps; rep++) {
    const cohorts: CohortStats[][] = o.models.map(() =>
      PLAN.stages.map(() => ({ treatment: emptyStats(), control: emptyStats() })),
    );
    const rollbackAt: (Node | null)[] = o.models.map(() => null);
    const niAt: (Node | null)[] = o.models.map(() => null);
    rolled.fill(0);
    ni.fill(false);
    for (let day = 1; day <= PLAN.days; day++) {
      const { stage, nT, nC } = dailySplit(day, traffic);
      const baseline = 1 + ((o.trend ?? 0) * (day - 1)) / (PLAN.days - 1);
      const effects =
        o.effectFrom !== undefined && day >= o.effectFrom.day ? o.effectFrom.effects : o.effects;
      o.models.forEach((m, i) => {
        const metricCohorts = cohorts[i] as CohortStats[];
        const cohort = metricCohorts[stage] as CohortStats;
        m.draw(rng, nT, baseline * (1 + (effects?.[i] ?? 0)), 'treatment', cohort.treatment);
        m.draw(rng, nC, baseline, 'control', cohort.control);
        const estimate = combineCohorts(m.kind, metricCohorts);
        if (estimate === null) return;
        const margin = o.margins?.[i];
        const gating = gatingStatistic({
          kind: m.kind,
          cohorts: metricCohorts,
          estimate,
          direction: m.direction,
          ...(margin !== undefined ? { absoluteMargin: margin * Math.abs(estimate.meanControl) } : {}),
        });
        const node = rollbackTree.step(rollbackAt[i] ?? null, day, gating.minimum.met);
        rollbackAt[i] = node;
        if (day === 1 && i < family) firstLookSpent += node.state.boundary.spentAlpha;
        if (rolled[i] === 0 && crosses(node, gating.zHarm)) rolled[i] = day;
        if (margin !== undefined && gating.zNonInferiority !== null) {
          const niNode = niTree.step(niAt[i] ?? null, day, true);
          niAt[i] = niNode;
          if (!ni[i] && crosses(niNode, gating.zNonInferiority)) ni[i] = true;
        }
      });
    }
    let anyFamily = false;
    let anyFirst = false;
    let all = true;
    rolled.forEach((day, i) => {
      if (day > 0) {
        const counts = rolledBackByDay[i] as number[];
        for (let d = day; d <= PLAN.days; d++) counts[d - 1] = (counts[d - 1] as number) + 1;
        if (i < family) anyFamily = true;
        if (i < family && day === 1) anyFirst = true;
      }
      if (ni[i]) nonInferior[i] = (nonInferior[i] as number) + 1;
      else all = false;
    });
    if (anyFamily) familyCount++;
    if (anyFirst) familyFirstLook++;
    if (all) allNonInferior++;
    if (all && !anyFamily) advanced++;
  }
  return {
    rolledBackByDay,
    family: familyCount,
    familyFirstLook,
    firstLookSpent,
    nonInferior,
    allNonInferior,
    advanced,
  };
}

/** The α a rollback test spends by fraction t (the spending function, capped at 1). */
export function rollbackSpent(t: number): number {
  return spendAlpha(ROLLBACK_SPENDING, ALPHA_PER_METRIC, t);
}
