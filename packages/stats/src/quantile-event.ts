// Event-scope quantiles (a percentile of every event's value, e.g. p99 of request latency) when one unit sends many
// events. The events of one unit are correlated (a slow device is slow on every request), so the events are not
// independent and an i.i.d. formula understates the variance. Following Deng, Knoblich & Lu (KDD 2018), the
// empirical CDF at a threshold τ is a ratio of per-unit sums, F̂(τ) = Σ_u C_u(τ) / Σ_u N_u (C_u(τ): the unit's
// events ≤ τ, N_u: its events), whose variance the delta method gives from the units as the independent draws:
//   Var F̂(τ) = n/(n − 1) · Σ_u (C_u − F̂ N_u)² / (Σ_u N_u)²
//            = n/(n − 1) · (ΣC² − 2F̂ ΣCN + F̂² ΣN²) / (ΣN)².
// The quantile's variance follows by Woodruff's inversion: SE(ln Q̂) = SE(F̂(ξ̂)) · d ln Q/dp, the slope taken over
// p = q ± 1.96·SE(F̂) on the sketch's interpolated quantile function.
//
// Sufficient statistics per (cohort, arm): the sketch of every event value, the units with at least one event n,
// ΣN, ΣN², and, on a fixed grid of thresholds τ_g = γ^(g·EVENT_GRID_STEP) (every 4th sketch bucket edge, 8.2%
// apart), ΣC_u(τ_g)² and ΣC_u(τ_g)·N_u. ΣC_u(τ_g) itself is the sketch's count below τ_g. Per unit (per
// assignment epoch) the server keeps N_u, the unit's events ≤ 0 and its events per grid cell (sparse), which is
// what an incremental update needs. Thresholds between grid points interpolate the variance linearly in ln τ.
// Everything adds over disjoint sets of units, so two aggregates merge when no unit is in both.

import {
  addToSketch,
  createSketch,
  mergeSketches,
  type QuantileSketch,
  quantileRank,
  SKETCH_LOG_GAMMA,
  SKETCH_MAX_INDEX,
  SKETCH_MIN_INDEX,
  sketchBucketIndex,
} from './histogram.ts';
import { normalQuantile } from './normal.ts';
import { rankedFromSketch } from './quantile-bootstrap.ts';

/** Grid thresholds sit on every EVENT_GRID_STEP-th sketch bucket edge: τ_g = γ^(g·4), 8.2% apart. */
export const EVENT_GRID_STEP = 4;
/** Upper bound on the grid points of one (cohort, arm): the sketch's tracked range in steps of 4 buckets (524). */
export const EVENT_GRID_MAX_POINTS =
  Math.ceil(SKETCH_MAX_INDEX / EVENT_GRID_STEP) - Math.ceil(SKETCH_MIN_INDEX / EVENT_GRID_STEP) + 1;
/** z of the span over which Woodruff's inversion measures the slope of the quantile function. */
export const WOODRUFF_Z = normalQuantile(0.975);

/** ΣC_u(τ_g)² and ΣC_u(τ_g)·N_u at grid points offset, offset + 1, …; above the range both equal ΣN². */
export interface ClusterGrid {
  offset: number;
  sumC2: number[];
  sumCN: number[];
}

/** Event-scope sufficient statistics of one (cohort, arm); plain JSON. */
export interface EventQuantileStats {
  /** Every event's value. */
  events: QuantileSketch;
  /** Units with at least one event. */
  units: number;
  /** ΣN_u (= events.count) and ΣN_u². */
  sumN: number;
  sumN2: number;
  /** ΣC_u² and ΣC_u·N_u at the threshold 0 (C_u = the unit's events ≤ 0); the grid's value below its range. */
  belowGrid: { sumC2: number; sumCN: number };
  grid: ClusterGrid;
}

/** One unit's events within its observation window (keep per assignment epoch); plain JSON. */
export interface UnitEvents {
  count: number;
  /** Events with value ≤ 0. */
  nonPositive: number;
  /** Positive events per grid cell g (the cell of x is ⌈bucket(x)/EVENT_GRID_STEP⌉: τ_(g−1) < x ≤ τ_g). */
  cells: Record<string, number>;
}

/** Empty event-scope statistics. */
export function createEventQuantileStats(): EventQuantileStats {
  return {
    events: createSketch(),
    units: 0,
    sumN: 0,
    sumN2: 0,
    belowGrid: { sumC2: 0, sumCN: 0 },
    grid: { offset: 0, sumC2: [], sumCN: [] },
  };
}

/** A unit with no events yet. */
export function createUnitEvents(): UnitEvents {
  return { count: 0, nonPositive: 0, cells: {} };
}

/** The grid cell of a positive value (values ≤ 0 are below every grid threshold). */
export function eventGridCell(value: number): number {
  return Math.ceil(sketchBucketIndex(value) / EVENT_GRID_STEP);
}

