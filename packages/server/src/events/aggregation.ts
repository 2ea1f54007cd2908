/**
 * One analysis (a rollout attempt, a running experiment, a surface's holdback), kept incrementally: assignment
 * epochs per unit, per-epoch metric accumulators and the per-(cohort, arm, metric) sufficient statistics,
 * updated by differences. Pure: a store loads the touched units' epochs, feeds the group's events through here
 * and writes what `finish` returns.
 *
 * Arms: a rollout has `control` and `treatment`; an experiment has one arm per variant (named after it); a
 * holdback has `holdback` and `rest`. Epoch semantics (independent of arrival order): a unit has at most one
 * epoch per arm, starting at its earliest exposure to that arm. In an ordered analysis (a rollout: reach grows,
 * so units move from control to treatment, never back) an earlier arm's epoch exists only if it starts before
 * the later arm's, where it ends. In an unordered one (experiments, holdbacks: a unit never changes arm) epochs
 * stay open. An event counts for a metric in the epoch whose [start, end) holds its timestamp, when it is within
 * the metric's window after the epoch's start.
 */
import { MAX_METRIC_VALUE } from '@dimmer/rollout';
import { EXPERIMENT_ATTEMPT, experimentAnalysisKey } from '../experiments/index.ts';
import type { MetricDefinition } from '../metrics/index.ts';
import { HOLDBACK_ARM, holdbackAnalysisKey, REST_ARM, type SurfaceHoldback } from '../surfaces/index.ts';
import {
  addUnitToDelta,
  addUnitValue,
  addValueToDelta,
  emptyEventDelta,
  emptySketchDelta,
  emptyUnitValues,
  isEmptyDelta,
  type QuantileDelta,
  type UnitValues,
} from './quantile-stats.ts';

/** An arm of an analysis: `control`/`treatment` (rollouts), a variant name (experiments), `holdback`/`rest`. */
export type ArmName = string;

/** One assignment epoch; `values` holds the raw (uncapped) accumulators `[y0, d0, y1, d1, …]` per metric. */
export interface Epoch {
  cohort: number;
  start: number;
  /** Start of the unit's treatment epoch for a control epoch that was followed by one; null while open. */
  end: number | null;
  values: number[];
  /** Event-scope quantile metrics: the unit's values in this epoch by sketch bucket, per metric key. */
  quantile?: Record<string, UnitValues>;
}

/** The epochs of one unit in one analysis, per arm. */
export type UnitEpochs = Partial<Record<ArmName, Epoch>>;

/** What an analysis reads of an exposure. */
export interface AnalysedExposure {
  flag: string;
  variant: string;
  unit: string;
  holdback?: { surface: string; held: boolean };
}

/** What ingestion needs of an analysis. */
export interface Analysis {
  /** Where its statistics are kept: a rollout's id, `experiment:<id>`, `holdback:<surface>`. */
  id: string;
  attempt: number;
  /** The cohort units first exposed now join: a rollout's stage, an experiment's coverage epoch. */
  stage: number;
  /** Its arms; in an ordered analysis units only move to a later arm. */
  arms: readonly ArmName[];
  ordered: boolean;
  /** The arm an exposure counts for, or null when the analysis does not read it. */
  armOf(exposure: AnalysedExposure): ArmName | null;
  metrics: MetricDefinition[];
}

/** The analysis of a rollout attempt: control and treatment of one flag, units moving from control to treatment. */
export function rolloutAnalysis(rollout: {
  id: string;
  attempt: number;
  stage: number;
  flag: string;
  treatment: string;
  control: string;
  metrics: MetricDefinition[];
}): Analysis {
  const arms: Record<string, ArmName> = { [rollout.control]: 'control', [rollout.treatment]: 'treatment' };
  return {
    id: rollout.id,
    attempt: rollout.attempt,
    stage: rollout.stage,
    arms: ['control', 'treatment'],
    ordered: true,
    // A unit in its surface's holdback is in neither arm: it is not served the rollout.
    armOf: (e) =>
      e.flag === rollout.flag && e.holdback?.held !== true && Object.hasOwn(arms, e.variant)
        ? (arms[e.variant] as ArmName)
        : null,
    metrics: rollout.metrics,
  };
}

/**
 * The analysis of a running experiment: one arm per variant, named after it; the cohort is the coverage epoch
 * (`epochs` coverage changes so far, the first at start).
 */
