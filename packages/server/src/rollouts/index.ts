/** The rollouts feature as other features see it: its port's types, statuses and in-memory tables. */

export { armStats as cohortArmStats, zero as emptyArmStats } from './evidence.ts';
export { relativeChangeOf } from './relative-change.ts';
export {
  COHORT_STATS_TABLE,
  COHORT_UNITS_TABLE,
  type MemoryCohortStats,
  type MemoryCohortUnits,
  type MemoryQuantileStats,
  QUANTILE_STATS_TABLE,
  ROLLOUTS_TABLE,
} from './rollouts.memory.ts';
export { rolloutView } from './rollouts.routes.ts';
export type { ApprovalGate, RolloutsService } from './rollouts.service.ts';
export {
  ACTIVE_ROLLOUT_STATUSES,
  ANALYSED_ROLLOUT_STATUSES,
  type ArmName,
  type CohortStatsRow,
  type CohortUnitsRow,
  ROLLOUT_STATUSES,
  type RolloutAnalysis,
  type RolloutRecord,
  type RolloutStatus,
  type RolloutsStore,
} from './rollouts.store.ts';
