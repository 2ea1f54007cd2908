/** The config source port in memory (unit tests): the current flags and segments of the shared database. */
import type { FlagConfig, Segment } from '@dimmer/core';
import { FLAGS_TABLE, type FlagRecord } from '../flags/index.ts';
import { SEGMENTS_TABLE, type SegmentRecord } from '../segments/index.ts';
import {
  byKey,
  copy,
  ENVIRONMENTS_TABLE,
  type MemoryDatabase,
  type VersionedEnvironment,
} from '../storage/memory/memory-database.ts';
import { type ConfigStore, enabledHoldbacks } from './config.store.ts';

/** The config store over the shared in-memory database. */
export function createMemoryConfigStore(db: MemoryDatabase): ConfigStore {
  const environments = db.table<VersionedEnvironment>(ENVIRONMENTS_TABLE);
  const flags = db.table<FlagRecord>(FLAGS_TABLE);
  const segments = db.table<SegmentRecord>(SEGMENTS_TABLE);
  const surfaces = db.table<{ doc: unknown }>('surfaces');
  return {
    async versions() {
      return [...environments.values()]
        .map((e) => ({ environment: e.key, version: e.configVersion, committedAt: e.committedAt }))
        .sort((a, b) => (a.environment < b.environment ? -1 : a.environment > b.environment ? 1 : 0));
    },
    async read(environment) {
      const env = environments.get(environment);
      if (!env) return undefined;
      const flagDocs: FlagConfig[] = [...flags.values()]
        .filter((r) => !r.archived)
        .sort((a, b) => byKey(a.flag, b.flag))
        .map((r) => copy(r.flag));
      const segmentDocs: Segment[] = [...segments.values()]
        .sort((a, b) => byKey(a.segment, b.segment))
        .map((r) => copy(r.segment));
      return {
        environment,
        version: env.configVersion,
        committedAt: env.committedAt,
        flags: flagDocs,
        segments: segmentDocs,
        holdbacks: enabledHoldbacks([...surfaces.values()].map((r) => copy(r.doc))),
      };
    },
  };
}
