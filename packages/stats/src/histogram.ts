// A mergeable log-bucketed histogram ("sketch") for quantile metrics, kept as plain JSON data.
//
// A positive value x falls in bucket i = ⌈ln x / ln γ⌉, which covers (γ^(i−1), γ^i]. Every value of a bucket is
// within the relative accuracy α = (γ − 1)/(γ + 1) of the bucket's representative 2γ^i/(γ + 1), so a quantile read
// from the sketch is within α of the exact order statistic. With γ = 1.02, α = 0.990%.
//
// Values are tracked at full accuracy for magnitudes in [SKETCH_MIN_MAGNITUDE, SKETCH_MAX_MAGNITUDE] = [1e-9, 1e9]
// (18 orders of magnitude: nanoseconds to decades when the unit is seconds, microseconds to 11 days in ms).
// Smaller or larger magnitudes are counted in the extreme bucket (their rank is kept, their value is not), so the
// number of buckets is bounded: at most SKETCH_MAX_BUCKETS = 2,094 per sign. Zero is kept in an exact zero
// bucket; negative values in a mirrored store indexed by |x|. Only the occupied range of each store is kept, as an
// offset and a dense array of counts, so a latency metric spanning three orders of magnitude holds about 350
// numbers whatever its traffic.
//
// Order and ranks: the sketch orders negatives, zeros and positives as the real line does. The q-quantile is the
// lower order statistic x_(k) with k = ⌈q·n⌉ (1-based; k = 1 for q = 0), the smallest value whose empirical CDF
// reaches q (Hyndman–Fan type 1).

/** Bucket growth factor γ: a bucket covers (γ^(i−1), γ^i]. */
export const SKETCH_GAMMA = 1.02;
/** Relative accuracy α = (γ − 1)/(γ + 1) of every quantile read from a sketch, for magnitudes in the tracked range. */
export const SKETCH_RELATIVE_ACCURACY = (SKETCH_GAMMA - 1) / (SKETCH_GAMMA + 1);
/** Smallest magnitude tracked at full accuracy; smaller non-zero magnitudes count in the lowest bucket. */
export const SKETCH_MIN_MAGNITUDE = 1e-9;
/** Largest magnitude tracked at full accuracy; larger magnitudes count in the highest bucket. */
export const SKETCH_MAX_MAGNITUDE = 1e9;
/** ln γ, the width of a bucket on the log scale. */
export const SKETCH_LOG_GAMMA = Math.log(SKETCH_GAMMA);
/** Lowest bucket index (the bucket of SKETCH_MIN_MAGNITUDE). */
export const SKETCH_MIN_INDEX = Math.ceil(Math.log(SKETCH_MIN_MAGNITUDE) / SKETCH_LOG_GAMMA);
/** Highest bucket index (the bucket of SKETCH_MAX_MAGNITUDE). */
export const SKETCH_MAX_INDEX = Math.ceil(Math.log(SKETCH_MAX_MAGNITUDE) / SKETCH_LOG_GAMMA);
/** Upper bound on the buckets of one store (positive or negative): 2,094. */
export const SKETCH_MAX_BUCKETS = SKETCH_MAX_INDEX - SKETCH_MIN_INDEX + 1;

/** The occupied buckets of one sign: counts[j] is the count of bucket offset + j. */
export interface BucketStore {
  offset: number;
  counts: number[];
}

/** A mergeable histogram of values; plain JSON, store it per (cohort, arm, metric). */
export interface QuantileSketch {
  /** Number of values. */
  count: number;
  /** Sum of the values (exact, not bucketed). */
  sum: number;
  /** Values equal to zero. */
  zeroCount: number;
  /** Smallest and largest value added (bounds: a removal does not tighten them); null when nothing was added. */
  min: number | null;
  max: number | null;
  /** Values > 0, by bucket of x. */
  positive: BucketStore;
  /** Values < 0, by bucket of |x|. */
  negative: BucketStore;
}

/** An empty sketch. */
export function createSketch(): QuantileSketch {
  return {
    count: 0,
    sum: 0,
    zeroCount: 0,
    min: null,
    max: null,
    positive: { offset: 0, counts: [] },
    negative: { offset: 0, counts: [] },
  };
}

