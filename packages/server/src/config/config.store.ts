import type { FlagConfig, Segment } from '@dimmer/core';

/** Everything an environment's snapshot is built from, read consistently at one config version. */
export interface ConfigSource {
  environment: string;
  version: number;
  /** Epoch milliseconds. */
  committedAt: number;
  /** Non-archived flags, ordered by key. */
  flags: FlagConfig[];
  /** Segments ordered by key. */
  segments: Segment[];
}

export interface ConfigStore {
  /** The environment's config at its current version, or undefined when the environment does not exist. */
  read(environment: string): Promise<ConfigSource | undefined>;
}
