// The Armitage–McPherson–Rowe recursion on a grid in z: the sub-density of the not-yet-stopped standardized
// statistic Z_k carried from look to look, and the probability of crossing a boundary at the next look.
// Z_k·√t_k has independent increments N(η·Δt, Δt), where η is the drift (the mean of Z at t = 1).

import { normalCdf, normalPdf, normalSf } from './normal.ts';

/** Grid resolution of the recursion (Jennison & Turnbull's r; the grid has about 12·r points). */
export const DEFAULT_GRID_RESOLUTION = 32;
/**
 * A look adding less than this relative information over the previous one stores its sub-density on a grid
 * twice as fine. Looks that close tend to come in runs (a look every few minutes), and the next increment kernel
 * may be as narrow as 0.1 standard units (1% more information): on the finer grid the α actually spent stays
 * within 1e-7 of the spending function over any number of such looks, while daily looks keep the cheaper grid.
 */
export const FINE_GRID_GAIN = 0.1;
/**
 * Grid resolution for power and crossing probabilities under a drift: the published power vectors are exact to
 * 1e-7, which r = 32 misses by about 1.3e-7 far out in the alternative; r = 64 meets it.
 */
export const POWER_GRID_RESOLUTION = 64;
/** Half-width (in standard deviations, before the log-spaced tails) of the uniform core of the grid. */
const GRID_CORE = 3;
/** Scale of the log-spaced tails of the grid. */
const GRID_TAIL = 4;
/** Increment SDs beyond which a kernel term is dropped (e^(−9²/2) ≈ 2.6e-18 of the largest term). */
const KERNEL_REACH = 9;
/**
 * An increment kernel narrower than this (in standard units of the previous look's z) is normalised to its
 * exact mass: see `nextDensity`.
 */
const NARROW_KERNEL_SD = 0.5;

/** Sub-density of Z at one look on a grid: `weighted[i]` = density × Simpson weight at `points[i]`. */
export interface SubDensity {
  /** Information fraction of the look. */
  t: number;
  points: number[];
  weighted: number[];
}

/** Simpson grid on (lo, hi) centred at `mean`: points and weights (the Jennison–Turnbull construction). */
export function makeGrid(
  mean: number,
  lo: number,
  hi: number,
  r: number,
): { points: number[]; weights: number[] } {
  const raw: number[] = [];
  const m = 6 * r - 1;
  for (let i = 1; i <= m; i++) {
    let x: number;
    if (i < r) x = mean - GRID_CORE - GRID_TAIL * Math.log(r / i);
    else if (i <= 5 * r) x = mean - GRID_CORE + (GRID_CORE * (i - r)) / (2 * r);
    else x = mean + GRID_CORE + GRID_TAIL * Math.log(r / (6 * r - i));
    raw.push(x);
  }
  const nodes: number[] = [];
  const first = raw[0] as number;
  const last = raw[raw.length - 1] as number;
  if (lo > first) nodes.push(lo);
  for (const x of raw) if (x > lo && x < hi) nodes.push(x);
  if (hi < last) nodes.push(hi);
  const points: number[] = [];
  const weights: number[] = [];
  if (nodes.length < 2) {
    // The continuation region is narrower than any grid cell: integrate it with one Simpson panel.
    const a = Math.max(lo, first);
    const b = Math.min(hi, last);
    if (!(b > a)) return { points, weights };
    nodes.length = 0;
    nodes.push(a, b);
  }
  for (let j = 0; j < nodes.length; j++) {
    const x = nodes[j] as number;
    if (j > 0) {
      const prev = nodes[j - 1] as number;
      const width = x - prev;
      weights[weights.length - 1] = (weights[weights.length - 1] as number) + width / 6;
      points.push((prev + x) / 2);
      weights.push((4 * width) / 6);
      points.push(x);
      weights.push(width / 6);
    } else {
      points.push(x);
      weights.push(0);
    }
  }
  return { points, weights };
}

/** Sub-density at the first look: Z_1 ~ N(η√t, 1) restricted to the continuation region (lo, hi). */
export function firstDensity(t: number, drift: number, lo: number, hi: number, r: number): SubDensity {
  const mean = drift * Math.sqrt(t);
  const { points, weights } = makeGrid(mean, lo, hi, r);
  const weighted = points.map((z, i) => (weights[i] as number) * normalPdf(z - mean));
  return { t, points, weighted };
}

/** Composite Simpson weights of a grid made by `makeGrid` (nodes at even indices, panel midpoints between). */
function simpsonWeights(points: readonly number[]): Float64Array {
  const w = new Float64Array(points.length);
  for (let k = 0; k + 2 < points.length; k += 2) {
    const width = (points[k + 2] as number) - (points[k] as number);
    w[k] = (w[k] as number) + width / 6;
    w[k + 1] = (4 * width) / 6;
    w[k + 2] = width / 6;
  }
  return w;
}

