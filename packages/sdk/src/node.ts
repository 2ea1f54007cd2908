/**
 * Node-only pieces: the last-known-good config kept in a file, and bootstrap configs read from files.
 * The browser entry never imports this module.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EnvironmentSnapshot } from '@dimmer/core';
import {
  type CachedSnapshot,
  type ClientOptions,
  createClient as createBaseClient,
  type DimmerClient,
  type SnapshotCache,
} from './client.ts';
import { consoleLogger, describeError } from './platform.ts';

/**
 * A cache that keeps the last good config in a JSON file, written atomically (temporary file, then rename)
 * so a crash mid-write never leaves a torn file. A missing or unreadable file loads as nothing.
 */
export function fileCache(path: string): SnapshotCache {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
      const parsed = JSON.parse(text) as Partial<CachedSnapshot>;
      if (typeof parsed !== 'object' || parsed === null || typeof parsed.snapshot !== 'object')
        return undefined;
      const entry: CachedSnapshot = {
        snapshot: parsed.snapshot as EnvironmentSnapshot,
        savedAt: typeof parsed.savedAt === 'number' ? parsed.savedAt : 0,
      };
      if (typeof parsed.etag === 'string') entry.etag = parsed.etag;
      return entry;
    },
    async save(entry) {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(entry));
      await rename(temporary, path);
    },
  };
}

/** Reads an environment snapshot from a JSON file (for example one saved from `GET /sdk/v1/config`). */
export function readSnapshotFile(path: string): EnvironmentSnapshot {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as EnvironmentSnapshot | CachedSnapshot;
  // Accept both a bare snapshot and a cache file.
  return 'snapshot' in parsed && typeof parsed.snapshot === 'object'
    ? parsed.snapshot
    : (parsed as EnvironmentSnapshot);
}

/** Options of the Node `createClient`: bootstrap and cache may name files. */
export interface NodeClientOptions extends Omit<ClientOptions, 'bootstrap'> {
  /** A snapshot object, or `{ file }` naming a JSON file holding one. */
  bootstrap?: EnvironmentSnapshot | { file: string };
  /** Keep the last good config in this file (shorthand for `cache: fileCache(path)`). */
  cacheFile?: string;
}

/**
 * Creates a server-mode client in Node: like the platform-neutral `createClient`, plus file bootstraps
 * and a file cache. A bootstrap file that cannot be read is logged and skipped; this never throws.
 */
export function createClient(options: NodeClientOptions): DimmerClient {
  const { bootstrap, cacheFile, ...rest } = options;
  const resolved: ClientOptions = { ...rest };
  if (bootstrap !== undefined) {
    if ('file' in bootstrap && typeof bootstrap.file === 'string') {
      try {
        resolved.bootstrap = readSnapshotFile(bootstrap.file);
      } catch (error) {
        (options.logger ?? consoleLogger).warn('could not read the bootstrap file', {
          file: bootstrap.file,
          error: describeError(error),
        });
      }
    } else {
      resolved.bootstrap = bootstrap as EnvironmentSnapshot;
    }
  }
  if (cacheFile !== undefined && resolved.cache === undefined) resolved.cache = fileCache(cacheFile);
  return createBaseClient(resolved);
}
