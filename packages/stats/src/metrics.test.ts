import { describe, expect, it } from 'vitest';
import { Rng } from '../sim/prng.ts';
import {
  type CohortStats,
  combineCohorts,
  estimateArm,
  forecastInformation,
  MIN_UNITS_PER_ARM_FOR_WEIGHTING,
  type SufficientStats,
} from './metrics.ts';
import { normalCdf, normalQuantile } from './normal.ts';

function statsOf(values: readonly number[]): SufficientStats {
  return {
    n: values.length,
    sumY: values.reduce((a, b) => a + b, 0),
    sumY2: values.reduce((a, b) => a + b * b, 0),
  };
}

describe('metric estimates from sufficient statistics', () => {
  it('proportion: raw p̂, variance from the smoothed rate p̃ = (x + 1)/(n + 2)', () => {
    const e = estimateArm('proportion', { n: 100, sumY: 20, sumY2: 20 });
    expect(e?.mean).toBe(0.2);
    const p = 21 / 102;
    expect(e?.variance).toBeCloseTo((p * (1 - p)) / 102, 15);
    // No events (or all events) still leaves a variance: the arm cannot look infinitely precise.
    expect(estimateArm('proportion', { n: 12, sumY: 0, sumY2: 0 })?.variance).toBeGreaterThan(0);
    expect(estimateArm('proportion', { n: 12, sumY: 12, sumY2: 12 })?.variance).toBeGreaterThan(0);
  });

  it('mean: the sample variance over n', () => {
    const e = estimateArm('mean', statsOf([1, 2, 3, 4]));
    expect(e?.mean).toBe(2.5);
    expect(e?.variance).toBeCloseTo(5 / 3 / 4, 15);
  });

  it('ratio: Σy/Σd with the delta-method variance', () => {
    const y = [1, 0, 3, 2];
    const d = [4, 2, 5, 5];
    const e = estimateArm('ratio', {
      ...statsOf(y),
      sumD: 16,
      sumD2: d.reduce((a, b) => a + b * b, 0),
      sumYD: y.reduce((a, v, i) => a + v * (d[i] as number), 0),
    });
    expect(e?.mean).toBe(6 / 16);
    expect(e?.variance).toBeGreaterThan(0);
  });

  it('an arm with fewer than 2 units contributes nothing', () => {
    expect(estimateArm('mean', statsOf([5]))).toBeNull();
    const combined = combineCohorts('mean', [
      { treatment: statsOf([100]), control: statsOf([1, 2, 3]) },
      { treatment: statsOf([2, 3, 4]), control: statsOf([1, 2, 3]) },
    ]);
    expect(combined?.cohortsUsed).toBe(1);
    expect(combined?.delta).toBeCloseTo(1, 12);
  });

  it('weights cohorts by inverse variance, removing a baseline shift between cohorts', () => {
    // Cohort 1 (small split, baseline 10) and cohort 2 (large split, baseline 20), same effect +1 in each.
    const c1 = { treatment: statsOf([10, 12, 11, 13]), control: statsOf([9, 11, 10, 12, 9, 11, 10, 12]) };
    const c2 = { treatment: statsOf([20, 22, 21, 23, 20, 22]), control: statsOf([19, 21, 20, 22, 19, 21]) };
    const combined = combineCohorts('mean', [c1, c2]);
    expect(combined?.delta).toBeCloseTo(1, 12);
    const pooledNaive =
      (c1.treatment.sumY + c2.treatment.sumY) / 10 - (c1.control.sumY + c2.control.sumY) / 14;
    expect(Math.abs(pooledNaive - 1)).toBeGreaterThan(1);
  });

  it('forecasts information additively over cohorts', () => {
    const info = forecastInformation(
      [
        { nTreatment: 100, nControl: 900 },
        { nTreatment: 500, nControl: 500 },
      ],
      { treatment: 4, control: 4 },
    );
    expect(info).toBeCloseTo(1 / (4 / 100 + 4 / 900) + 1 / (4 / 500 + 4 / 500), 9);
  });
});

function events(n: number, x: number): SufficientStats {
  return { n, sumY: x, sumY2: x };
}

