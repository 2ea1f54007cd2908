import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anscombeArcsine,
  anscombeVariance,
  effectiveUnits,
  gatingStatistic,
  hallTransform,
  minimumInformation,
} from './gating.ts';
import { type CohortStats, combineCohorts, type SufficientStats } from './metrics.ts';

/** Sufficient statistics of explicit per-unit values (y, and d for ratio metrics). */
function statsOf(units: readonly { y: number; d?: number }[]): SufficientStats {
  const s: SufficientStats = { n: 0, sumY: 0, sumY2: 0, sumY3: 0 };
  for (const { y, d } of units) {
    s.n++;
    s.sumY += y;
    s.sumY2 += y * y;
    s.sumY3 = (s.sumY3 ?? 0) + y ** 3;
    if (d !== undefined) {
      s.sumD = (s.sumD ?? 0) + d;
      s.sumD2 = (s.sumD2 ?? 0) + d * d;
      s.sumYD = (s.sumYD ?? 0) + y * d;
      s.sumY2D = (s.sumY2D ?? 0) + y * y * d;
      s.sumYD2 = (s.sumYD2 ?? 0) + y * d * d;
      s.sumD3 = (s.sumD3 ?? 0) + d ** 3;
    }
  }
  return s;
}

function skewnessOf(values: readonly number[]): number {
  const n = values.length;
  const m = values.reduce((a, x) => a + x, 0) / n;
  const m2 = values.reduce((a, x) => a + (x - m) ** 2, 0) / n;
  const m3 = values.reduce((a, x) => a + (x - m) ** 3, 0) / n;
  // The gating code uses the n − 1 variance; match it.
  return m3 / ((m2 * n) / (n - 1)) ** 1.5;
}

describe('information on the sample-size scale', () => {
  it('is Σ n_T·n_C/(n_T + n_C) over cohorts whose arms both have 2 units', () => {
    const cohorts: CohortStats[] = [
      { treatment: { n: 100, sumY: 0, sumY2: 0 }, control: { n: 9_900, sumY: 0, sumY2: 0 } },
      { treatment: { n: 1_000, sumY: 0, sumY2: 0 }, control: { n: 1_000, sumY: 0, sumY2: 0 } },
      { treatment: { n: 1, sumY: 0, sumY2: 0 }, control: { n: 50, sumY: 0, sumY2: 0 } },
    ];
    expect(effectiveUnits(cohorts)).toBeCloseTo(99 + 500, 10);
  });

  it('never falls when units arrive, whatever their outcomes', () => {
    const arm = fc.record({ n: fc.integer({ min: 0, max: 1e6 }), add: fc.integer({ min: 0, max: 1e5 }) });
    fc.assert(
      fc.property(fc.array(fc.record({ t: arm, c: arm }), { minLength: 1, maxLength: 4 }), (spec) => {
        const before = spec.map((x) => ({
          treatment: { n: x.t.n, sumY: 0, sumY2: 0 },
          control: { n: x.c.n, sumY: 0, sumY2: 0 },
        }));
        const after = spec.map((x) => ({
          treatment: { n: x.t.n + x.t.add, sumY: 1e9, sumY2: 1e18 },
          control: { n: x.c.n + x.c.add, sumY: 0, sumY2: 0 },
        }));
        expect(effectiveUnits(after)).toBeGreaterThanOrEqual(effectiveUnits(before));
      }),
    );
  });
});

describe('Hall’s skew correction', () => {
  it('is the identity without skewness and monotone in z for any skewness', () => {
    expect(hallTransform(2.5, 0)).toBe(2.5);
    fc.assert(
      fc.property(
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -8, max: 8, noNaN: true }),
        fc.double({ min: 0, max: 4, noNaN: true }),
        (g, z, step) => {
          expect(hallTransform(z + step, g)).toBeGreaterThanOrEqual(hallTransform(z, g) - 1e-12);
        },
      ),
    );
  });

  it('pulls in the lower tail of a right-skewed difference: g(−3.3) at γ = 0.18 is −2.660', () => {
    expect(hallTransform(-3.3, 0.18)).toBeCloseTo(
      -3.3 + 0.06 * 3.3 ** 2 - (0.06 ** 2 * 3.3 ** 3) / 3 + 0.03,
      12,
    );
    expect(hallTransform(-3.3, 0.18)).toBeCloseTo(-2.6597, 4);
  });
});

