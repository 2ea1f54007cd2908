import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BoundaryState,
  boundariesOf,
  createBoundaryState,
  extendBoundaries,
  groupSequentialBoundaries,
  unspentAlpha,
} from './boundaries.ts';
import { crossingProbabilities } from './design.ts';
import { type Spending, spendAlpha } from './spending.ts';

const sixtyLooks = Array.from({ length: 60 }, (_, i) => ((i + 1) / 60) ** 1.5);
const design = { alpha: 0.0125, spending: { kind: 'power', rho: 0.5 } } as const;

function sameBits(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

describe('group-sequential boundaries', () => {
  it('gives bit-identical boundaries for identical inputs', () => {
    const a = groupSequentialBoundaries({ ...design, informationFractions: sixtyLooks });
    const b = groupSequentialBoundaries({ ...design, informationFractions: sixtyLooks });
    expect(sameBits(a, b)).toBe(true);
  });

  it('resumes from a JSON-stored state with the same bits as a computation from scratch', () => {
    const scratch = groupSequentialBoundaries({ ...design, informationFractions: sixtyLooks });
    let state = createBoundaryState(design);
    const resumed: number[] = [];
    for (const t of sixtyLooks) {
      state = JSON.parse(JSON.stringify(state)) as BoundaryState;
      const next = extendBoundaries(state, t);
      resumed.push(next.boundary);
      state = next.state;
    }
    expect(sameBits(resumed, scratch)).toBe(true);
    expect(sameBits(boundariesOf(state), scratch)).toBe(true);
  });

  it('does not modify the state it extends', () => {
    const state = createBoundaryState(design);
    const before = JSON.stringify(state);
    extendBoundaries(state, 0.3);
    expect(JSON.stringify(state)).toBe(before);
  });

  it('spends exactly the planned α under H0', () => {
    const t = [0.005, 0.05, 0.2, 0.4, 0.7, 1];
    const upper = groupSequentialBoundaries({ ...design, informationFractions: t });
    const p = crossingProbabilities({ upper, informationFractions: t, drift: 0 });
    expect(p.totalUpper).toBeCloseTo(design.alpha, 9);
    expect(p.upper[0]).toBeCloseTo(design.alpha * Math.sqrt(0.005), 12);
  });

  it('returns +∞ where no α can be spent: too early for O’Brien–Fleming, no new information, α exhausted', () => {
    const b = groupSequentialBoundaries({
      alpha: 0.05,
      spending: { kind: 'obrien-fleming' },
      informationFractions: [0.0005, 0.3, 0.3, 1, 1.2],
    });
    expect(b[0]).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isFinite(b[1])).toBe(true);
    expect(b[2]).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isFinite(b[3])).toBe(true);
    expect(b[4]).toBe(Number.POSITIVE_INFINITY);
  });

  it('keeps the unspent α for the overrun hand-over', () => {
    let state = createBoundaryState(design);
    state = extendBoundaries(state, 0.25).state;
    expect(unspentAlpha(state)).toBeCloseTo(design.alpha * (1 - Math.sqrt(0.25)), 15);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('two-sided boundaries are symmetric and spend α over both tails', () => {
    const t = [0.25, 0.5, 0.75, 1];
    const upper = groupSequentialBoundaries({
      alpha: 0.05,
      spending: { kind: 'pocock' },
      sides: 2,
      informationFractions: t,
    });
    const p = crossingProbabilities({
      upper,
      lower: upper.map((x) => -x),
      informationFractions: t,
      drift: 0,
    });
    expect(p.totalUpper).toBeCloseTo(0.025, 9);
    expect(p.totalLower).toBeCloseTo(0.025, 9);
  });

  it('spends α within 1e-7 of the spending function at every look, also for looks 1–2% apart', () => {
    const gap = fc.oneof(
      fc.double({ min: 1.0101, max: 1.02, noNaN: true }),
      fc.double({ min: 1.1, max: 3, noNaN: true }),
    );
    fc.assert(
      fc.property(
        fc.double({ min: 0.002, max: 0.2, noNaN: true }),
        fc.array(gap, { minLength: 4, maxLength: 7 }),
        fc.constantFrom(0.05 / 6, 0.05),
        fc.constantFrom<Spending>(
          { kind: 'power', rho: 0.5 },
          { kind: 'power', rho: 2 },
          { kind: 'obrien-fleming' },
        ),
        (start, gaps, alpha, spending) => {
          const t = [start];
          for (const g of gaps) t.push(Math.min(1, (t[t.length - 1] as number) * g));
          const fractions = t.filter((x, i) => i === 0 || x > (t[i - 1] as number) * 1.0101);
          const upper = groupSequentialBoundaries({ alpha, spending, informationFractions: fractions });
          expect(upper.every((b) => b > 0)).toBe(true);
          // The reference integrates the same boundaries on a grid twice as fine.
          const p = crossingProbabilities({
            upper,
            informationFractions: fractions,
            drift: 0,
            gridResolution: 128,
          });
          fractions.forEach((x, k) => {
            expect(Math.abs((p.cumulativeUpper[k] as number) - spendAlpha(spending, alpha, x))).toBeLessThan(
              1e-7,
            );
          });
        },
      ),
      { numRuns: 12, seed: 20_261_203 },
    );
  });

  it('stays exact over hundreds of looks 1.2% apart (a look every few minutes), where the recursion used to diverge', () => {
    const t: number[] = [];
    for (let x = 0.005; x < 1; x *= 1.012) t.push(x);
    const alpha = 0.05 / 6;
    const spending: Spending = { kind: 'power', rho: 0.5 };
    const upper = groupSequentialBoundaries({ alpha, spending, informationFractions: t });
    expect(Math.max(...upper)).toBeLessThan(4);
    const p = crossingProbabilities({ upper, informationFractions: t, drift: 0 });
    t.forEach((x, k) => {
      expect(Math.abs((p.cumulativeUpper[k] as number) - spendAlpha(spending, alpha, x))).toBeLessThan(1e-7);
    });
    // About 440 looks through the recursion twice: seconds of CPU, so a longer timeout on a busy machine.
  }, 60_000);

  it('skips a look adding under 1% over the last look that spent, and spends the waiting α at the next', () => {
    let state = createBoundaryState(design);
    state = extendBoundaries(state, 0.2).state;
    const small = extendBoundaries(state, 0.2019);
    expect(small.skipped).toBe(true);
    expect(small.boundary).toBe(Number.POSITIVE_INFINITY);
    expect(small.state.looks[1]).toMatchObject({ boundary: null, skipped: true });
    expect(small.state.spentAlpha).toBe(state.spentAlpha);
    const next = extendBoundaries(small.state, 0.2021);
    expect(next.skipped).toBe(false);
    expect(Number.isFinite(next.boundary)).toBe(true);
    expect(next.state.spentAlpha).toBeCloseTo(design.alpha * Math.sqrt(0.2021), 15);
  });
});
