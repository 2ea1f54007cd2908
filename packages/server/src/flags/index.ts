/** The flags feature as other features see it: its port's types and its in-memory table. */

export { withRule } from './flag-rules.ts';
export { environmentsTouched, type FlagState } from './flag-versions.ts';
export { FLAGS_TABLE } from './flags.memory.ts';
export type { FlagFilter, FlagRecord, FlagsStore } from './flags.store.ts';
export {
  blockingRule,
  type OwnedRule,
  type RolloutGuard,
  type RolloutRelease,
  servesEveryone,
} from './rollout-guard.ts';
