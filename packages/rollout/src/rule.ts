// The rule a rollout puts on its flag. Treatment is always buckets [0, reach): raising reach only adds units to
// treatment, and lowering it to 0 and raising it again brings back the same units.

import { BUCKET_COUNT, type Rule, type SplitSlice } from '@dimmer/core';
import { ROLLOUT_RULE_ID_PREFIX, type RolloutPlan, stageReachBuckets } from './plan.ts';
import type { RolloutState } from './state.ts';

/** Id of the rule a rollout manages on its flag: `rollout-<id>`. */
export function rolloutRuleId(plan: RolloutPlan): string {
  return ROLLOUT_RULE_ID_PREFIX + plan.id;
}

/** Treatment buckets (of 1,000,000) the rollout serves in `state`: 0 when rolled back or draft. */
export function treatmentBuckets(plan: RolloutPlan, state: RolloutState): number {
  switch (state.status) {
    case 'draft':
    case 'rolled_back':
      return 0;
    case 'completed':
      return BUCKET_COUNT;
    default:
      return stageReachBuckets(plan, state.stageIndex);
  }
}

/**
 * The core rule for the flag's environment: while the rollout is live (running, paused, holding, rolled back)
 * a split over the whole bucket space, treatment `[0, reach)` and control `[reach, 1,000,000)`, marked with
 * the rollout id so both arms are logged as exposures (rolled back: everything control). Completed: treatment
 * for everyone, unmarked (monitoring has ended, the holdback is released). Draft: null (the flag is untouched).
 */
export function rolloutRule(plan: RolloutPlan, state: RolloutState): Rule | null {
  const id = rolloutRuleId(plan);
  if (state.status === 'draft') return null;
  if (state.status === 'completed') return { id, serve: { variant: plan.treatment } };
  const reach = treatmentBuckets(plan, state);
  const split: SplitSlice[] = [];
  if (reach > 0) split.push({ variant: plan.treatment, range: [0, reach], arm: 'treatment' });
  if (reach < BUCKET_COUNT)
    split.push({ variant: plan.control, range: [reach, BUCKET_COUNT], arm: 'control' });
  return { id, rollout: plan.id, serve: { split } };
}
