// Where an experiment's variants live in the bucket space, the rule the experiment puts on its flag, and how a
// shipped winner becomes a guarded rollout on the same flag and salt.
//
// Layout: the space is cut once, at start, into one fixed slice per variant, as wide as its weight (a 50/50 test:
// [0, 500000) and [500000, 1000000)); treatment variants come first in plan order and control takes the top
// slice. At coverage c each variant serves the bottom ⌊weight · c⌋ buckets of its own slice, so raising coverage
// only extends every arm upwards inside its slice: no unit ever changes arm, and arms never overlap. Buckets a
// slice does not serve yet fall through to the flag's next rule.
//
// Ship: a rollout's treatment is always [0, reach). The winner's served range ends at its slice start plus what it
// serves, so a rollout whose first stage reaches exactly that end holds every unit that saw the winner. With two
// variants the winner owns the bottom slice and that reach is exactly the winner's share of the space; with more,
// the first stage also takes in the slices of the treatments laid out before the winner (their units switch to
// the winner; control, on top, is untouched until the rollout grows into it).

import {
  type Arm,
  BUCKET_COUNT,
  bucketsToReach,
  type Rule,
  reachToBuckets,
  type SplitSlice,
  type ValidationResult,
} from '@dimmer/core';
import {
  EXPERIMENT_RULE_ID_PREFIX,
  type ExperimentPlan,
  servedBuckets,
  WEIGHT_TOTAL,
} from './experiment-plan.ts';
import type { ExperimentState } from './experiment-state.ts';
import { child, Issues } from './issues.ts';
import { type RolloutPlan, type RolloutPlanContext, validateRolloutPlan } from './plan.ts';

/** Buckets per whole percent of weight: a variant of weight w owns a slice of w · 10,000 buckets. */
const BUCKETS_PER_WEIGHT = BUCKET_COUNT / WEIGHT_TOTAL;

/** One variant's place in the bucket space at a coverage. */
export interface VariantRange {
  variant: string;
  arm: Arm;
  weight: number;
  /** The variant's fixed slice `[start, end)`: where it may ever serve. */
  slice: [number, number];
  /** What it serves at this coverage: `[slice start, slice start + ⌊weight · coverage⌋)`. */
  range: [number, number];
}

/** Id of the rule an experiment manages on its flag: `experiment-<id>`. */
export function experimentRuleId(plan: ExperimentPlan): string {
  return EXPERIMENT_RULE_ID_PREFIX + plan.id;
}

/** The variants in layout order: treatments in plan order, then control (which takes the top slice). */
function layoutOrder(plan: ExperimentPlan): ExperimentPlan['variants'] {
  return [
    ...plan.variants.filter((v) => v.variant !== plan.control),
    ...plan.variants.filter((v) => v.variant === plan.control),
  ];
}

/**
 * Every variant's fixed slice and served range (buckets of 1,000,000) at `coverage` percent, in layout order:
 * treatments first in plan order, control last. Growing coverage only extends each range within its slice.
 */
export function experimentLayout(plan: ExperimentPlan, coverage: number): VariantRange[] {
  const covered = reachToBuckets(coverage);
  let start = 0;
  return layoutOrder(plan).map((v) => {
    const width = v.weight * BUCKETS_PER_WEIGHT;
    const slice: [number, number] = [start, start + width];
    const range: [number, number] = [start, start + servedBuckets(v.weight, covered)];
    start += width;
    return {
      variant: v.variant,
      arm: v.variant === plan.control ? 'control' : 'treatment',
      weight: v.weight,
      slice,
      range,
    };
  });
}

/**
 * End of `variant`'s served range at `coverage` percent, in buckets: a rollout treatment `[0, end)` holds every
 * unit the experiment served that variant (and the slices of treatments laid out before it).
 */
export function shipBuckets(plan: ExperimentPlan, coverage: number, variant: string): number {
  const entry = experimentLayout(plan, coverage).find((r) => r.variant === variant);
  return entry === undefined ? 0 : entry.range[1];
}

/**
 * The core rule for the flag's environment. Running: a split serving each variant its range at the current
 * coverage, marked with the experiment so every arm is logged as an exposure (control `arm: 'control'`, the
 * others `treatment`); the rest of the space falls through. Shipped: the winner on `[0, shipBuckets)`, unmarked,
 * so units that saw it keep it until `shipRolloutPlan`'s rollout rule replaces this one. Draft, stopped and
 * aborted: null (the flag serves what it served before the experiment).
 */
