import { compileConfig } from './compile.ts';
import { evaluate } from './evaluate.ts';
import type { EvaluationContext, Segment, SnapshotFlag } from './model.ts';

/** How many sampled units a config change moves from one variant to another. */
export interface SplitChangePreview {
  sampled: number;
  changed: number;
  /** changed / sampled, in [0, 1]; 0 when nothing was sampled. */
  share: number;
  /** Counts per (from, to) pair of variants, largest first; an evaluation error counts as variant "(error)". */
  transitions: { from: string; to: string; count: number }[];
}

const ERROR_VARIANT = '(error)';

/**
 * Evaluates `before` and `after` (the same flag in one environment, before and after an edit of its split,
 * salt or rules) for each sample unit — a unit id used as targetingKey, or a full context — and counts the
 * units whose variant changes. Segments referenced by the rules may be passed.
 */
export function previewSplitChange(
  before: SnapshotFlag,
  after: SnapshotFlag,
  sampleUnits: readonly (string | EvaluationContext)[],
  segments: readonly Segment[] = [],
): SplitChangePreview {
  const key = typeof before?.key === 'string' ? before.key : 'preview';
  const compiledBefore = compileConfig({
    environment: 'preview',
    version: 0,
    flags: [before],
    segments: [...segments],
  });
  const compiledAfter = compileConfig({
    environment: 'preview',
    version: 1,
    flags: [{ ...after, key }],
    segments: [...segments],
  });
  const counts = new Map<string, { from: string; to: string; count: number }>();
  let changed = 0;
  for (const sample of sampleUnits) {
    const context: EvaluationContext = typeof sample === 'string' ? { targetingKey: sample } : sample;
    const from = evaluate(compiledBefore, key, context).variant ?? ERROR_VARIANT;
    const to = evaluate(compiledAfter, key, context).variant ?? ERROR_VARIANT;
    if (from === to) continue;
    changed++;
    const id = JSON.stringify([from, to]);
    const entry = counts.get(id);
    if (entry) entry.count++;
    else counts.set(id, { from, to, count: 1 });
  }
  const sampled = sampleUnits.length;
  return {
    sampled,
    changed,
    share: sampled === 0 ? 0 : changed / sampled,
    transitions: [...counts.values()].sort(
      (a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to),
    ),
  };
}
