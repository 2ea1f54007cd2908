/**
 * The quantile metrics' part of incremental aggregation: signed changes of the per-(cohort, arm, metric)
 * histogram sketch (scope `unit`) or event-scope statistics (scope `event`), computed like every other sum as
 * "a changed epoch's contribution after minus its contribution before", and applied to the stored statistics
 * in the ingestion transaction.
 *
 * - Scope `unit`: an epoch contributes one value, the mean of its (capped) event values in the window, to the
 *   sketch; an epoch without a value contributes nothing.
 * - Scope `event`: an epoch contributes every one of its event values. Per epoch the store keeps the unit's
 *   values by sketch bucket (`UnitValues`, at most one count per occupied bucket), which is what removing the
 *   unit's old contribution needs; its contribution to the clustered sums at the grid thresholds τ_g follows from
 *   it (C_u(τ_g) = the unit's values ≤ τ_g, N_u = its values): ΣC², ΣCN at every grid point, and ΣN, ΣN².
 *
 * Every structure is bounded by the sketch's bucket range (2,094 buckets per sign, 524 grid points), whatever
 * the traffic.
 */
import {
  createEventQuantileStats,
  createSketch,
  EVENT_GRID_STEP,
  type EventQuantileStats,
  type QuantileSketch,
  sketchBucketIndex,
} from '@dimmer/stats';

/** One unit's values of an event-scope quantile metric in one epoch: counts by sketch bucket key. */
export interface UnitValues {
  /** Values counted, and their sum. */
  n: number;
  sum: number;
  /** Smallest and largest value counted (bounds for the sketch's min and max). */
  lo: number | null;
  hi: number | null;
  /** Counts by bucket key: `z` for zero, `p<i>` for a positive value in bucket i, `m<i>` for a negative one. */
  b: Record<string, number>;
}

/** A unit without values. */
export function emptyUnitValues(): UnitValues {
  return { n: 0, sum: 0, lo: null, hi: null, b: {} };
}

/** The bucket key of a finite value. */
export function bucketKey(value: number): string {
  if (value === 0) return 'z';
  return value > 0 ? `p${sketchBucketIndex(value)}` : `m${sketchBucketIndex(-value)}`;
}

/** Adds (count 1) or removes (count −1) one value of a unit. */
export function addUnitValue(unit: UnitValues, value: number, count: 1 | -1): void {
  const key = bucketKey(value);
  const next = (unit.b[key] ?? 0) + count;
  if (next > 0) unit.b[key] = next;
  else delete unit.b[key];
  unit.n = Math.max(0, unit.n + count);
  unit.sum += count * value;
  if (count > 0) {
    unit.lo = unit.lo === null || value < unit.lo ? value : unit.lo;
    unit.hi = unit.hi === null || value > unit.hi ? value : unit.hi;
  }
  if (unit.n === 0) {
    unit.sum = 0;
    unit.b = {};
  }
}

/** Signed change of a sketch: counts by bucket key, the sum, and the bounds of the values added. */
export interface SketchDelta {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  buckets: Record<string, number>;
}

/** Signed change of a grid of clustered sums (the above-range convention of `EventQuantileStats`). */
interface GridDelta {
  sumN2: number;
  belowGrid: { sumC2: number; sumCN: number };
  grid: { offset: number; sumC2: number[]; sumCN: number[] };
}

/** Signed change of event-scope statistics. */
export interface EventDelta extends GridDelta {
  events: SketchDelta;
  units: number;
  sumN: number;
}

/** The change of one (cohort, arm, metric) quantile row. */
export type QuantileDelta =
  | { cohort: number; arm: string; metric: string; scope: 'unit'; change: SketchDelta }
  | { cohort: number; arm: string; metric: string; scope: 'event'; change: EventDelta };

/** A sketch change with nothing in it. */
export function emptySketchDelta(): SketchDelta {
  return { count: 0, sum: 0, min: null, max: null, buckets: {} };
}

/** An event-scope change with nothing in it. */
export function emptyEventDelta(): EventDelta {
  return {
    events: emptySketchDelta(),
    units: 0,
    sumN: 0,
    sumN2: 0,
    belowGrid: { sumC2: 0, sumCN: 0 },
    grid: { offset: 0, sumC2: [], sumCN: [] },
  };
}

