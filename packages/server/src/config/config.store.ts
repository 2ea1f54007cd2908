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

/** One environment's current config version (the cheap poll every node runs). */
export interface ConfigVersion {
  environment: string;
  version: number;
  /** Epoch milliseconds of the commit. */
  committedAt: number;
}

export interface ConfigStore {
  /** Every environment's current config version, by name. */
  versions(): Promise<ConfigVersion[]>;
  /** The environment's config at its current version, or undefined when the environment does not exist. */
  read(environment: string): Promise<ConfigSource | undefined>;
}