/** Makes the grid cover cell g, filling new points with the values they already have. */
function coverGrid(stats: EventQuantileStats, g: number): void {
  const grid = stats.grid;
  if (grid.sumC2.length === 0) {
    grid.offset = g;
    grid.sumC2.push(stats.sumN2);
    grid.sumCN.push(stats.sumN2);
    return;
  }
  if (g < grid.offset) {
    const k = grid.offset - g;
    grid.sumC2.unshift(...new Array<number>(k).fill(stats.belowGrid.sumC2));
    grid.sumCN.unshift(...new Array<number>(k).fill(stats.belowGrid.sumCN));
    grid.offset = g;
  }
  while (g >= grid.offset + grid.sumC2.length) {
    grid.sumC2.push(stats.sumN2);
    grid.sumCN.push(stats.sumN2);
  }
}

/** The unit's C_u at each grid point of the stats' range (ascending), from its sparse cells. */
function unitCounts(stats: EventQuantileStats, unit: UnitEvents): number[] {
  const { offset, sumC2 } = stats.grid;
  const out = new Array<number>(sumC2.length).fill(0);
  for (const [key, c] of Object.entries(unit.cells)) {
    const j = Math.max(0, Number(key) - offset);
    if (j < out.length) out[j] = (out[j] as number) + c;
  }
  let running = unit.nonPositive;
  for (let j = 0; j < out.length; j++) {
    running += out[j] as number;
    out[j] = running;
  }
  return out;
}

/**
 * Adds one event of `unit` (its state as kept by the server; updated in place with the stats): the sketch, ΣN,
 * ΣN², and ΣC², ΣCN at every grid point, in O(grid points + the unit's cells). Throws RangeError for a value that
 * is not finite.
 */
export function addEventToQuantileStats(stats: EventQuantileStats, unit: UnitEvents, value: number): void {
  addToSketch(stats.events, value);
  const positive = value > 0;
  const cell = positive ? eventGridCell(value) : Number.NEGATIVE_INFINITY;
  if (positive) coverGrid(stats, cell);
  const n = unit.count;
  const counts = unitCounts(stats, unit);
  const { grid, belowGrid } = stats;
  counts.forEach((c, j) => {
    if (grid.offset + j >= cell) {
      grid.sumC2[j] = (grid.sumC2[j] as number) + 2 * c + 1;
      grid.sumCN[j] = (grid.sumCN[j] as number) + c + n + 1;
    } else grid.sumCN[j] = (grid.sumCN[j] as number) + c;
  });
  if (positive) belowGrid.sumCN += unit.nonPositive;
  else {
    belowGrid.sumC2 += 2 * unit.nonPositive + 1;
    belowGrid.sumCN += unit.nonPositive + n + 1;
  }
  stats.sumN += 1;
  stats.sumN2 += 2 * n + 1;
  if (n === 0) stats.units += 1;
  unit.count += 1;
  if (positive) unit.cells[String(cell)] = (unit.cells[String(cell)] ?? 0) + 1;
  else unit.nonPositive += 1;
}

/**
 * Adds a whole unit's events at once (a unit not yet in the stats, e.g. when windows close in batches); the same
 * result as adding its events one by one, in O(grid points + events).
 */
export function addUnitToQuantileStats(stats: EventQuantileStats, values: readonly number[]): void {
  if (values.length === 0) return;
  const cells: number[] = [];
  let nonPositive = 0;
  for (const v of values) {
    addToSketch(stats.events, v);
    if (v > 0) cells.push(eventGridCell(v));
    else nonPositive += 1;
  }
  cells.sort((a, b) => a - b);
  if (cells.length > 0) {
    coverGrid(stats, cells[0] as number);
    coverGrid(stats, cells[cells.length - 1] as number);
  }
  const n = values.length;
  const { grid } = stats;
  let c = nonPositive;
  let next = 0;
  for (let j = 0; j < grid.sumC2.length; j++) {
    const g = grid.offset + j;
    while (next < cells.length && (cells[next] as number) <= g) {
      c++;
      next++;
    }
    grid.sumC2[j] = (grid.sumC2[j] as number) + c * c;
    grid.sumCN[j] = (grid.sumCN[j] as number) + c * n;
  }
  stats.belowGrid.sumC2 += nonPositive * nonPositive;
  stats.belowGrid.sumCN += nonPositive * n;
  stats.sumN += n;
  stats.sumN2 += n * n;
  stats.units += 1;
}