function bound(a: number | null, b: number | null, pick: (x: number, y: number) => number): number | null {
  return a === null ? b : b === null ? a : pick(a, b);
}

/** Adds `sign` times one value (unit scope) to a sketch change. */
export function addValueToDelta(delta: SketchDelta, value: number, sign: 1 | -1): void {
  const key = bucketKey(value);
  delta.buckets[key] = (delta.buckets[key] ?? 0) + sign;
  delta.count += sign;
  delta.sum += sign * value;
  if (sign > 0) {
    delta.min = bound(delta.min, value, Math.min);
    delta.max = bound(delta.max, value, Math.max);
  }
}

/** ΣC² or ΣCN of a grid at point g: below its range the below-grid value, above it ΣN² (C_u = N_u). */
function gridAt(s: GridDelta, key: 'sumC2' | 'sumCN', g: number): number {
  const arr = s.grid[key];
  if (arr.length === 0 || g < s.grid.offset) return s.belowGrid[key];
  if (g >= s.grid.offset + arr.length) return s.sumN2;
  return arr[g - s.grid.offset] as number;
}

/** Widens a grid to cover [lo, hi], filling new points with the values they already have. */
function coverRange(s: GridDelta, lo: number, hi: number): void {
  const { grid } = s;
  if (grid.sumC2.length === 0) {
    grid.offset = lo;
    // Without grid points no unit has a positive value, so C_u = N_u at every threshold: ΣC² = ΣCN = ΣN².
    for (let g = lo; g <= hi; g++) {
      grid.sumC2.push(s.sumN2);
      grid.sumCN.push(s.sumN2);
    }
    return;
  }
  if (lo < grid.offset) {
    const k = grid.offset - lo;
    grid.sumC2.unshift(...new Array<number>(k).fill(s.belowGrid.sumC2));
    grid.sumCN.unshift(...new Array<number>(k).fill(s.belowGrid.sumCN));
    grid.offset = lo;
  }
  while (grid.offset + grid.sumC2.length - 1 < hi) {
    grid.sumC2.push(s.sumN2);
    grid.sumCN.push(s.sumN2);
  }
}

/** Adds grid `add` into `target` point by point over the union of their ranges. */
function addGrid(target: GridDelta, add: GridDelta): void {
  if (add.grid.sumC2.length > 0)
    coverRange(target, add.grid.offset, add.grid.offset + add.grid.sumC2.length - 1);
  const { grid } = target;
  for (let j = 0; j < grid.sumC2.length; j++) {
    const g = grid.offset + j;
    grid.sumC2[j] = (grid.sumC2[j] as number) + gridAt(add, 'sumC2', g);
    grid.sumCN[j] = (grid.sumCN[j] as number) + gridAt(add, 'sumCN', g);
  }
  target.belowGrid.sumC2 += add.belowGrid.sumC2;
  target.belowGrid.sumCN += add.belowGrid.sumCN;
  target.sumN2 += add.sumN2;
}

/** The grid cell of a bucket key's values (positive buckets only; others are below every threshold). */
function cellOf(key: string): number | null {
  return key.startsWith('p') ? Math.ceil(Number(key.slice(1)) / EVENT_GRID_STEP) : null;
}

/** One unit's contribution to the clustered sums, times `sign`. */
function unitGrid(unit: UnitValues, sign: 1 | -1): GridDelta {
  const n = unit.n;
  let nonPositive = 0;
  const cells = new Map<number, number>();
  for (const [key, c] of Object.entries(unit.b)) {
    const cell = cellOf(key);
    if (cell === null) nonPositive += c;
    else cells.set(cell, (cells.get(cell) ?? 0) + c);
  }
  const out: GridDelta = {
    sumN2: sign * n * n,
    belowGrid: { sumC2: sign * nonPositive * nonPositive, sumCN: sign * nonPositive * n },
    grid: { offset: 0, sumC2: [], sumCN: [] },
  };
  if (cells.size === 0) return out;
  const lo = Math.min(...cells.keys());
  const hi = Math.max(...cells.keys());
  out.grid.offset = lo;
  let c = nonPositive;
  for (let g = lo; g <= hi; g++) {
    c += cells.get(g) ?? 0;
    out.grid.sumC2.push(sign * c * c);
    out.grid.sumCN.push(sign * c * n);
  }
  return out;
}

