/**
 * The preview attached to flag updates: for each environment whose served configuration changed, how
 * many units would get a different variant. Units are synthetic ids carrying only `targetingKey` (real
 * contexts carry attributes they do not). When no condition depends on the unit id, which variant a unit
 * gets depends only on its bucket, so the change is computed exactly over the whole bucket space from the
 * rules' bucket ranges; otherwise a fixed sample of ids is evaluated.
 */
import {
  BUCKET_COUNT,
  type CompiledFlag,
  type CompiledRule,
  type CompiledSlice,
  type Condition,
  compileConfig,
  type FlagConfig,
  flattenFlag,
  previewSplitChange,
  type Segment,
  type SnapshotFlag,
  type SplitChangePreview,
} from '@dimmer/core';

/** Units in the preview sample. */
export const PREVIEW_SAMPLE_SIZE = 100_000;

let cachedSample: { size: number; units: string[] } | undefined;

/** The deterministic sample: `unit-0` … `unit-<size-1>`. */
export function previewSample(size: number = PREVIEW_SAMPLE_SIZE): readonly string[] {
  if (cachedSample?.size !== size)
    cachedSample = { size, units: Array.from({ length: size }, (_, i) => `unit-${i}`) };
  return cachedSample.units;
}

function sameJson(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** JSON with object keys sorted, so documents compare by content. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(stableStringify).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return '{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + stableStringify(v)).join(',') + '}';
  }
  return JSON.stringify(value) ?? 'null';
}

/** The attribute every synthetic unit carries: its id. */
const UNIT_ID_ATTRIBUTE = 'targetingKey';

/** Whether `condition` may give different answers for synthetic units (it reads the unit id, or a segment that cannot be found). */
function readsUnitId(
  condition: Condition,
  segments: ReadonlyMap<string, Condition>,
  seen: Set<string> = new Set(),
): boolean {
  if ('attr' in condition)
    return condition.attr === UNIT_ID_ATTRIBUTE || condition.attr.startsWith(`${UNIT_ID_ATTRIBUTE}.`);
  if ('all' in condition) return condition.all.some((c) => readsUnitId(c, segments, seen));
  if ('any' in condition) return condition.any.some((c) => readsUnitId(c, segments, seen));
  if ('not' in condition) return readsUnitId(condition.not, segments, seen);
  const segment = segments.get(condition.segment);
  if (segment === undefined) return true;
  if (seen.has(condition.segment)) return false;
  seen.add(condition.segment);
  return readsUnitId(segment, segments, seen);
}

/** A run of buckets `[start, end)` served one variant. */
interface BucketRun {
  start: number;
  end: number;
  variant: string;
}

/**
 * The variant each bucket gets for a synthetic unit, as runs covering `[0, BUCKET_COUNT)` in order, or
 * undefined when that is not a function of the bucket alone (a condition reads the unit id, or the flag
 * does not compile). Overrides name single units, a vanishing share of them, and are left out.
 */
