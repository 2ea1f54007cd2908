/** The experiments feature as other features see it: its port's types, statuses and in-memory table. */
export { EXPERIMENT_ATTEMPT, experimentAnalysisKey } from './experiment-evidence.ts';
export { EXPERIMENTS_TABLE } from './experiments.memory.ts';
export {
  ACTIVE_EXPERIMENT_STATUSES,
  type ExperimentRecord,
  type ExperimentsStore,
} from './experiments.store.ts';