export function experimentAnalysis(experiment: {
  id: string;
  flag: string;
  variants: readonly string[];
  epochs: number;
  metrics: MetricDefinition[];
}): Analysis {
  return {
    id: experimentAnalysisKey(experiment.id),
    attempt: EXPERIMENT_ATTEMPT,
    stage: Math.max(0, experiment.epochs - 1),
    arms: experiment.variants,
    ordered: false,
    armOf: (e) =>
      e.flag === experiment.flag && e.holdback?.held !== true && experiment.variants.includes(e.variant)
        ? e.variant
        : null,
    metrics: experiment.metrics,
  };
}

/**
 * The analysis of a surface holdback in one environment: the held-back units (arm `control`) against every other
 * unit exposed to a flag of the surface (arm `treatment`), on the surface's metrics; units never change arm.
 */
export function holdbackAnalysis(holdback: {
  surface: string;
  environment: string;
  generation: number;
  metrics: MetricDefinition[];
}): Analysis {
  return {
    id: holdbackAnalysisKey(holdback.surface, holdback.environment),
    attempt: holdback.generation,
    stage: 0,
    arms: [HOLDBACK_ARM, REST_ARM],
    ordered: false,
    armOf: (e) =>
      e.holdback?.surface === holdback.surface ? (e.holdback.held ? HOLDBACK_ARM : REST_ARM) : null,
    metrics: holdback.metrics,
  };
}

/** The holdback analyses of the enabled holdbacks among stored surface documents. */
export function holdbackAnalyses(environment: string, documents: readonly unknown[]): Analysis[] {
  const out: Analysis[] = [];
  for (const doc of documents) {
    const d = doc as { key?: unknown; holdback?: SurfaceHoldback } | null;
    const h = d?.holdback;
    if (typeof d?.key !== 'string' || h?.enabled !== true || !Array.isArray(h.metrics)) continue;
    out.push(holdbackAnalysis({ surface: d.key, environment, generation: h.generation, metrics: h.metrics }));
  }
  return out;
}

/** What `experimentAnalysis` reads of a stored experiment (its plan and state documents as JSON). */
export function experimentSource(record: {
  id: string;
  flag: string;
  plan: unknown;
  stateDoc: unknown;
  metrics: MetricDefinition[];
}): Parameters<typeof experimentAnalysis>[0] {
  const plan = record.plan as { variants?: { variant: string }[] } | null;
  const state = record.stateDoc as { epochs?: unknown[] } | null;
  return {
    id: record.id,
    flag: record.flag,
    variants: (plan?.variants ?? []).map((v) => v.variant),
    epochs: state?.epochs?.length ?? 1,
    metrics: record.metrics,
  };
}

/** A stored or incoming tracked event. */
export interface TrackPoint {
  name: string;
  ts: number;
  value: number | null;
  /** Sent with a browser key: counts only for metrics marked `clientReportable`. */
  client?: boolean;
}

/** Additive change of one (cohort, arm, metric) row. */
export interface StatsDelta {
  cohort: number;
  arm: ArmName;
  metric: string;
  n: number;
  sumY: number;
  sumY2: number;
  sumD: number;
  sumD2: number;
  sumYD: number;
  /** Third-order sums Σy³, Σy²d, Σyd², Σd³ (the skew correction and minimum-information rule need them). */
  sumY3: number;
  sumY2D: number;
  sumYD2: number;
  sumD3: number;
}

/** A (cohort, arm, metric) row with every sum 0. */
export function emptyStats(cohort: number, arm: ArmName, metric: string): StatsDelta {
  const row = { cohort, arm, metric } as StatsDelta;
  for (const field of STATS_SUMS) row[field] = 0;
  return row;
}

/** Additive change of one (cohort, arm) unit count row. */
export interface UnitsDelta {
  cohort: number;
  arm: ArmName;
  epochs: number;
  assigned: number;
}

/** Everything a store writes after a group. */
export interface AnalysisChanges {
  upserts: { unit: string; arm: ArmName; epoch: Epoch }[];
  deletes: { unit: string; arm: ArmName }[];
  stats: StatsDelta[];
  units: UnitsDelta[];
  /** Quantile metrics: signed changes of the per-(cohort, arm, metric) sketches or event-scope statistics. */
  quantiles: QuantileDelta[];
}

interface Measure {
  event: string;
  sum: boolean;
}

interface CompiledMetric {
  key: string;
  kind: MetricDefinition['kind'];
  /** Window in milliseconds; Infinity for `until_now`. */
  window: number;
  /** Whether events sent with a browser key count. */
  client: boolean;
  num: Measure;
  den: Measure | null;
  /** Quantile metrics: the scope and the clamp of each event value; null for the other kinds. */
  quantile: { scope: 'unit' | 'event'; cap?: number; floor?: number } | null;
}