/** Adds `sign` times a unit's whole contribution (its values and clustered sums) to an event-scope change. */
export function addUnitToDelta(delta: EventDelta, unit: UnitValues, sign: 1 | -1): void {
  if (unit.n === 0) return;
  for (const [key, c] of Object.entries(unit.b))
    delta.events.buckets[key] = (delta.events.buckets[key] ?? 0) + sign * c;
  delta.events.count += sign * unit.n;
  delta.events.sum += sign * unit.sum;
  if (sign > 0) {
    delta.events.min = bound(delta.events.min, unit.lo, Math.min);
    delta.events.max = bound(delta.events.max, unit.hi, Math.max);
  }
  delta.units += sign;
  delta.sumN += sign * unit.n;
  addGrid(delta, unitGrid(unit, sign));
}

function addToStore(store: { offset: number; counts: number[] }, index: number, count: number): void {
  const { counts } = store;
  if (counts.length === 0) {
    store.offset = index;
    counts.push(0);
  } else if (index < store.offset) {
    counts.unshift(...new Array<number>(store.offset - index).fill(0));
    store.offset = index;
  } else while (index >= store.offset + counts.length) counts.push(0);
  const j = index - store.offset;
  counts[j] = Math.max(0, (counts[j] as number) + count);
}

/** Drops empty buckets at both ends of a store, so a sketch keeps only its occupied range. */
function trimStore(store: { offset: number; counts: number[] }): void {
  while (store.counts.length > 0 && store.counts[store.counts.length - 1] === 0) store.counts.pop();
  let k = 0;
  while (k < store.counts.length && store.counts[k] === 0) k++;
  if (k > 0) {
    store.counts.splice(0, k);
    store.offset += k;
  }
  if (store.counts.length === 0) store.offset = 0;
}

/** A stored sketch plus a change (the input is not modified). Counts never go below zero. */
export function applySketchDelta(stored: QuantileSketch | null, delta: SketchDelta): QuantileSketch {
  const out: QuantileSketch = stored ? structuredClone(stored) : createSketch();
  for (const [key, c] of Object.entries(delta.buckets)) {
    if (c === 0) continue;
    if (key === 'z') out.zeroCount = Math.max(0, out.zeroCount + c);
    else addToStore(key.startsWith('p') ? out.positive : out.negative, Number(key.slice(1)), c);
  }
  trimStore(out.positive);
  trimStore(out.negative);
  out.count =
    out.zeroCount +
    out.positive.counts.reduce((a, b) => a + b, 0) +
    out.negative.counts.reduce((a, b) => a + b, 0);
  out.sum = out.count === 0 ? 0 : out.sum + delta.sum;
  out.min = bound(out.min, delta.min, Math.min);
  out.max = bound(out.max, delta.max, Math.max);
  return out;
}

/** Stored event-scope statistics plus a change (the input is not modified). */
export function applyEventDelta(stored: EventQuantileStats | null, delta: EventDelta): EventQuantileStats {
  const base = stored ? structuredClone(stored) : createEventQuantileStats();
  const grid: GridDelta = { sumN2: base.sumN2, belowGrid: base.belowGrid, grid: base.grid };
  addGrid(grid, delta);
  return {
    events: applySketchDelta(base.events, delta.events),
    units: Math.max(0, base.units + delta.units),
    sumN: Math.max(0, base.sumN + delta.sumN),
    sumN2: grid.sumN2,
    belowGrid: grid.belowGrid,
    grid: grid.grid,
  };
}

/** Whether a change changes anything. */
export function isEmptyDelta(delta: QuantileDelta): boolean {
  const sketch = delta.scope === 'unit' ? delta.change : delta.change.events;
  return Object.values(sketch.buckets).every((c) => c === 0) && sketch.count === 0 && sketch.sum === 0;
}

/**
 * A stored quantile row (a sketch, event-scope statistics, or null when there is none yet) plus a change. A
 * stored value of the wrong shape for the change's scope counts as none.
 */
export function applyQuantileDelta(
  stored: unknown,
  delta: QuantileDelta,
): QuantileSketch | EventQuantileStats {
  const isObject = typeof stored === 'object' && stored !== null;
  if (delta.scope === 'unit')
    return applySketchDelta(
      isObject && 'positive' in stored ? (stored as QuantileSketch) : null,
      delta.change,
    );
  return applyEventDelta(
    isObject && 'events' in stored ? (stored as EventQuantileStats) : null,
    delta.change,
  );
}
