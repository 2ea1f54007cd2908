/** The config source port over SQL: an environment's flags and segments read in one snapshot. */
import type { FlagConfig, Segment } from '@dimmer/core';
import type { SqlDriver } from '../storage/sql/sql-driver.ts';
import { json, num } from '../storage/sql/sql-rows.ts';
import { type ConfigStore, enabledHoldbacks } from './config.store.ts';

/**
 * The config store over a migrated driver. Documents whose stored text is unchanged since the last read come
 * back as the same (never mutated) objects: a version that changed one segment parses one segment, and
 * what compares or compiles by object (the stream patch, the incremental compile) sees the rest unchanged.
 */
export function createSqlConfigStore(driver: SqlDriver): ConfigStore {
  // The documents of the last read by their text; each read keeps only the texts it saw, so this stays bounded.
  let parsed = new Map<string, unknown>();
  const documentsOf = (rows: readonly Record<string, unknown>[], seen: Map<string, unknown>): unknown[] =>
    rows.map((row) => {
      const text = String(row.document);
      let document = seen.get(text) ?? parsed.get(text);
      if (document === undefined) document = json(text);
      seen.set(text, document);
      return document;
    });
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
          const seen = new Map<string, unknown>();
          const read = {
            environment,
            version: num(env.config_version),
            committedAt: num(env.committed_at),
            flags: documentsOf(flags, seen) as FlagConfig[],
            segments: documentsOf(segments, seen) as Segment[],
            holdbacks: enabledHoldbacks(surfaces.map((r) => json(r.document))),
          };
          parsed = seen;
          return read;
        },
        { readOnly: true },
      );
    },
  };
}