/** The bucket index of a magnitude > 0, clamped to [SKETCH_MIN_INDEX, SKETCH_MAX_INDEX]. */
export function sketchBucketIndex(magnitude: number): number {
  // + 0 turns the −0 of ⌈−tiny⌉ into 0, so equal sketches are equal as JSON and under deep equality.
  const i = Math.ceil(Math.log(magnitude) / SKETCH_LOG_GAMMA) + 0;
  return Math.max(SKETCH_MIN_INDEX, Math.min(SKETCH_MAX_INDEX, i));
}

/** Upper edge γ^i of bucket i (the bucket covers (γ^(i−1), γ^i]). */
export function bucketUpperBound(index: number): number {
  return Math.exp(index * SKETCH_LOG_GAMMA);
}

/** The value a bucket reports: 2γ^i/(γ + 1), within α of every magnitude in the bucket. */
export function bucketRepresentative(index: number): number {
  return (2 * bucketUpperBound(index)) / (SKETCH_GAMMA + 1);
}

function addToStore(store: BucketStore, index: number, count: number): void {
  const { counts } = store;
  if (counts.length === 0) {
    store.offset = index;
    counts.push(0);
  } else if (index < store.offset) {
    counts.unshift(...new Array<number>(store.offset - index).fill(0));
    store.offset = index;
  } else if (index >= store.offset + counts.length) {
    for (let j = store.offset + counts.length; j <= index; j++) counts.push(0);
  }
  const j = index - store.offset;
  const next = (counts[j] as number) + count;
  if (next < 0) throw new RangeError(`cannot remove a value the sketch does not hold (bucket ${index})`);
  counts[j] = next;
}

/**
 * Adds `count` copies of `value` (an integer; negative removes copies added before, e.g. when a unit's per-unit
 * value changes). Mutates the sketch in place: this is the ingestion path, one call per event or unit update.
 * Throws RangeError for a value that is not finite, a count that is not an integer, or a removal of a value the
 * sketch does not hold.
 */
export function addToSketch(sketch: QuantileSketch, value: number, count = 1): void {
  if (!Number.isFinite(value)) throw new RangeError(`value must be a finite number, got ${value}`);
  if (!Number.isInteger(count)) throw new RangeError(`count must be an integer, got ${count}`);
  if (count === 0) return;
  if (value === 0) {
    if (sketch.zeroCount + count < 0) throw new RangeError('cannot remove a zero the sketch does not hold');
    sketch.zeroCount += count;
  } else if (value > 0) addToStore(sketch.positive, sketchBucketIndex(value), count);
  else addToStore(sketch.negative, sketchBucketIndex(-value), count);
  sketch.count += count;
  sketch.sum += value * count;
  if (count > 0) {
    sketch.min = sketch.min === null || value < sketch.min ? value : sketch.min;
    sketch.max = sketch.max === null || value > sketch.max ? value : sketch.max;
  }
}

function mergeStores(a: BucketStore, b: BucketStore): BucketStore {
  const out: BucketStore = { offset: a.offset, counts: [...a.counts] };
  b.counts.forEach((c, j) => {
    if (c !== 0) addToStore(out, b.offset + j, c);
  });
  return out;
}

function extreme(a: number | null, b: number | null, pick: (x: number, y: number) => number): number | null {
  return a === null ? b : b === null ? a : pick(a, b);
}

/** The sketch of the union of two value sets (sums of counts per bucket); the inputs are not changed. */
export function mergeSketches(a: QuantileSketch, b: QuantileSketch): QuantileSketch {
  return {
    count: a.count + b.count,
    sum: a.sum + b.sum,
    zeroCount: a.zeroCount + b.zeroCount,
    min: extreme(a.min, b.min, Math.min),
    max: extreme(a.max, b.max, Math.max),
    positive: mergeStores(a.positive, b.positive),
    negative: mergeStores(a.negative, b.negative),
  };
}

/** Rank k = ⌈q·n⌉ of the lower order statistic that is the q-quantile of n values (1 ≤ k ≤ n; 0 when n = 0). */
export function quantileRank(q: number, n: number): number {
  if (n <= 0) return 0;
  // q·n is rounded up by floating point when it is an integer in exact arithmetic (0.99·100 = 99.00000000000001).
  const k = Math.ceil(q * n - 1e-9);
  return Math.max(1, Math.min(n, k));
}

/**
 * The value of rank k (1-based, ascending) as the sketch reports it: the representative of the bucket holding that
 * rank (0 for the zero bucket), clamped to [min, max]; within SKETCH_RELATIVE_ACCURACY of the exact x_(k).
 */
