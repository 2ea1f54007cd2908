/**
 * Applying the patch a server key's config stream carries (`patch` of a `config` event) to the snapshot a
 * client holds. A patch applies only to the exact version it names as `base`, in the same environment, and
 * only when its shape is sound; anything else answers undefined and the client refetches the config instead.
 */
import type { EnvironmentSnapshot, Segment, SnapshotFlag } from '@dimmer/core';

/** A `config` event of the change stream as the SDK reads it (see ConfigStreamEvent of @dimmer/api). */
export interface ConfigNotice {
  version: number;
  environment?: string;
  /** The ETag of the announced version (server keys). */
  etag?: string;
  /** Unchecked: read with `applyConfigPatch`. */
  patch?: unknown;
}

/** The snapshot a patch produced, with the keys of the flags it added, changed or removed. */
export interface PatchedSnapshot {
  snapshot: EnvironmentSnapshot;
  flagsChanged: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isKeyed(value: unknown): value is { key: string } {
  return isObject(value) && typeof value.key === 'string';
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isKeyedArray(value: unknown): value is { key: string }[] {
  return Array.isArray(value) && value.every(isKeyed);
}

/**
 * `entries` with `changed` replacing the entries of the same key in place, the `removed` keys dropped, and the
 * entries new to it inserted before the first entry whose key sorts after theirs (the server ships flags and
 * segments ordered by key, so a patched snapshot keeps the order a refetch would give). Deterministic: the
 * same entries and patch always give the same order.
 */
function merge<T extends { key: string }>(
  entries: readonly T[],
  changed: readonly T[],
  removed: readonly string[],
): T[] {
  const updates = new Map(changed.map((entry) => [entry.key, entry]));
  const gone = new Set(removed);
  const out: T[] = [];
  for (const entry of entries) {
    const update = updates.get(entry.key);
    if (update !== undefined) {
      out.push(update);
      updates.delete(entry.key);
    } else if (!gone.has(entry.key)) out.push(entry);
  }
  for (const added of updates.values()) {
    const at = out.findIndex((entry) => entry.key > added.key);
    if (at < 0) out.push(added);
    else out.splice(at, 0, added);
  }
  return out;
}

/**
 * The snapshot of the announced version, made from `held` and the notice's patch; undefined when the notice
 * has no patch, names another environment or base, does not announce a newer version, or is malformed.
 * Never throws. The flags themselves are checked when the result is compiled, as a fetched config's are.
 */
export function applyConfigPatch(
  held: EnvironmentSnapshot,
  notice: ConfigNotice,
): PatchedSnapshot | undefined {
  const patch = notice.patch;
  if (!isObject(patch) || patch.base !== held.version || notice.environment !== held.environment)
    return undefined;
  if (!Number.isSafeInteger(notice.version) || notice.version <= held.version) return undefined;
  const { flags, removedFlags, segments, removedSegments } = patch;
  if (!isKeyedArray(flags) || !isStringArray(removedFlags)) return undefined;
  if (!isKeyedArray(segments) || !isStringArray(removedSegments)) return undefined;
  const snapshot: EnvironmentSnapshot = {
    environment: held.environment,
    version: notice.version,
    flags: merge(held.flags, flags as SnapshotFlag[], removedFlags),
    segments: merge(held.segments, segments as Segment[], removedSegments),
  };
  return { snapshot, flagsChanged: [...flags.map((flag) => flag.key), ...removedFlags] };
}
