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
  /** The enabled surface holdbacks, by surface key. */
  holdbacks: Record<string, ConfigHoldback>;
}

/** What a flag's snapshot carries of its surface's enabled holdback. */
export interface ConfigHoldback {
  salt: string;
  percent: number;
}

/** The enabled holdbacks among stored surface documents, by surface key. */
export function enabledHoldbacks(documents: readonly unknown[]): Record<string, ConfigHoldback> {
  const out: Record<string, ConfigHoldback> = {};
  for (const doc of documents) {
    const d = doc as {
      key?: unknown;
      holdback?: { enabled?: unknown; salt?: unknown; percent?: unknown };
    } | null;
    const h = d?.holdback;
    if (
      typeof d?.key === 'string' &&
      h?.enabled === true &&
      typeof h.salt === 'string' &&
      typeof h.percent === 'number'
    )
      out[d.key] = { salt: h.salt, percent: h.percent };
  }
  return out;
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
