/**
 * Per-guardrail time series for the charts (pure, no DOM): from the server's chart history (every look of the
 * rollout, downsampled when long, appended to on each refresh), or from decisions when a server has no chart.
 */
import type { ChartHistory, HistoryEntry } from '@dimmer/api';
import type { HarmDirection, RolloutDecision } from './api.ts';

/** Columns of one guardrail chart, aligned by index; `null` where a look has no value. */
export interface GuardrailSeries {
  metric: string;
  /** Look times, seconds since the epoch (uPlot's time unit). */
  times: number[];
  estimate: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
  /** Deterioration boundary on the difference scale: the estimate that would trigger a rollback. */
  rollback: (number | null)[];
  /** Non-inferiority margin on the difference scale (on the harmful side). */
  margin: (number | null)[];
  /** Quantile metrics: the percentile's name ("p99") and both arms' quantiles at each look, in metric units. */
  quantile?: { name: string; control: (number | null)[]; treatment: (number | null)[] };
}

/** A percentile's name: 0.99 → "p99", 0.999 → "p99.9". */
export function percentileName(q: number): string {
  return `p${Number((q * 100).toPrecision(6))}`;
}

const MS_PER_SECOND = 1000;

function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** +1 when a higher value is harmful, −1 when a lower one is. */
export function harmSign(direction: HarmDirection | undefined): 1 | -1 {
  return direction === 'lower_is_worse' ? -1 : 1;
}

/** Names of the guardrails that appear in any decision's evidence, in first-seen order. */
export function guardrailNames(decisions: readonly RolloutDecision[]): string[] {
  const names: string[] = [];
  for (const d of decisions)
    for (const m of d.evidence?.metrics ?? []) if (!names.includes(m.metric)) names.push(m.metric);
  return names;
}

/**
 * The series of one guardrail over the decisions (sorted by time). The rollback boundary b (z scale) is
 * drawn where the estimate would cross it, h·b·SE; the margin θ at h·θ, both on the harmful side.
 */
export function guardrailSeries(decisions: readonly RolloutDecision[], metric: string): GuardrailSeries {
  const out: GuardrailSeries = {
    metric,
    times: [],
    estimate: [],
    lower: [],
    upper: [],
    rollback: [],
    margin: [],
  };
  const sorted = [...decisions].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  for (const decision of sorted) {
    const e = decision.evidence?.metrics?.find((m) => m.metric === metric);
    const t = Date.parse(decision.at);
    if (e === undefined || Number.isNaN(t)) continue;
    const h = harmSign(e.direction);
    const boundary = finite(e.boundary);
    const se = finite(e.se);
    const margin = finite(e.margin);
    out.times.push(t / MS_PER_SECOND);
    out.estimate.push(finite(e.estimate));
    out.lower.push(finite(e.interval?.[0]));
    out.upper.push(finite(e.interval?.[1]));
    out.rollback.push(boundary !== null && se !== null ? h * boundary * se : null);
    out.margin.push(margin !== null ? h * margin : null);
    if (e.quantile !== undefined) {
      const k = out.times.length - 1;
      out.quantile ??= {
        name: percentileName(e.quantile.q),
        control: new Array<number | null>(k).fill(null),
        treatment: new Array<number | null>(k).fill(null),
      };
      out.quantile.control.push(finite(e.quantile.control));
      out.quantile.treatment.push(finite(e.quantile.treatment));
    } else if (out.quantile !== undefined) {
      out.quantile.control.push(null);
      out.quantile.treatment.push(null);
    }
  }
  // Looks too small to spend α have no boundary; the line keeps its last value instead of vanishing.
  out.rollback = carryForward(out.rollback);
  out.margin = carryForward(out.margin);
  return out;
}

/** Replaces each null after a finite value by the last finite value (a step line across gaps). */
export function carryForward(values: readonly (number | null)[]): (number | null)[] {
  let last: number | null = null;
  return values.map((v) => {
    if (v !== null && Number.isFinite(v)) last = v;
    return last;
  });
}

