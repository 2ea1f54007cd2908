import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileConfig } from './compile.ts';
import { evaluate } from './evaluate.ts';
import { bucket } from './hash.ts';
import { BUCKET_COUNT, type SnapshotFlag, type SplitSlice } from './model.ts';
import { bucketsToReach, reachToBuckets } from './reach.ts';

const SAMPLE_SIZE = 200_000;
const ids = Array.from({ length: SAMPLE_SIZE }, (_, i) => `user-${i}`);
const SHARE_TOLERANCE = 0.005; // 0.5 percentage points
const OVERLAP_TOLERANCE = 0.002; // 0.2 percentage points

/** A boolean flag with one rollout rule: treatment [0, reach), control [reach, BUCKET_COUNT). */
function rolloutFlag(salt: string, reachBuckets: number): SnapshotFlag {
  const split: SplitSlice[] = [];
  if (reachBuckets > 0) split.push({ variant: 'on', range: [0, reachBuckets], arm: 'treatment' });
  if (reachBuckets < BUCKET_COUNT)
    split.push({ variant: 'off', range: [reachBuckets, BUCKET_COUNT], arm: 'control' });
  return {
    key: 'f',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt,
    hashVersion: 1,
    enabled: true,
    rules: [{ id: 'ro', rollout: 'ro_1', serve: { split } }],
  };
}

function treated(salt: string, reachBuckets: number, units: readonly string[]): Set<string> {
  const c = compileConfig({
    environment: 'e',
    version: 1,
    flags: [rolloutFlag(salt, reachBuckets)],
    segments: [],
  });
  const out = new Set<string>();
  for (const unit of units) {
    const r = evaluate(c, 'f', { targetingKey: unit });
    if (r.reason !== 'SPLIT') throw new Error(`unexpected ${JSON.stringify(r)}`);
    if (r.arm === 'treatment') out.add(unit);
  }
  return out;
}

const saltArb = fc.string({ minLength: 1, maxLength: 24 });
const reachArb = fc.integer({ min: 0, max: BUCKET_COUNT });
const unitsArb = fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), {
  minLength: 1,
  maxLength: 300,
});

describe('assignment properties', () => {
  it('raising reach never removes a unit from treatment', () => {
    fc.assert(
      fc.property(saltArb, reachArb, reachArb, unitsArb, (salt, a, b, units) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const before = treated(salt, low, units);
        const after = treated(salt, high, units);
        for (const unit of before) if (!after.has(unit)) return false;
        return true;
      }),
      { numRuns: 100 },
    );
  });

  it('lowering reach to 0 and raising it back returns the same units', () => {
    fc.assert(
      fc.property(saltArb, reachArb, unitsArb, (salt, reach, units) => {
        const first = treated(salt, reach, units);
        expect(treated(salt, 0, units).size).toBe(0);
        const again = treated(salt, reach, units);
        expect([...again].sort()).toEqual([...first].sort());
      }),
      { numRuns: 50 },
    );
  });

  it(`keeps variant shares within 0.5 points of the split over ${SAMPLE_SIZE} ids`, () => {
    fc.assert(
      fc.property(
        saltArb,
        fc.uniqueArray(fc.integer({ min: 1, max: BUCKET_COUNT - 1 }), { minLength: 1, maxLength: 3 }),
        (salt, cuts) => {
          const bounds = [0, ...cuts.sort((x, y) => x - y), BUCKET_COUNT];
          const counts = new Array<number>(bounds.length - 1).fill(0);
          for (const id of ids) {
            const b = bucket(salt, id);
            const slot = bounds.findIndex((_, i) => i > 0 && b < (bounds[i] as number)) - 1;
            counts[slot] = (counts[slot] as number) + 1;
          }
          counts.forEach((count, i) => {
            const expected = ((bounds[i + 1] as number) - (bounds[i] as number)) / BUCKET_COUNT;
            expect(Math.abs(count / SAMPLE_SIZE - expected)).toBeLessThan(SHARE_TOLERANCE);
          });
        },
      ),
      { numRuns: 3 },
    );
  });

  it('keeps two flags with different salts independent (overlap of two 10% rollouts is 1% ± 0.2 points)', () => {
    const ten = reachToBuckets(10);
    fc.assert(
      fc.property(saltArb, saltArb, (s1, s2) => {
        fc.pre(s1 !== s2);
        let both = 0;
        for (const id of ids) if (bucket(s1, id) < ten && bucket(s2, id) < ten) both++;
        expect(Math.abs(both / SAMPLE_SIZE - 0.01)).toBeLessThan(OVERLAP_TOLERANCE);
      }),
      { numRuns: 3 },
    );
  });
});

describe('reach helpers', () => {
  it('converts percent with up to four decimals to buckets and back', () => {
    expect(reachToBuckets(1)).toBe(10_000);
    expect(reachToBuckets(0.0001)).toBe(1);
    expect(reachToBuckets(12.3456)).toBe(123_456);
    expect(reachToBuckets(100)).toBe(BUCKET_COUNT);
    fc.assert(fc.property(reachArb, (b) => reachToBuckets(bucketsToReach(b)) === b));
  });

  it('refuses reach outside [0, 100] or with more than four decimals', () => {
    for (const bad of [-1, 100.5, Number.NaN, 0.00001, 1.23456])
      expect(() => reachToBuckets(bad)).toThrow(RangeError);
  });
});
