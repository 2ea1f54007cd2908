/**
 * The chart history of a rollout: one compact point per guardrail at every look of the controller (kept even
 * when the decision log folds a run of identical holds into one entry), read back over the whole rollout as
 * columns and downsampled for long rollouts, always keeping the looks a person needs to see.
 */
import type { ChartHistory, ChartSeries } from '@dimmer/api';
import type { DecisionInput, LookInput, LookPoint, LookRecord } from './rollouts.store.ts';

/** Default and largest number of looks in one chart reply. */
export const DEFAULT_CHART_POINTS = 500;
export const MAX_CHART_POINTS = 5000;

function finite(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

interface StoredMetricLook {
  direction?: string;
  margin?: number;
  summary?: {
    delta?: number;
    se?: number | null;
    interval?: [number | null, number | null];
    meanControl?: number;
    harmDetected?: boolean;
    deterioration?: { z?: number | null; boundary?: number | null };
    nonInferiority?: { margin?: number } | null;
  } | null;
}

/** The chart points of one decision's evidence (packages/rollout's Decision without `nextState`). */
export function lookPoints(evidence: Record<string, unknown>): Record<string, LookPoint> {
  const out: Record<string, LookPoint> = {};
  const metrics = (evidence.metrics ?? {}) as Record<string, StoredMetricLook>;
  for (const [metric, look] of Object.entries(metrics)) {
    const s = look?.summary;
    const h = look?.direction === 'lower_is_worse' ? -1 : 1;
    if (s === null || s === undefined) {
      out[metric] = {
        estimate: null,
        lower: null,
        upper: null,
        rollback: null,
        margin: null,
        z: null,
        crossed: false,
      };
      continue;
    }
    const se = finite(s.se);
    const boundary = finite(s.deterioration?.boundary);
    const theta =
      finite(s.nonInferiority?.margin) ??
      (finite(look.margin) !== null && finite(s.meanControl) !== null
        ? (look.margin as number) * (s.meanControl as number)
        : null);
    out[metric] = {
      estimate: finite(s.delta),
      lower: finite(s.interval?.[0]),
      upper: finite(s.interval?.[1]),
      rollback: boundary !== null && se !== null ? h * boundary * se : null,
      margin: theta === null ? null : h * Math.abs(theta),
      z: finite(s.deterioration?.z),
      crossed: s.harmDetected === true,
    };
  }
  return out;
}

/** The look a decision makes: its position and its chart points. */
export function lookOf(decision: DecisionInput): LookInput {
  const e = decision.evidence as { stageIndex?: number; reach?: number };
  return {
    rollout: decision.rollout,
    attempt: decision.attempt,
    at: decision.at,
    stage: typeof e.stageIndex === 'number' ? e.stageIndex : 0,
    reach: typeof e.reach === 'number' ? e.reach : 0,
    action: decision.action,
    applied: decision.applied,
    points: lookPoints(decision.evidence),
  };
}

/**
 * Indexes of the looks to keep: all of them when they fit in `budget`; otherwise the first and last, every
 * stage or attempt change (and the look before it, so the step is drawn where it happened), every look that
 * was not a plain hold, and the look where a metric's rollback test first fired, then evenly spaced looks up
 * to the budget.
 */
export function keptLooks(looks: readonly LookRecord[], budget: number): number[] {
  const n = looks.length;
  if (n <= budget) return looks.map((_, i) => i);
  const keep = new Set<number>([0, n - 1]);
  for (let i = 1; i < n; i++) {
    const prev = looks[i - 1] as LookRecord;
    const look = looks[i] as LookRecord;
    if (look.stage !== prev.stage || look.attempt !== prev.attempt) {
      keep.add(i - 1);
      keep.add(i);
    }
    if (look.action !== 'hold') keep.add(i);
    for (const [metric, p] of Object.entries(look.points))
      if (p.crossed && prev.points[metric]?.crossed !== true) keep.add(i);
  }
  const rest = budget - keep.size;
  if (rest > 0) {
    const stride = n / rest;
    for (let k = 0; k < rest; k++) keep.add(Math.min(n - 1, Math.floor(k * stride + stride / 2)));
  }
  return [...keep].sort((a, b) => a - b);
}

/**
 * The chart reply over `looks` (oldest first). The rollback line carries the last finite boundary of the
 * attempt over looks too early to spend α, so a step line can always be drawn; `previous` gives the last
 * finite values before the first look (for an incremental reply).
 */
export function chartHistory(
  rollout: string,
  looks: readonly LookRecord[],
  options: { budget: number; cursor: number; previous?: LookRecord[] },
): ChartHistory {
  const kept = keptLooks(looks, options.budget);
  const names: string[] = [];
  for (const look of looks) for (const m of Object.keys(look.points)) if (!names.includes(m)) names.push(m);
  const metrics: Record<string, ChartSeries> = {};
  for (const m of names) {
    const series: ChartSeries = {
      estimate: [],
      lower: [],
      upper: [],
      rollback: [],
      margin: [],
      z: [],
      crossed: [],
    };
    let carried: { attempt: number; rollback: number | null; margin: number | null } = {
      attempt: -1,
      rollback: null,
      margin: null,
    };
    for (const look of options.previous ?? []) carried = carry(carried, look, m);
    let k = 0;
    for (let i = 0; i < looks.length; i++) {
      const look = looks[i] as LookRecord;
      carried = carry(carried, look, m);
      if (kept[k] !== i) continue;
      k++;
      const p = look.points[m];
      series.estimate.push(p?.estimate ?? null);
      series.lower.push(p?.lower ?? null);
      series.upper.push(p?.upper ?? null);
      series.rollback.push(carried.rollback);
      series.margin.push(carried.margin);
      series.z.push(p?.z ?? null);
      series.crossed.push(p?.crossed === true);
    }
    metrics[m] = series;
  }
  const pick = <T>(f: (l: LookRecord) => T) => kept.map((i) => f(looks[i] as LookRecord));
  return {
    rollout,
    cursor: String(options.cursor),
    total: looks.length,
    downsampled: kept.length < looks.length,
    at: pick((l) => l.at),
    attempt: pick((l) => l.attempt),
    stage: pick((l) => l.stage),
    reach: pick((l) => l.reach),
    action: pick((l) => l.action),
    applied: pick((l) => l.applied),
    metrics,
  };
}

/** The boundary and margin to draw at `look`: its own when finite, else the attempt's last finite ones. */
function carry(
  last: { attempt: number; rollback: number | null; margin: number | null },
  look: LookRecord,
  metric: string,
): { attempt: number; rollback: number | null; margin: number | null } {
  const p = look.points[metric];
  const same = last.attempt === look.attempt;
  return {
    attempt: look.attempt,
    rollback: p?.rollback ?? (same ? last.rollback : null),
    margin: p?.margin ?? (same ? last.margin : null),
  };
}