describe('gating statistic', () => {
  it('uses Anscombe’s arcsine difference for proportions, combined by inverse variance', () => {
    const cohorts: CohortStats[] = [
      { treatment: { n: 10_000, sumY: 25, sumY2: 25 }, control: { n: 990_000, sumY: 990, sumY2: 990 } },
      { treatment: { n: 50_000, sumY: 70, sumY2: 70 }, control: { n: 450_000, sumY: 450, sumY2: 450 } },
    ];
    const estimate = combineCohorts('proportion', cohorts);
    if (estimate === null) throw new Error('unusable');
    const g = gatingStatistic({ kind: 'proportion', cohorts, estimate, direction: 'higher_is_worse' });
    let sw = 0;
    let swd = 0;
    for (const c of cohorts) {
      const w = 1 / (anscombeVariance(c.treatment.n) + anscombeVariance(c.control.n));
      sw += w;
      swd +=
        w * (anscombeArcsine(c.treatment.sumY, c.treatment.n) - anscombeArcsine(c.control.sumY, c.control.n));
    }
    expect(g.method).toBe('arcsine');
    expect(g.zHarm).toBeCloseTo(swd / Math.sqrt(sw), 12);
    const lower = gatingStatistic({ kind: 'proportion', cohorts, estimate, direction: 'lower_is_worse' });
    expect(lower.zHarm).toBeCloseTo(-g.zHarm, 12);
  });

  it('maps a proportion margin onto the arcsine scale at each cohort’s control rate', () => {
    const cohorts: CohortStats[] = [
      { treatment: { n: 1e6, sumY: 2e4, sumY2: 2e4 }, control: { n: 1e6, sumY: 2e4, sumY2: 2e4 } },
    ];
    const estimate = combineCohorts('proportion', cohorts);
    if (estimate === null) throw new Error('unusable');
    const theta = 0.001;
    const g = gatingStatistic({
      kind: 'proportion',
      cohorts,
      estimate,
      direction: 'higher_is_worse',
      absoluteMargin: theta,
    });
    const p = (2e4 + 3 / 8) / (1e6 + 3 / 4);
    const margin = Math.asin(Math.sqrt(p + theta)) - Math.asin(Math.sqrt(p));
    const w = 1 / (2 * anscombeVariance(1e6));
    expect(g.zNonInferiority).toBeCloseTo(margin * Math.sqrt(w), 10);
  });

  it('reads a ratio metric’s skewness from its third-order sums (the linearised per-unit values)', () => {
    const control = Array.from({ length: 400 }, (_, i) => ({
      y: (i % 7 === 0 ? 3 : 0) + (i % 3),
      d: 5 + (i % 4),
    }));
    const treatment = control.slice(0, 200);
    const cohorts: CohortStats[] = [{ treatment: statsOf(treatment), control: statsOf(control) }];
    const estimate = combineCohorts('ratio', cohorts);
    if (estimate === null) throw new Error('unusable');
    const g = gatingStatistic({ kind: 'ratio', cohorts, estimate, direction: 'higher_is_worse' });
    const r = control.reduce((a, u) => a + u.y, 0) / control.reduce((a, u) => a + u.d, 0);
    expect(g.controlUnitSkewness).toBeCloseTo(skewnessOf(control.map((u) => u.y - r * u.d)), 8);
    expect(g.method).toBe('skew-corrected');
  });

  it('falls back to the plain z, and 100 units, when a cohort has no sums of cubes', () => {
    const withCubes = statsOf(Array.from({ length: 300 }, (_, i) => ({ y: i % 10 === 0 ? 50 : 1 })));
    const { sumY3: _dropped, ...without } = withCubes;
    const cohorts: CohortStats[] = [{ treatment: without, control: withCubes }];
    const estimate = combineCohorts('mean', cohorts);
    if (estimate === null) throw new Error('unusable');
    const g = gatingStatistic({ kind: 'mean', cohorts, estimate, direction: 'lower_is_worse' });
    expect(g.method).toBe('wald');
    expect(g.zHarm).toBeCloseTo(-estimate.delta / estimate.se, 12);
    // The control arm has its cubes, so the minimum still follows Cochran's rule.
    expect(minimumInformation('mean', cohorts).minimum.rule).toBe('cochran');
    const bare: CohortStats[] = [{ treatment: without, control: without }];
    expect(minimumInformation('mean', bare).minimum).toMatchObject({
      rule: 'skewness_unknown',
      required: 100,
      met: true,
    });
  });
});
