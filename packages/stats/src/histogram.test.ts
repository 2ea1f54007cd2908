import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addToSketch,
  createSketch,
  mergeSketches,
  parseSketch,
  type QuantileSketch,
  quantileRank,
  SKETCH_MAX_BUCKETS,
  SKETCH_MAX_MAGNITUDE,
  SKETCH_MIN_MAGNITUDE,
  SKETCH_RELATIVE_ACCURACY,
  sketchMean,
  sketchQuantile,
} from './histogram.ts';

function sketchOf(values: readonly number[]): QuantileSketch {
  const s = createSketch();
  for (const v of values) addToSketch(s, v);
  return s;
}

/** The exact q-quantile: the lower order statistic x_(⌈q·n⌉) (1-based) of the sorted values. */
function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[quantileRank(q, sorted.length) - 1] as number;
}

/** Values spanning 9 orders of magnitude (1e-3 to 1e6), log-uniform. */
const wideValue = fc.double({ min: Math.log(1e-3), max: Math.log(1e6), noNaN: true }).map(Math.exp);
/** A small pool of values repeated many times (ties), with zeros. */
const tiedValues = fc
  .tuple(
    fc.array(wideValue, { minLength: 1, maxLength: 4 }),
    fc.array(fc.nat(4), { minLength: 1, maxLength: 300 }),
  )
  .map(([pool, picks]) => picks.map((i) => (i < pool.length ? (pool[i] as number) : 0)));
const adversarial = fc.oneof(
  fc.array(wideValue, { minLength: 1, maxLength: 400 }),
  tiedValues,
  fc.array(
    fc.oneof(
      wideValue,
      fc.constant(0),
      wideValue.map((x) => -x),
    ),
    { minLength: 1, maxLength: 400 },
  ),
  fc.array(fc.constant(0), { minLength: 1, maxLength: 50 }),
);
const level = fc.oneof(
  fc.constantFrom(0, 0.001, 0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1),
  fc.double({ min: 0, max: 1, noNaN: true }),
);
/** Floating-point slack on top of the stated accuracy (bucket edges are computed with exp and log). */
const FLOAT_SLACK = 1e-12;

describe('quantile sketch', () => {
  it('reads every quantile within the stated relative accuracy of the exact lower order statistic', () => {
    fc.assert(
      fc.property(adversarial, fc.array(level, { minLength: 1, maxLength: 8 }), (values, levels) => {
        const sketch = sketchOf(values);
        for (const q of levels) {
          const exact = exactQuantile(values, q);
          const got = sketchQuantile(sketch, q);
          expect(Math.abs(got - exact)).toBeLessThanOrEqual(
            (SKETCH_RELATIVE_ACCURACY + FLOAT_SLACK) * Math.abs(exact),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('states an accuracy of at most 1%', () => {
    expect(SKETCH_RELATIVE_ACCURACY).toBeLessThanOrEqual(0.01);
    expect(SKETCH_RELATIVE_ACCURACY).toBeCloseTo(0.0099, 4);
  });

  it('merges to the sketch of the union, in any order', () => {
    fc.assert(
      fc.property(adversarial, adversarial, (a, b) => {
        const merged = mergeSketches(sketchOf(a), sketchOf(b));
        const whole = sketchOf([...a, ...b]);
        expect(merged.positive).toEqual(whole.positive);
        expect(merged.negative).toEqual(whole.negative);
        expect(merged.zeroCount).toBe(whole.zeroCount);
        expect(merged.count).toBe(whole.count);
        expect(merged.min).toBe(whole.min);
        expect(merged.max).toBe(whole.max);
        expect(merged.sum).toBeCloseTo(whole.sum, 6);
        expect(mergeSketches(sketchOf(b), sketchOf(a)).positive).toEqual(whole.positive);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps count, exact sum and mean', () => {
    const s = sketchOf([0, 1.5, 2.5, 1000]);
    expect(s.count).toBe(4);
    expect(s.sum).toBe(1004);
    expect(sketchMean(s)).toBe(251);
    expect(sketchMean(createSketch())).toBeNaN();
    expect(sketchQuantile(createSketch(), 0.5)).toBeNaN();
  });

  it('removes a value added before (a unit whose per-unit value changed) and refuses one it does not hold', () => {
    const s = sketchOf([3, 7, 7]);
    addToSketch(s, 7, -1);
    addToSketch(s, 9);
    expect(s.count).toBe(3);
    expect(sketchQuantile(s, 1)).toBeCloseTo(9, 0);
    expect(() => addToSketch(s, 1e-6, -1)).toThrow(RangeError);
    expect(() => addToSketch(s, 0, -1)).toThrow(/zero/);
    expect(() => addToSketch(s, Number.NaN)).toThrow(/finite/);
    expect(() => addToSketch(s, 1, 0.5)).toThrow(/integer/);
  });

  it('bounds the buckets whatever the values, keeping the rank of values outside the tracked range', () => {
    const s = sketchOf([1e-300, SKETCH_MIN_MAGNITUDE, 1, SKETCH_MAX_MAGNITUDE, 1e300, -1e300, -1e-300]);
    expect(s.positive.counts.length).toBeLessThanOrEqual(SKETCH_MAX_BUCKETS);
    expect(s.negative.counts.length).toBeLessThanOrEqual(SKETCH_MAX_BUCKETS);
    expect(SKETCH_MAX_BUCKETS).toBe(2094);
    expect(sketchQuantile(s, 0)).toBeLessThan(-1e8);
    expect(sketchQuantile(s, 5 / 7)).toBeCloseTo(1, 1);
  });

  it('round-trips through JSON and rejects malformed data naming the field', () => {
    const s = sketchOf([0, 0.2, 5, -3, 400]);
    const parsed = parseSketch(JSON.parse(JSON.stringify(s)));
    expect(parsed).toEqual({ ok: true, value: s });
    const bad = parseSketch({ ...s, count: 4, extra: 1, positive: { offset: 0, counts: [-1] } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.issues).toContain('sketch.extra: unknown field');
      expect(bad.issues).toContain('sketch.positive.counts[0]: expected a non-negative integer');
    }
    const miscounted = parseSketch({ ...s, count: 9 });
    expect(miscounted.ok).toBe(false);
    if (!miscounted.ok) expect(miscounted.issues[0]).toMatch(/^sketch\.count: expected 5/);
    expect(parseSketch(null)).toEqual({ ok: false, issues: ['sketch: expected an object'] });
  });
});
