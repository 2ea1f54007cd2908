/** The config source port over SQL: an environment's flags and segments read in one snapshot. */
import type { FlagConfig, Segment } from '@dimmer/core';
import type { SqlDriver } from '../storage/sql/sql-driver.ts';
import { json, num } from '../storage/sql/sql-rows.ts';
import { type ConfigStore, enabledHoldbacks } from './config.store.ts';

/** The config store over a migrated driver. */
export function createSqlConfigStore(driver: SqlDriver): ConfigStore {
  return {
    async versions() {
      const rows = await driver.all(
        'SELECT key, config_version, committed_at FROM environments ORDER BY key',
      );
      return rows.map((r) => ({
        environment: String(r.key),
        version: num(r.config_version),
        committedAt: num(r.committed_at),
      }));
    },
    async read(environment) {
      return driver.transaction(
        async (tx) => {
          const [env] = await tx.all('SELECT config_version, committed_at FROM environments WHERE key = ?', [
            environment,
          ]);
          if (!env) return undefined;
          const flags = await tx.all('SELECT document FROM flags WHERE archived = 0 ORDER BY key');
          const segments = await tx.all('SELECT document FROM segments ORDER BY key');
          const surfaces = await tx.all('SELECT document FROM surfaces ORDER BY key');
          return {
            environment,
            version: num(env.config_version),
            committedAt: num(env.committed_at),
            flags: flags.map((r) => json(r.document) as FlagConfig),
            segments: segments.map((r) => json(r.document) as Segment),
            holdbacks: enabledHoldbacks(surfaces.map((r) => json(r.document))),
          };
        },
        { readOnly: true },
      );
    },
  };
}