export function sketchValueAtRank(sketch: QuantileSketch, k: number): number {
  if (!(k >= 1 && k <= sketch.count)) return Number.NaN;
  let value = Number.NaN;
  let seen = 0;
  const neg = sketch.negative.counts;
  for (let j = neg.length - 1; j >= 0 && Number.isNaN(value); j--) {
    seen += neg[j] as number;
    if (seen >= k) value = -bucketRepresentative(sketch.negative.offset + j);
  }
  if (Number.isNaN(value)) {
    seen += sketch.zeroCount;
    if (seen >= k) value = 0;
  }
  const pos = sketch.positive.counts;
  for (let j = 0; j < pos.length && Number.isNaN(value); j++) {
    seen += pos[j] as number;
    if (seen >= k) value = bucketRepresentative(sketch.positive.offset + j);
  }
  if (sketch.min !== null && value < sketch.min) value = sketch.min;
  if (sketch.max !== null && value > sketch.max) value = sketch.max;
  return value;
}

/** The q-quantile (0 ≤ q ≤ 1) within SKETCH_RELATIVE_ACCURACY of the exact lower order statistic; NaN if empty. */
export function sketchQuantile(sketch: QuantileSketch, q: number): number {
  return sketchValueAtRank(sketch, quantileRank(q, sketch.count));
}

/** Mean of the values (exact: the sum is kept unbucketed); NaN if empty. */
export function sketchMean(sketch: QuantileSketch): number {
  return sketch.count > 0 ? sketch.sum / sketch.count : Number.NaN;
}

/** Result of parsing stored or received sketch data. */
export type SketchParseResult = { ok: true; value: QuantileSketch } | { ok: false; issues: string[] };

const SKETCH_KEYS = ['count', 'sum', 'zeroCount', 'min', 'max', 'positive', 'negative'];

function storeIssues(x: unknown, path: string): string[] {
  if (typeof x !== 'object' || x === null) return [`${path}: expected { offset, counts }`];
  const s = x as Record<string, unknown>;
  const issues = Object.keys(s)
    .filter((k) => k !== 'offset' && k !== 'counts')
    .map((k) => `${path}.${k}: unknown field`);
  if (!Number.isInteger(s.offset) || (s.offset as number) < SKETCH_MIN_INDEX)
    issues.push(`${path}.offset: expected an integer bucket index ≥ ${SKETCH_MIN_INDEX}`);
  if (!Array.isArray(s.counts)) issues.push(`${path}.counts: expected an array of counts`);
  else {
    if ((s.offset as number) + s.counts.length - 1 > SKETCH_MAX_INDEX)
      issues.push(`${path}.counts: buckets beyond index ${SKETCH_MAX_INDEX}`);
    s.counts.forEach((c, j) => {
      if (!Number.isInteger(c) || (c as number) < 0)
        issues.push(`${path}.counts[${j}]: expected a non-negative integer`);
    });
  }
  return issues;
}

function total(store: BucketStore): number {
  return store.counts.reduce((a, b) => a + b, 0);
}

/**
 * Checks data claiming to be a sketch (e.g. read back from storage): every field present, no unknown field,
 * counts non-negative integers that add up to `count`. Issues name the field and what was expected.
 */
export function parseSketch(x: unknown): SketchParseResult {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    return { ok: false, issues: ['sketch: expected an object'] };
  const s = x as Record<string, unknown>;
  const issues: string[] = [];
  for (const k of Object.keys(s)) if (!SKETCH_KEYS.includes(k)) issues.push(`sketch.${k}: unknown field`);
  for (const k of ['count', 'zeroCount'])
    if (!Number.isInteger(s[k]) || (s[k] as number) < 0)
      issues.push(`sketch.${k}: expected a non-negative integer`);
  if (typeof s.sum !== 'number' || !Number.isFinite(s.sum))
    issues.push('sketch.sum: expected a finite number');
  for (const k of ['min', 'max'])
    if (s[k] !== null && !(typeof s[k] === 'number' && Number.isFinite(s[k])))
      issues.push(`sketch.${k}: expected a finite number or null`);
  issues.push(...storeIssues(s.positive, 'sketch.positive'), ...storeIssues(s.negative, 'sketch.negative'));
  if (issues.length > 0) return { ok: false, issues };
  const value = x as QuantileSketch;
  const held = value.zeroCount + total(value.positive) + total(value.negative);
  if (held !== value.count)
    return {
      ok: false,
      issues: [`sketch.count: expected ${held}, the sum of the bucket counts, got ${value.count}`],
    };
  return { ok: true, value };
}
