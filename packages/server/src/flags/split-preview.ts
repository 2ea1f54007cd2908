/**
 * The preview attached to flag updates: for each environment whose served configuration changed, how
 * many of a fixed synthetic sample of units would get a different variant. It is an estimate of the
 * share of real units that change (real contexts carry attributes the synthetic ids do not).
 */
import {
  type FlagConfig,
  flattenFlag,
  previewSplitChange,
  type Segment,
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

/** Per environment whose flattened flag differs between `before` and `after`: the split change preview. */
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
    out[env] = previewSplitChange(a, b, previewSample(sampleSize), segments);
  }
  return out;
}