/** A vertical marker on every chart: a stage change, a person's action, or the decision that acted. */
export interface ChartMarker {
  /** Seconds since the epoch. */
  t: number;
  kind: 'stage' | 'rollback' | 'action';
  label: string;
}

/**
 * Markers from a rollout's history: every applied action (start, advance, rollback, pause, resume,
 * complete). Decisions that only recommended are not marked; an applied decision shows as its action.
 */
export function chartMarkers(history: readonly HistoryEntry[]): ChartMarker[] {
  const out: ChartMarker[] = [];
  for (const h of history) {
    if (h.kind !== 'action') continue;
    const t = Date.parse(h.at);
    if (Number.isNaN(t)) continue;
    const by = h.actor === null ? '' : ` by ${h.actor}`;
    if (h.action === 'rollback') out.push({ t: t / MS_PER_SECOND, kind: 'rollback', label: `rollback${by}` });
    else if (h.action === 'advance' || h.action === 'start')
      out.push({
        t: t / MS_PER_SECOND,
        kind: 'stage',
        label: `stage ${h.stageIndex + 1} (${h.reach}%)${by}`,
      });
    else out.push({ t: t / MS_PER_SECOND, kind: 'action', label: `${h.action}${by}` });
  }
  return out;
}

/**
 * Appends an incremental chart reply (the looks after the previous cursor) to the chart read so far: the
 * columns are concatenated and the cursor moves on.
 */
export function appendChart(previous: ChartHistory, since: ChartHistory): ChartHistory {
  if (since.at.length === 0) return { ...previous, cursor: since.cursor };
  const metrics: ChartHistory['metrics'] = {};
  const names = [...new Set([...Object.keys(previous.metrics), ...Object.keys(since.metrics)])];
  const blank = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);
  for (const m of names) {
    const a = previous.metrics[m];
    const b = since.metrics[m];
    const n = previous.at.length;
    const k = since.at.length;
    const col = <K extends keyof ChartHistory['metrics'][string]>(
      key: K,
      empty: ChartHistory['metrics'][string][K][number],
    ) =>
      [
        ...(a?.[key] ?? blank(n, empty)),
        ...(b?.[key] ?? blank(k, empty)),
      ] as ChartHistory['metrics'][string][K];
    metrics[m] = {
      estimate: col('estimate', null),
      lower: col('lower', null),
      upper: col('upper', null),
      rollback: col('rollback', null),
      margin: col('margin', null),
      z: col('z', null),
      crossed: col('crossed', false),
    };
  }
  return {
    rollout: previous.rollout,
    cursor: since.cursor,
    total: previous.total + since.total,
    downsampled: previous.downsampled || since.downsampled,
    at: [...previous.at, ...since.at],
    attempt: [...previous.attempt, ...since.attempt],
    stage: [...previous.stage, ...since.stage],
    reach: [...previous.reach, ...since.reach],
    action: [...previous.action, ...since.action],
    applied: [...previous.applied, ...since.applied],
    metrics,
  };
}

/**
 * One guardrail's series from the chart history. The server already carries the rollback boundary and the
 * margin over looks too early to spend α, so the step lines are drawn across the whole rollout.
 */
export function seriesFromChart(chart: ChartHistory, metric: string): GuardrailSeries {
  const m = chart.metrics[metric];
  const n = chart.at.length;
  const nulls = () => Array.from({ length: n }, () => null);
  return {
    metric,
    times: chart.at.map((ms) => ms / MS_PER_SECOND),
    estimate: m?.estimate ?? nulls(),
    lower: m?.lower ?? nulls(),
    upper: m?.upper ?? nulls(),
    rollback: carryForward(m?.rollback ?? nulls()),
    margin: carryForward(m?.margin ?? nulls()),
  };
}
