/**
 * The difference between two snapshots of one environment, as server keys' streams carry it: the flags and
 * segments added or changed (whole) and the keys of those removed. Entries are compared by their JSON text,
 * serialized once per snapshot and kept beside it, so a version's patch costs one serialization of the new
 * snapshot (the previous one's texts were made when it was new).
 */
import type { EnvironmentSnapshot } from '@dimmer/core';
import type { SnapshotPatch } from '../client-deps.ts';

export type { SnapshotPatch } from '../client-deps.ts';

/**
 * Largest patch sent on the stream, in characters of JSON text of its flags, segments and removed keys
 * (64 KiB). A larger change is announced without a patch and clients refetch the config: one request per
 * client beats writing a near-whole config down every stream.
 */
export const MAX_STREAM_PATCH_CHARS = 64 * 1024;

/** The JSON text of each flag and segment of a snapshot, by key. */
interface EntryTexts {
  flags: Map<string, string>;
  segments: Map<string, string>;
}

const texts = new WeakMap<EnvironmentSnapshot, EntryTexts | null>();

/** The JSON text of each entry object seen (snapshot entries are never mutated): an entry kept by a new
 * version, as shareUnchanged and the config store keep them, is not serialized again. */
const entryTexts = new WeakMap<object, string>();

function byKey(entries: readonly { key: string }[]): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const entry of entries) {
    let text = entryTexts.get(entry);
    if (text === undefined) {
      text = JSON.stringify(entry);
      entryTexts.set(entry, text);
    }
    out.set(entry.key, text);
  }
  // Two entries with one key cannot be told apart by a patch: such a snapshot is announced without one.
  return out.size === entries.length ? out : null;
}

/** The entry texts of a snapshot (computed once), or null when its keys are not unique. */
function textsOf(snapshot: EnvironmentSnapshot): EntryTexts | null {
  let entry = texts.get(snapshot);
  if (entry === undefined) {
    const flags = byKey(snapshot.flags);
    const segments = byKey(snapshot.segments);
    entry = flags === null || segments === null ? null : { flags, segments };
    texts.set(snapshot, entry);
  }
  return entry;
}

/** Entries of `after` whose text differs from `before`'s (or is new), and the keys `before` has that `after` lacks. */
function diffEntries<T extends { key: string }>(
  before: Map<string, string>,
  after: Map<string, string>,
  entries: readonly T[],
): { changed: T[]; removed: string[]; chars: number } {
  const changed: T[] = [];
  let chars = 0;
  for (const entry of entries) {
    const text = after.get(entry.key) as string;
    if (before.get(entry.key) === text) continue;
    changed.push(entry);
    chars += text.length;
  }
  const removed: string[] = [];
  for (const key of before.keys()) {
    if (after.has(key)) continue;
    removed.push(key);
    chars += key.length + 3;
  }
  return { changed, removed, chars };
}

/**
 * The patch from `previous` to `next` (one environment), or undefined when there is none to send: different
 * environments, a `next` that is not newer, keys that are not unique, or more than `maxChars` of JSON text.
 */
export function diffSnapshots(
  previous: EnvironmentSnapshot,
  next: EnvironmentSnapshot,
  maxChars = MAX_STREAM_PATCH_CHARS,
): SnapshotPatch | undefined {
  if (previous.environment !== next.environment || previous.version >= next.version) return undefined;
  const before = textsOf(previous);
  const after = textsOf(next);
  if (before === null || after === null) return undefined;
  const flags = diffEntries(before.flags, after.flags, next.flags);
  const segments = diffEntries(before.segments, after.segments, next.segments);
  if (flags.chars + segments.chars > maxChars) return undefined;
  return {
    base: previous.version,
    flags: flags.changed,
    removedFlags: flags.removed,
    segments: segments.changed,
    removedSegments: segments.removed,
  };
}

/**
 * `next` with each flag and segment whose JSON text equals `previous`'s replaced by `previous`'s object, so that
 * compiling it with the previous version's compiled config compiles only what changed (see compileConfig).
 * `next` itself when the two cannot be compared (other environment, keys not unique).
 */
export function shareUnchanged(
  previous: EnvironmentSnapshot,
  next: EnvironmentSnapshot,
): EnvironmentSnapshot {
  if (previous.environment !== next.environment) return next;
  const before = textsOf(previous);
  const after = textsOf(next);
  if (before === null || after === null) return next;
  const share = <T extends { key: string }>(
    old: readonly T[],
    oldTexts: Map<string, string>,
    fresh: readonly T[],
    freshTexts: Map<string, string>,
  ): T[] => {
    const byKey = new Map(old.map((entry) => [entry.key, entry]));
    return fresh.map((entry) =>
      oldTexts.get(entry.key) === freshTexts.get(entry.key) ? (byKey.get(entry.key) as T) : entry,
    );
  };
  const shared: EnvironmentSnapshot = {
    ...next,
    flags: share(previous.flags, before.flags, next.flags, after.flags),
    segments: share(previous.segments, before.segments, next.segments, after.segments),
  };
  texts.set(shared, after);
  return shared;
}