/**
 * Sub-density at the next look (fraction t > prev.t), restricted to the continuation region (lo, hi).
 *
 * A look adding little information has an increment kernel narrower than the grid's spacing in its
 * log-spaced tails; the plain quadrature Σ_j w_j f_j K(x − u_j) then over- or under-counts the kernel's mass
 * and, look after look, the error compounds (after some hundred looks 1% apart the recursion diverged). For a
 * narrow kernel each output point's quadrature is therefore divided by the quadrature of the kernel alone and
 * multiplied by the kernel's exact mass over the previous grid: exact for a locally constant density, and never
 * amplifying.
 */
export function nextDensity(
  prev: SubDensity,
  t: number,
  drift: number,
  lo: number,
  hi: number,
  r: number,
): SubDensity {
  const dt = t - prev.t;
  const sdInc = Math.sqrt(dt);
  const sqrtT = Math.sqrt(t);
  const sqrtPrev = Math.sqrt(prev.t);
  const { points, weights } = makeGrid(drift * sqrtT, lo, hi, r);
  const scale = sqrtT / sdInc / Math.sqrt(2 * Math.PI);
  const inv = 1 / sdInc;
  const shift = drift * dt;
  const n = prev.points.length;
  const prevScaled = new Float64Array(n);
  for (let j = 0; j < n; j++) prevScaled[j] = (prev.points[j] as number) * sqrtPrev + shift;
  const narrow = sdInc / sqrtPrev < NARROW_KERNEL_SD && n >= 3;
  const prevWeights = narrow ? simpsonWeights(prev.points) : null;
  const kernelScale = sqrtPrev / sdInc / Math.sqrt(2 * Math.PI);
  const first = prevScaled[0] as number;
  const last = prevScaled[n - 1] as number;
  const weighted: number[] = new Array(points.length);
  // Both grids are increasing, so the previous points within KERNEL_REACH increment SDs of an output point form a
  // window that only moves forward; terms outside it are below e^(−KERNEL_REACH²/2) of the largest.
  const reach = KERNEL_REACH * sdInc;
  let from = 0;
  let to = 0;
  for (let i = 0; i < points.length; i++) {
    const s = (points[i] as number) * sqrtT;
    while (from < n && (prevScaled[from] as number) < s - reach) from++;
    if (to < from) to = from;
    while (to < n && (prevScaled[to] as number) <= s + reach) to++;
    let sum = 0;
    let mass = 0;
    for (let j = from; j < to; j++) {
      const x = (s - (prevScaled[j] as number)) * inv;
      const k = Math.exp(-0.5 * x * x);
      sum += (prev.weighted[j] as number) * k;
      if (prevWeights) mass += (prevWeights[j] as number) * k;
    }
    let value = sum * scale * (weights[i] as number);
    if (prevWeights && mass > 0) {
      const exact = normalCdf((last - s) * inv) - normalCdf((first - s) * inv);
      value *= exact / (mass * kernelScale);
    }
    weighted[i] = value;
  }
  return { t, points, weighted };
}

/** P(not stopped before, and Z at fraction t ≥ b), with its derivative in b; `prev` null means the first look. */
export function upperCrossing(
  prev: SubDensity | null,
  t: number,
  drift: number,
  b: number,
): [number, number] {
  if (b === Number.POSITIVE_INFINITY) return [0, 0];
  if (prev === null) {
    const x = b - drift * Math.sqrt(t);
    return [normalSf(x), -normalPdf(x)];
  }
  const dt = t - prev.t;
  const sd = Math.sqrt(dt);
  const sqrtT = Math.sqrt(t);
  const sqrtPrev = Math.sqrt(prev.t);
  const shift = drift * dt;
  let p = 0;
  let dp = 0;
  for (let j = 0; j < prev.points.length; j++) {
    const x = (b * sqrtT - (prev.points[j] as number) * sqrtPrev - shift) / sd;
    const w = prev.weighted[j] as number;
    p += w * normalSf(x);
    dp -= w * normalPdf(x);
  }
  return [p, (dp * sqrtT) / sd];
}

/** P(not stopped before, and Z at fraction t ≤ a), with its derivative in a. */
export function lowerCrossing(
  prev: SubDensity | null,
  t: number,
  drift: number,
  a: number,
): [number, number] {
  if (a === Number.NEGATIVE_INFINITY) return [0, 0];
  if (prev === null) {
    const x = a - drift * Math.sqrt(t);
    return [normalCdf(x), normalPdf(x)];
  }
  const dt = t - prev.t;
  const sd = Math.sqrt(dt);
  const sqrtT = Math.sqrt(t);
  const sqrtPrev = Math.sqrt(prev.t);
  const shift = drift * dt;
  let p = 0;
  let dp = 0;
  for (let j = 0; j < prev.points.length; j++) {
    const x = (a * sqrtT - (prev.points[j] as number) * sqrtPrev - shift) / sd;
    const w = prev.weighted[j] as number;
    p += w * normalCdf(x);
    dp += w * normalPdf(x);
  }
  return [p, (dp * sqrtT) / sd];
}