function bucketRuns(flag: SnapshotFlag, segments: ReadonlyMap<string, Condition>): BucketRun[] | undefined {
  const compiled = compileConfig({
    environment: 'preview',
    version: 0,
    flags: [flag],
    segments: [...segments].map(([key, when]) => ({ key, when })),
  });
  const target = compiled.flags.get(flag.key) as CompiledFlag | undefined;
  if (target === undefined || target.error !== null || compiled.issues.length > 0) return undefined;
  if (!target.enabled) return [{ start: 0, end: BUCKET_COUNT, variant: target.defaultVariant }];
  const unit = { [UNIT_ID_ATTRIBUTE]: 'unit-0' };
  const epoch = compiled.segmentMemo.nextEpoch();
  // The buckets no rule has served yet, as ordered disjoint ranges; each rule serves part of them.
  let open: [number, number][] = [[0, BUCKET_COUNT]];
  const runs: BucketRun[] = [];
  for (let r = 0; r < target.rules.length && open.length > 0; r++) {
    const rule = target.rules[r] as CompiledRule;
    const source = flag.rules[r];
    if (source?.when !== undefined) {
      if (readsUnitId(source.when, segments)) return undefined;
      if (rule.when !== null && !rule.when(unit, epoch)) continue;
    }
    if (rule.variant !== null) {
      for (const [start, end] of open) runs.push({ start, end, variant: rule.variant });
      open = [];
      break;
    }
    // A split by another attribute is skipped: synthetic units carry only their id.
    if (rule.unitAttribute !== UNIT_ID_ATTRIBUTE) continue;
    const next: [number, number][] = [];
    for (const [start, end] of open) {
      let at = start;
      for (const slice of rule.slices as readonly CompiledSlice[]) {
        const from = Math.max(at, slice.start);
        const to = Math.min(end, slice.end);
        if (from >= to) continue;
        if (from > at) next.push([at, from]);
        runs.push({ start: from, end: to, variant: slice.variant });
        at = to;
      }
      if (at < end) next.push([at, end]);
    }
    open = next;
  }
  for (const [start, end] of open) runs.push({ start, end, variant: target.defaultVariant });
  return runs.sort((a, b) => a.start - b.start);
}

/** The exact change between two bucket-run maps: every bucket counts as one unit of `BUCKET_COUNT`. */
function compareRuns(before: readonly BucketRun[], after: readonly BucketRun[]): SplitChangePreview {
  const counts = new Map<string, { from: string; to: string; count: number }>();
  let changed = 0;
  let i = 0;
  let j = 0;
  let at = 0;
  while (i < before.length && j < after.length) {
    const a = before[i] as BucketRun;
    const b = after[j] as BucketRun;
    const end = Math.min(a.end, b.end);
    if (a.variant !== b.variant && end > at) {
      const count = end - at;
      changed += count;
      const id = JSON.stringify([a.variant, b.variant]);
      const entry = counts.get(id);
      if (entry) entry.count += count;
      else counts.set(id, { from: a.variant, to: b.variant, count });
    }
    at = end;
    if (a.end === end) i++;
    if (b.end === end) j++;
  }
  return {
    sampled: BUCKET_COUNT,
    changed,
    share: changed / BUCKET_COUNT,
    transitions: [...counts.values()].sort(
      (x, y) => y.count - x.count || x.from.localeCompare(y.from) || x.to.localeCompare(y.to),
    ),
  };
}

/**
 * The preview of one environment: exact over all `BUCKET_COUNT` buckets when both sides assign synthetic
 * units by bucket alone with the same salt, else the evaluation of `sampleSize` synthetic ids.
 */
function previewEnvironment(
  before: SnapshotFlag,
  after: SnapshotFlag,
  segments: readonly Segment[],
  sampleSize: number,
): SplitChangePreview {
  if (before.salt === after.salt && before.hashVersion === after.hashVersion) {
    const byKey = new Map(segments.map((s) => [s.key, s.when]));
    const a = bucketRuns(before, byKey);
    const b = a === undefined ? undefined : bucketRuns(after, byKey);
    if (a !== undefined && b !== undefined) return compareRuns(a, b);
  }
  return previewSplitChange(before, after, previewSample(sampleSize), segments);
}

/**
 * Per environment whose flattened flag differs between `before` and `after`: the split change preview,
 * exact from bucket ranges where no condition reads the unit id, sampled over `sampleSize` ids otherwise.
 */
export function previewFlagChange(
  before: FlagConfig,
  after: FlagConfig,
  environments: readonly string[],
  segments: readonly Segment[],
  sampleSize: number = PREVIEW_SAMPLE_SIZE,
): Record<string, SplitChangePreview> {
  const out: Record<string, SplitChangePreview> = {};
  for (const env of environments) {
    const a = flattenFlag(before, env);
    const b = flattenFlag(after, env);
    if (sameJson(a, b)) continue;
    out[env] = previewEnvironment(a, b, segments, sampleSize);
  }
  return out;
}