/** Share of each cohort in a combination weighted by the known variance p(1 − p)(1/n_T + 1/n_C). */
function fairShares(cohorts: readonly CohortStats[]): number[] {
  const w = cohorts.map((c) => 1 / (1 / c.treatment.n + 1 / c.control.n));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** Largest one-sided z a rollback test can require at full information: the fixed-horizon α/G quantile. */
const LOWEST_ROLLBACK_Z = normalQuantile(1 - 0.05 / 6);

describe('small arms and rare events', () => {
  it('a holdback cohort whose small control arm has no events does not dominate the combination', () => {
    const p = 0.02;
    const healthy: CohortStats[] = [
      { treatment: events(10_000, 10_000 * p), control: events(990_000, 990_000 * p) },
      { treatment: events(100_000, 100_000 * p), control: events(100_000, 100_000 * p) },
    ];
    const holdback: CohortStats = { treatment: events(9_800, 9_800 * p), control: events(200, 0) };
    const base = combineCohorts('proportion', healthy);
    const all = combineCohorts('proportion', [...healthy, holdback]);
    if (base === null || all === null) throw new Error('cohorts must be usable');
    expect(base.delta).toBeCloseTo(0, 12);
    expect(Math.abs(all.delta)).toBeLessThan(2 * base.se);
    expect(all.delta / all.se).toBeLessThan(2);
    // The control crash rate shown to the user stays near the 2% every cohort had.
    expect(Math.abs(all.meanControl - p)).toBeLessThan(0.001);
    const fair = fairShares([...healthy, holdback]);
    all.cohortShares.forEach((share, i) => {
      expect(share).toBeLessThanOrEqual(1.1 * (fair[i] as number));
    });
  });

  it('a first look with 12 treated units and no events gives a modest z', () => {
    const proportion = combineCohorts('proportion', [
      { treatment: events(12, 0), control: events(1_200, 24) },
    ]);
    if (proportion === null) throw new Error('cohort must be usable');
    expect(proportion.delta).toBeCloseTo(-0.02, 12);
    // Lower-is-worse reading (a conversion rate): the harm z is −z, far from any rollback boundary.
    expect(Math.abs(proportion.delta / proportion.se)).toBeLessThan(1);
    // The same arms as a per-unit count (mean metric): the treated arm's variance is zero on its own.
    const count = combineCohorts('mean', [
      { treatment: events(12, 0), control: { n: 1_200, sumY: 24, sumY2: 24 } },
    ]);
    if (count === null) throw new Error('cohort must be usable');
    expect(Math.abs(count.delta / count.se)).toBeLessThan(LOWEST_ROLLBACK_Z);
  });

  it('a tiny cohort with an accidentally small variance cannot dominate a mean metric', () => {
    const big = (mean: number): SufficientStats => ({
      n: 10_000,
      sumY: 10_000 * mean,
      sumY2: 9_999 * 16 + 10_000 * mean * mean,
    });
    const tiny: CohortStats = {
      treatment: statsOf([15, 15.001, 15.002]),
      control: statsOf([10, 10.001, 10.002]),
    };
    const combined = combineCohorts('mean', [{ treatment: big(10), control: big(10) }, tiny]);
    if (combined === null) throw new Error('cohorts must be usable');
    expect(Math.abs(combined.delta / combined.se)).toBeLessThan(1);
    expect(combined.cohortShares[1]).toBeLessThan(0.001);
    expect(tiny.treatment.n).toBeLessThan(MIN_UNITS_PER_ARM_FOR_WEIGHTING);
  });

  it('A/A with a 2% holdback cohort keeps the one-sided z ≥ 2.4 rate at its nominal level', () => {
    const reps = 20_000;
    const p = 0.02;
    const critical = 2.4;
    const nominal = 1 - normalCdf(critical);
    const rng = new Rng(8_082);
    const arm = (n: number) => events(n, rng.binomial(n, p));
    let upper = 0;
    let lower = 0;
    for (let r = 0; r < reps; r++) {
      const e = combineCohorts('proportion', [
        { treatment: arm(20_000), control: arm(20_000) },
        { treatment: arm(9_800), control: arm(200) },
      ]);
      if (e === null) throw new Error('cohorts must be usable');
      const z = e.delta / e.se;
      if (z >= critical) upper++;
      if (z <= -critical) lower++;
    }
    const mcse = Math.sqrt((nominal * (1 - nominal)) / reps);
    expect(Math.abs(upper / reps - nominal)).toBeLessThan(3 * mcse);
    expect(Math.abs(lower / reps - nominal)).toBeLessThan(3 * mcse);
  });
});