/**
 * Largest magnitude of a per-unit accumulator: far above any real total, far below overflow (its cube is
 * still finite), so sums of squares over millions of units stay finite.
 */
export const MAX_ACCUMULATOR = 1e18;
/** Largest magnitude of one event's value as counted (the event API refuses larger ones; older rows are clamped). */
const MAX_COUNTED_VALUE = MAX_METRIC_VALUE;

/** The additive fields of a stats row. */
const STATS_SUMS = [
  'n',
  'sumY',
  'sumY2',
  'sumD',
  'sumD2',
  'sumYD',
  'sumY3',
  'sumY2D',
  'sumYD2',
  'sumD3',
] as const satisfies readonly (keyof StatsDelta)[];

function compile(metric: MetricDefinition): CompiledMetric {
  const window = metric.window === 'until_now' ? Number.POSITIVE_INFINITY : metric.window;
  const client = metric.clientReportable === true;
  if (metric.kind === 'ratio')
    return {
      key: metric.key,
      kind: metric.kind,
      window,
      client,
      num: { event: metric.numerator.event, sum: metric.numerator.aggregate === 'sum' },
      den: { event: metric.denominator.event, sum: metric.denominator.aggregate === 'sum' },
      quantile: null,
    };
  if (metric.kind === 'quantile') {
    // The accumulators hold the unit's (clamped) value sum and value count: its mean is the unit-scope value.
    const quantile: CompiledMetric['quantile'] = { scope: metric.scope };
    if (metric.cap !== undefined) quantile.cap = metric.cap;
    if (metric.floor !== undefined) quantile.floor = metric.floor;
    return {
      key: metric.key,
      kind: metric.kind,
      window,
      client,
      num: { event: metric.event, sum: true },
      den: { event: metric.event, sum: false },
      quantile,
    };
  }
  const sum = metric.kind === 'mean' && metric.aggregate === 'sum';
  return {
    key: metric.key,
    kind: metric.kind,
    window,
    client,
    num: { event: metric.event, sum },
    den: null,
    quantile: null,
  };
}

/** The event names whose tracked events feed any of `metrics`. */
export function metricEventNames(metrics: readonly MetricDefinition[]): Set<string> {
  const names = new Set<string>();
  for (const m of metrics.map(compile)) {
    names.add(m.num.event);
    if (m.den) names.add(m.den.event);
  }
  return names;
}

/** `x` within [-limit, limit]; NaN counts as 0 (a corrupt number never reaches a sum). */
function bounded(x: number, limit: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.min(limit, Math.max(-limit, x));
}

/**
 * A unit's value of a metric from its raw accumulators: proportion 1 if any event, else 0; mean the count or sum
 * clamped to [`floor`, `cap`]; ratio the clamped numerator and the denominator. Every value is finite.
 */
export function unitValue(metric: MetricDefinition, yRaw: number, dRaw: number): { y: number; d: number } {
  if (metric.kind === 'proportion') return { y: yRaw > 0 ? 1 : 0, d: 0 };
  // Quantile metrics clamp each value as it is counted; their sums are the mean per value's ratio.
  if (metric.kind === 'quantile')
    return { y: bounded(yRaw, MAX_ACCUMULATOR), d: bounded(dRaw, MAX_ACCUMULATOR) };
  let y = bounded(yRaw, MAX_ACCUMULATOR);
  if (metric.cap !== undefined) y = Math.min(y, metric.cap);
  if (metric.floor !== undefined) y = Math.max(y, metric.floor);
  return { y, d: metric.kind === 'ratio' ? bounded(dRaw, MAX_ACCUMULATOR) : 0 };
}

/**
 * Whether an event counts for a metric: browser-key events only for client-reportable metrics; for a quantile
 * metric only events that carry a value.
 */
function counts(m: CompiledMetric, event: TrackPoint): boolean {
  if (m.quantile !== null && event.value === null) return false;
  return m.client || event.client !== true;
}

/** A quantile metric's value of an event: within the event range, then clamped to the metric's floor and cap. */
function quantileValue(m: CompiledMetric, event: TrackPoint): number {
  let x = bounded(event.value ?? 0, MAX_COUNTED_VALUE);
  if (m.quantile?.cap !== undefined) x = Math.min(x, m.quantile.cap);
  if (m.quantile?.floor !== undefined) x = Math.max(x, m.quantile.floor);
  return x;
}

