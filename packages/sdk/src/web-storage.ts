/** Browser persistence through `localStorage` (optional: absent or full storage is silently skipped). */
import type { CachedSnapshot, SnapshotCache } from './client.ts';
import type { CachedResolution, ResolutionCache } from './remote-client.ts';

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function defaultStorage(): StorageLike | undefined {
  try {
    return (globalThis as { localStorage?: StorageLike }).localStorage;
  } catch {
    // Some browsers throw on access when storage is disabled.
    return undefined;
  }
}

function jsonStore<T>(key: string, storage: StorageLike | undefined) {
  return {
    load(): T | undefined {
      const text = storage?.getItem(key);
      if (text === null || text === undefined) return undefined;
      try {
        return JSON.parse(text) as T;
      } catch {
        return undefined;
      }
    },
    save(entry: T): void {
      storage?.setItem(key, JSON.stringify(entry));
    },
  };
}

/** Keeps the last good config in `localStorage` under `key` (for local evaluation in browsers and edge runtimes). */
export function localStorageCache(key = 'dimmer:config', storage = defaultStorage()): SnapshotCache {
  return jsonStore<CachedSnapshot>(key, storage);
}

/** Keeps the last resolution in `localStorage` under `key`; it is served only for the same context. */
export function localStorageResolutionCache(
  key = 'dimmer:resolution',
  storage = defaultStorage(),
): ResolutionCache {
  return jsonStore<CachedResolution>(key, storage);
}