/** Statistics of the union of two disjoint sets of units (no unit in both); the inputs are not changed. */
export function mergeEventQuantileStats(a: EventQuantileStats, b: EventQuantileStats): EventQuantileStats {
  const present = [a, b].filter((s) => s.grid.sumC2.length > 0);
  const lo = Math.min(...present.map((s) => s.grid.offset));
  const hi = Math.max(...present.map((s) => s.grid.offset + s.grid.sumC2.length - 1));
  const grid: ClusterGrid = { offset: present.length > 0 ? lo : 0, sumC2: [], sumCN: [] };
  for (let g = lo; present.length > 0 && g <= hi; g++) {
    grid.sumC2.push(valueAt(a, 'sumC2', g) + valueAt(b, 'sumC2', g));
    grid.sumCN.push(valueAt(a, 'sumCN', g) + valueAt(b, 'sumCN', g));
  }
  return {
    events: mergeSketches(a.events, b.events),
    units: a.units + b.units,
    sumN: a.sumN + b.sumN,
    sumN2: a.sumN2 + b.sumN2,
    belowGrid: {
      sumC2: a.belowGrid.sumC2 + b.belowGrid.sumC2,
      sumCN: a.belowGrid.sumCN + b.belowGrid.sumCN,
    },
    grid,
  };
}

/** ΣC² or ΣCN at grid point g: below the grid's range C_u is the unit's events ≤ 0, above it C_u = N_u. */
function valueAt(s: EventQuantileStats, key: 'sumC2' | 'sumCN', g: number): number {
  const arr = s.grid[key];
  if (arr.length === 0 || g < s.grid.offset) return s.belowGrid[key];
  if (g >= s.grid.offset + arr.length) return s.sumN2;
  return arr[g - s.grid.offset] as number;
}

/** Delta-method Var F̂(τ_g) of the clustered empirical CDF at grid point g. */
function cdfVariance(stats: EventQuantileStats, g: number, below: number): number {
  const { units: n, sumN, sumN2 } = stats;
  const f = below / sumN;
  const resid = valueAt(stats, 'sumC2', g) - 2 * f * valueAt(stats, 'sumCN', g) + f * f * sumN2;
  return (Math.max(0, resid) * n) / ((n - 1) * sumN * sumN);
}

/** Events of the sketch at or below the grid threshold τ_g. */
function eventsBelow(sketch: QuantileSketch, g: number): number {
  const edge = g * EVENT_GRID_STEP;
  let below = sketch.count - sketch.positive.counts.reduce((a, b) => a + b, 0);
  sketch.positive.counts.forEach((c, j) => {
    if (sketch.positive.offset + j <= edge) below += c;
  });
  return below;
}

/** One arm's event-scope quantile estimate. */
export interface EventQuantileEstimate {
  /** Units with at least one event, and events. */
  units: number;
  events: number;
  logQuantile: number;
  quantile: number;
  /** Clustered variance of the log quantile (delta method + Woodruff). */
  variance: number;
  se: number;
  /** Var F̂ at the quantile, and what it would be if the events were independent (F(1 − F)/ΣN): the design effect. */
  cdfVariance: number;
  designEffect: number;
}

/**
 * The event-scope q-quantile of one arm and the clustered variance of its log; null with fewer than 2 units or
 * when the quantile (or the span of Woodruff's inversion) reaches values ≤ 0.
 */
export function estimateEventQuantile(stats: EventQuantileStats, q: number): EventQuantileEstimate | null {
  if (!(stats.units >= 2) || !(stats.sumN > 0)) return null;
  const ranked = rankedFromSketch(stats.events);
  const logQuantile = ranked.atPosition(quantileRank(q, stats.sumN) - 0.5);
  if (Number.isNaN(logQuantile)) return null;
  // Grid points bracketing the quantile: τ_(g−1) < Q̂ ≤ τ_g, interpolated linearly in ln τ.
  const position = logQuantile / (SKETCH_LOG_GAMMA * EVENT_GRID_STEP);
  const g = Math.ceil(position);
  const w = 1 - (g - position);
  const vLow = cdfVariance(stats, g - 1, eventsBelow(stats.events, g - 1));
  const vHigh = cdfVariance(stats, g, eventsBelow(stats.events, g));
  const vF = (1 - w) * vLow + w * vHigh;
  const h = WOODRUFF_Z * Math.sqrt(vF);
  const pLo = Math.max(0, q - h);
  const pHi = Math.min(1, q + h);
  const n = stats.sumN;
  const lower = ranked.atPosition(Math.max(pLo * n, 0.5));
  const upper = ranked.atPosition(Math.max(pHi * n, 0.5));
  if (Number.isNaN(lower) || Number.isNaN(upper) || !(pHi > pLo)) return null;
  const slope = (upper - lower) / (pHi - pLo);
  const variance = vF * slope * slope;
  const iid = (q * (1 - q)) / n;
  return {
    units: stats.units,
    events: n,
    logQuantile,
    quantile: Math.exp(logQuantile),
    variance,
    se: Math.sqrt(variance),
    cdfVariance: vF,
    designEffect: iid > 0 ? vF / iid : Number.NaN,
  };
}