/** Adds `change` (±1) of an event to an event-scope quantile metric's per-unit values in an epoch. */
function countUnitValue(epoch: Epoch, m: CompiledMetric, event: TrackPoint, change: 1 | -1): void {
  if (m.quantile?.scope !== 'event') return;
  epoch.quantile ??= {};
  const unit = epoch.quantile[m.key] ?? emptyUnitValues();
  addUnitValue(unit, quantileValue(m, event), change);
  if (unit.n > 0) epoch.quantile[m.key] = unit;
  else delete epoch.quantile[m.key];
}

/** An accumulator plus a measured value, kept within ±MAX_ACCUMULATOR. */
function accumulate(total: number, change: number): number {
  return bounded(total + change, MAX_ACCUMULATOR);
}

function inWindow(epoch: Epoch, window: number, ts: number): boolean {
  return ts >= epoch.start && (epoch.end === null || ts < epoch.end) && ts - epoch.start < window;
}

function measure(m: CompiledMetric, side: Measure, event: TrackPoint): number {
  if (!side.sum) return 1;
  return m.quantile !== null ? quantileValue(m, event) : bounded(event.value ?? 0, MAX_COUNTED_VALUE);
}

function copyEpoch(e: Epoch): Epoch {
  const out: Epoch = { cohort: e.cohort, start: e.start, end: e.end, values: [...e.values] };
  if (e.quantile !== undefined) out.quantile = structuredClone(e.quantile);
  return out;
}

function copyUnit(unit: UnitEpochs, arms: readonly ArmName[]): UnitEpochs {
  const out: UnitEpochs = {};
  for (const arm of arms) {
    const e = unit[arm];
    if (e) out[arm] = copyEpoch(e);
  }
  return out;
}

function sameEpoch(a: Epoch | undefined, b: Epoch | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.cohort === b.cohort &&
    a.start === b.start &&
    a.end === b.end &&
    sameValues(a.values, b.values) &&
    // Most analyses keep no per-unit quantile values: nothing to compare then.
    ((a.quantile === undefined && b.quantile === undefined) ||
      JSON.stringify(a.quantile ?? {}) === JSON.stringify(b.quantile ?? {}))
  );
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Applies one group of exposures and tracked events to one analysis. Call `applyExposure` for every exposure,
 * then `rawNeeded` and `applyStored` with the units' previously stored events, then `applyTrack` for every event
 * of the group, then `finish`.
 */
export class Aggregation {
  readonly analysis: Analysis;
  readonly #arms: readonly ArmName[];
  readonly #metrics: CompiledMetric[];
  readonly #byEvent = new Map<string, number[]>();
  readonly #units: Map<string, UnitEpochs>;
  readonly #initial = new Map<string, UnitEpochs>();

