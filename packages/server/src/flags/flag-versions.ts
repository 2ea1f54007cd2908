/**
 * Which environments' config a flag write changes. A flag document spans environments: its shared fields (kind,
 * variants, default variant, salt, description-free evaluation fields) appear in every environment's config, its
 * `environments[env]` entry only in that one. An environment gets a new config version only when the flag as
 * evaluated there (core's flattened form) changed, so a change to one environment's state bumps that
 * environment, and a change to shared fields, a creation or an archiving bumps every environment.
 */
import { type FlagConfig, flattenFlag } from '@dimmer/core';

/** A flag's stored state as far as config is concerned. */
export interface FlagState {
  flag: FlagConfig;
  archived: boolean;
}

/**
 * The environments (of `environments`) whose config differs between `before` and `after`; a flag absent or
 * archived on one side is in or out of every environment's config.
 */
export function environmentsTouched(
  before: FlagState | undefined,
  after: FlagState | undefined,
  environments: readonly string[],
): string[] {
  const visible = (s: FlagState | undefined) => s !== undefined && !s.archived;
  if (visible(before) !== visible(after)) return visible(before) || visible(after) ? [...environments] : [];
  if (!visible(before)) return [];
  const b = (before as FlagState).flag;
  const a = (after as FlagState).flag;
  return environments.filter(
    (env) => JSON.stringify(flattenFlag(b, env)) !== JSON.stringify(flattenFlag(a, env)),
  );
}