export function experimentRule(plan: ExperimentPlan, state: ExperimentState): Rule | null {
  const id = experimentRuleId(plan);
  if (state.status === 'shipped' && state.shippedVariant !== null) {
    const end = shipBuckets(plan, state.coverage, state.shippedVariant);
    return { id, serve: { split: [{ variant: state.shippedVariant, range: [0, end] }] } };
  }
  if (state.status !== 'running') return null;
  const split: SplitSlice[] = experimentLayout(plan, state.coverage)
    .filter((r) => r.range[1] > r.range[0])
    .map((r) => ({ variant: r.variant, range: r.range, arm: r.arm }));
  return { id, experiment: plan.id, serve: { split } };
}

/** What the ship rollout may set; everything else comes from the experiment. */
export interface ShipRolloutOptions {
  /** Id of the new rollout. */
  id: string;
  /**
   * Stages after the first, each above the first stage's reach (the winner's end), the last at 100; default
   * `[{reach: 50}, {reach: 100}]` without the ones at or below the start. The first stage is added here.
   */
  stages?: readonly Record<string, unknown>[];
  holdback?: number;
  mode?: RolloutPlan['mode'];
  /** Minimum duration of the first stage (default: the rollout default). */
  firstStageMinDuration?: string | number;
}

const DEFAULT_SHIP_STAGES = [{ reach: 50 }, { reach: 100 }];
const STAGE_PATH = /^stages\[(\d+)\]/;

/** Maps a rollout stage path to the option it came from: stage 0 is generated, the others are `options.stages`. */
function stagePath(path: string): string {
  const m = STAGE_PATH.exec(path);
  if (m === null) return path;
  const k = Number(m[1]);
  if (k > 0) return `stages[${k - 1}]${path.slice(m[0].length)}`;
  return path.endsWith('.minDuration') ? 'firstStageMinDuration' : 'stages';
}

/**
 * Turns a shipped experiment into a guarded rollout plan of its winner on the same flag, environment and salt:
 * treatment = the winner, control = the experiment's control, first stage at the reach `shipBuckets` gives (so
 * every unit that saw the winner is in treatment from the first moment and keeps it as reach grows), then
 * `options.stages`; guardrails = the experiment's guardrails plus its success metrics (at their metrics'
 * margins), the surface's required ones merged by `validateRolloutPlan`. Issues name the option that is wrong
 * (`stages[i].reach` counts the stages given here).
 */
export function shipRolloutPlan(
  experiment: { plan: ExperimentPlan; state: ExperimentState },
  options: ShipRolloutOptions,
  context: RolloutPlanContext,
): ValidationResult<RolloutPlan> {
  const { plan, state } = experiment;
  const issues = new Issues();
  const winner = state.shippedVariant;
  if (state.status !== 'shipped' || winner === null) {
    issues.add('', `expected a shipped experiment; this one is ${state.status}`);
    return issues.result(null as unknown as RolloutPlan);
  }
  const start = shipBuckets(plan, state.coverage, winner);
  const startReach = bucketsToReach(start);
  const given = options.stages ?? DEFAULT_SHIP_STAGES.filter((s) => reachToBuckets(s.reach) > start);
  given.forEach((s, i) => {
    const reach = s.reach;
    if (typeof reach === 'number' && Number.isFinite(reach) && reach <= startReach)
      issues.add(
        child(child('stages', i), 'reach'),
        `expected a reach above the first stage at ${startReach}%, where the winner ${winner} already is`,
      );
  });
  if (issues.list.length > 0) return issues.result(null as unknown as RolloutPlan);
  const first: Record<string, unknown> = { reach: startReach };
  if (options.firstStageMinDuration !== undefined) first.minDuration = options.firstStageMinDuration;
  const input = {
    id: options.id,
    flag: plan.flag,
    environment: plan.environment,
    treatment: winner,
    control: plan.control,
    stages: [first, ...given],
    guardrails: [
      ...plan.guardrails.map((g) => ({ metric: g.metric, margin: g.margin, required: g.required })),
      ...plan.successMetrics.map((s) => ({ metric: s.metric })),
    ],
    ...(options.holdback !== undefined ? { holdback: options.holdback } : {}),
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
  };
  const result = validateRolloutPlan(input, context);
  if (result.ok) return result;
  // Stage issues refer to the stages given here: the generated first stage shifts them by one.
  return {
    ok: false,
    issues: result.issues.map((issue) => ({
      ...issue,
      path: stagePath(issue.path),
    })),
  };
}