  /** `loaded` holds the stored epochs of every unit the group touches (units absent have none). */
  constructor(analysis: Analysis, loaded: Map<string, UnitEpochs>) {
    this.analysis = analysis;
    this.#arms = analysis.arms;
    this.#metrics = analysis.metrics.map(compile);
    this.#metrics.forEach((m, i) => {
      for (const name of m.den ? [m.num.event, m.den.event] : [m.num.event]) {
        const list = this.#byEvent.get(name) ?? [];
        if (!list.includes(i)) list.push(i);
        this.#byEvent.set(name, list);
      }
    });
    this.#units = loaded;
  }

  /** Whether tracked events of this name feed a metric of the analysis. */
  watches(eventName: string): boolean {
    return this.#byEvent.has(eventName);
  }

  #touch(unit: string): UnitEpochs {
    let state = this.#units.get(unit);
    if (!state) {
      state = {};
      this.#units.set(unit, state);
    }
    if (!this.#initial.has(unit)) this.#initial.set(unit, copyUnit(state, this.#arms));
    return state;
  }

  #newEpoch(start: number, end: number | null): Epoch {
    return { cohort: this.analysis.stage, start, end, values: new Array(this.#metrics.length * 2).fill(0) };
  }

  /**
   * Opens, moves or closes the unit's epochs for an exposure to `arm` at `ts` (epoch ms). In an ordered analysis
   * an exposure after the start of a later arm's epoch changes nothing, and a later arm's epoch ends (or
   * removes) the earlier ones.
   */
  applyExposure(unit: string, arm: ArmName, ts: number): void {
    const index = this.#arms.indexOf(arm);
    if (index < 0) return;
    const current = this.#units.get(unit);
    const later = this.analysis.ordered ? this.#arms.slice(index + 1) : [];
    const earlier = this.analysis.ordered ? this.#arms.slice(0, index) : [];
    if (later.some((a) => current?.[a] !== undefined && ts >= (current[a] as Epoch).start)) return;
    const own = current?.[arm];
    if (own !== undefined && ts >= own.start) return;
    const state = this.#touch(unit);
    const epoch = state[arm];
    if (epoch) epoch.start = ts;
    else {
      const next = later.map((a) => state[a]?.start).find((s) => s !== undefined);
      state[arm] = this.#newEpoch(ts, next ?? null);
    }
    for (const a of earlier) {
      const e = state[a];
      if (e === undefined) continue;
      if (e.start >= ts) delete state[a];
      else e.end = ts;
    }
  }

  /**
   * Units whose epochs were opened or moved by the group's exposures, with the earliest timestamp of the stored
   * events needed to bring their accumulators up to date.
   */
  rawNeeded(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [unit, before] of this.#initial) {
      const after = this.#units.get(unit) as UnitEpochs;
      for (const arm of this.#arms) {
        const e = after[arm];
        const o = before[arm];
        if (e === undefined || (o !== undefined && o.start === e.start && o.end === e.end)) continue;
        const from = Math.min(e.start, o?.start ?? e.start);
        out.set(unit, Math.min(out.get(unit) ?? from, from));
      }
    }
    return out;
  }

  /**
   * Brings the moved or new epochs of `unit` up to date from its events stored before this group: each counts
   * in(new bounds) − in(old bounds), so only the part whose membership changed moves the sums.
   */
  applyStored(unit: string, events: readonly TrackPoint[]): void {
    const before = this.#initial.get(unit);
    const after = this.#units.get(unit);
    if (!before || !after) return;
    for (const arm of this.#arms) {
      const e = after[arm];
      const o = before[arm];
      if (e === undefined || (o !== undefined && o.start === e.start && o.end === e.end)) continue;
      const values = o ? [...o.values] : new Array(this.#metrics.length * 2).fill(0);
      const moved: Epoch = {
        ...e,
        values,
        ...(o?.quantile ? { quantile: structuredClone(o.quantile) } : {}),
      };
      if (!o?.quantile) delete moved.quantile;
      for (const event of events) {
        const indexes = this.#byEvent.get(event.name);
        if (!indexes) continue;
        for (const i of indexes) {
          const m = this.#metrics[i] as CompiledMetric;
          if (!counts(m, event)) continue;
          const change =
            (inWindow(e, m.window, event.ts) ? 1 : 0) - (o && inWindow(o, m.window, event.ts) ? 1 : 0);
          if (change === 0) continue;
          if (m.num.event === event.name)
            values[2 * i] = accumulate(values[2 * i] as number, change * measure(m, m.num, event));
          if (m.den?.event === event.name)
            values[2 * i + 1] = accumulate(values[2 * i + 1] as number, change * measure(m, m.den, event));
          countUnitValue(moved, m, event, change as 1 | -1);
        }
      }
      e.values = values;
      if (moved.quantile !== undefined && Object.keys(moved.quantile).length > 0) e.quantile = moved.quantile;
      else delete e.quantile;
    }
  }

  /** Counts one tracked event of the group in the unit's epoch active at its timestamp, for each metric it feeds. */
  applyTrack(unit: string, event: TrackPoint): void {
    const indexes = this.#byEvent.get(event.name);
    if (!indexes) return;
    const current = this.#units.get(unit);
    if (!current || !this.#arms.some((arm) => current[arm] !== undefined)) return;
    let state: UnitEpochs | undefined;
    for (const arm of this.#arms) {
      if (!current[arm]) continue;
      for (const i of indexes) {
        const m = this.#metrics[i] as CompiledMetric;
        if (!counts(m, event) || !inWindow(current[arm] as Epoch, m.window, event.ts)) continue;
        state ??= this.#touch(unit);
        const e = state[arm] as Epoch;
        if (m.num.event === event.name)
          e.values[2 * i] = accumulate(e.values[2 * i] as number, measure(m, m.num, event));
        if (m.den?.event === event.name)
          e.values[2 * i + 1] = accumulate(e.values[2 * i + 1] as number, measure(m, m.den, event));
        countUnitValue(e, m, event, 1);
      }
    }
  }

  /** The rows to write and the additive changes of the cohort statistics (zero changes left out). */
  finish(): AnalysisChanges {
    const changes: AnalysisChanges = { upserts: [], deletes: [], stats: [], units: [], quantiles: [] };
    const quantiles = new Map<string, QuantileDelta>();
    const quantileRow = (cohort: number, arm: ArmName, m: CompiledMetric): QuantileDelta => {
      const key = `${cohort}|${arm}|${m.key}`;
      let row = quantiles.get(key);
      if (!row) {
        row =
          m.quantile?.scope === 'event'
            ? { cohort, arm, metric: m.key, scope: 'event', change: emptyEventDelta() }
            : { cohort, arm, metric: m.key, scope: 'unit', change: emptySketchDelta() };
        quantiles.set(key, row);
      }
      return row;
    };
    // The stats rows of one (cohort, arm), one per metric in the analysis' order: one lookup per epoch.
    const stats = new Map<string, StatsDelta[]>();
    const units = new Map<string, UnitsDelta>();
    const statsRows = (cohort: number, arm: ArmName): StatsDelta[] => {
      const key = `${cohort}|${arm}`;
      let rows = stats.get(key);
      if (!rows) {
        rows = this.analysis.metrics.map((metric) => emptyStats(cohort, arm, metric.key));
        stats.set(key, rows);
      }
      return rows;
    };
    const unitsRow = (cohort: number, arm: ArmName): UnitsDelta => {
      const key = `${cohort}|${arm}`;
      let row = units.get(key);
      if (!row) {
        row = { cohort, arm, epochs: 0, assigned: 0 };
        units.set(key, row);
      }
      return row;
    };
    const contribute = (arm: ArmName, epoch: Epoch, sign: 1 | -1) => {
      unitsRow(epoch.cohort, arm).epochs += sign;
      const rows = statsRows(epoch.cohort, arm);
      this.analysis.metrics.forEach((metric, i) => {
        const { y, d } = unitValue(metric, epoch.values[2 * i] as number, epoch.values[2 * i + 1] as number);
        const row = rows[i] as StatsDelta;
        row.n += sign;
        row.sumY += sign * y;
        row.sumY2 += sign * y * y;
        row.sumD += sign * d;
        row.sumD2 += sign * d * d;
        row.sumYD += sign * y * d;
        // Raw power sums: the central moments derived from them stay accurate while mean/sd ≲ 10.
        row.sumY3 += sign * y * y * y;
        row.sumY2D += sign * y * y * d;
        row.sumYD2 += sign * y * d * d;
        row.sumD3 += sign * d * d * d;
        const m = this.#metrics[i] as CompiledMetric;
        if (m.quantile === null) return;
        const q = quantileRow(epoch.cohort, arm, m);
        // Unit scope: the unit's one value is the mean of its counted values; without a value it adds nothing.
        if (q.scope === 'unit') {
          if (d > 0) addValueToDelta(q.change, y / d, sign);
        } else addUnitToDelta(q.change, epoch.quantile?.[m.key] ?? emptyUnitValues(), sign);
      });
    };
    const first = (u: UnitEpochs): [ArmName, Epoch] | null => {
      for (const arm of this.#arms) {
        const e = u[arm];
        if (e !== undefined) return [arm, e];
      }
      return null;
    };

    for (const [unit, before] of this.#initial) {
      const after = this.#units.get(unit) as UnitEpochs;
      let changed = false;
      for (const arm of this.#arms) {
        const o = before[arm];
        const e = after[arm];
        if (sameEpoch(o, e)) continue;
        changed = true;
        if (o) contribute(arm, o, -1);
        if (e) {
          contribute(arm, e, 1);
          changes.upserts.push({ unit, arm, epoch: e });
        } else changes.deletes.push({ unit, arm });
      }
      if (!changed) continue;
      const f0 = first(before);
      const f1 = first(after);
      if (f0 && f1 && f0[0] === f1[0] && f0[1].cohort === f1[1].cohort) continue;
      if (f0) unitsRow(f0[1].cohort, f0[0]).assigned -= 1;
      if (f1) unitsRow(f1[1].cohort, f1[0]).assigned += 1;
    }
    changes.stats = [...stats.values()].flat().filter((r) => STATS_SUMS.some((field) => r[field] !== 0));
    changes.units = [...units.values()].filter((r) => r.epochs !== 0 || r.assigned !== 0);
    changes.quantiles = [...quantiles.values()].filter((r) => !isEmptyDelta(r));
    return changes;
  }
}
